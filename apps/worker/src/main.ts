// `npm run worker`: one worker process. It claims and runs jobs of every catalog kind and
// serves only its own health and metrics port (WORKER_PORT). The first SIGINT/SIGTERM stops
// claiming and drains running jobs for WORKER_SHUTDOWN_TIMEOUT_MS, releases what is left to
// other workers, then exits 0; a second signal exits at once (leases then bring the jobs back).
// Signals within SAME_REQUEST_MS of the first are that same request: a terminal's Ctrl-C on
// `npm run worker` reaches this process and the script runner, which passes it on again.
// First, before the other modules load: V8 flags that keep a long import's heap near its live size.
import '@offload/imports/set-worker-v8-flags';
import { ConfigError, loadConfig } from '@offload/config';
import { jobKindNames } from '@offload/jobs';
import { createLogger } from '@offload/observability';
import { loadCollectSettings } from './collect/settings.ts';
import { loadHealthSettings } from './model-health/settings.ts';
import { loadWorkerSettings } from './settings.ts';
import { startWorkerProcess } from './worker-process.ts';

// Past the drain timeout, closing connections and threads should take moments; this bounds it.
const CLOSE_GRACE_MS = 10_000;
// A person presses Ctrl-C again after seconds; copies of one press arrive within milliseconds.
const SAME_REQUEST_MS = 1000;

async function main(): Promise<void> {
  const config = loadConfig();
  const settings = loadWorkerSettings(process.env, jobKindNames());
  const logger = createLogger({ level: config.logLevel, service: 'worker' });
  const health = loadHealthSettings(process.env);
  const collect = loadCollectSettings(process.env);
  const worker = await startWorkerProcess({ config, settings, logger, health, collect });

  let signalledAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalledAt !== undefined) {
      if (Date.now() - signalledAt < SAME_REQUEST_MS) return;
      logger.warn({ signal }, 'second signal: exiting without waiting for running jobs');
      process.exit(1);
    }
    signalledAt = Date.now();
    logger.info({ signal }, 'signal received');
    setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, settings.shutdownTimeoutMs + CLOSE_GRACE_MS).unref();
    worker.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`configuration error: ${error.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`worker failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
