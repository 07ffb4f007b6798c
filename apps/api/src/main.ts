// `npm run api`: one API process, or API_PROCESSES of them sharing the port (node:cluster).
//
//   start      configuration from the environment (fails fast naming a bad variable), the
//              database (migrated, as a worker started alongside may not have yet), the
//              API_BOOTSTRAP_KEY admin key, the queue backend (no maintenance: workers run it),
//              then the HTTP server. In cluster mode the primary migrates and ensures the key
//              once, then forks the processes that serve, and forks again any that dies.
//   serving    a database that goes away makes requests answer 503 and /readyz fail; both
//              recover by themselves when it returns (the pool reconnects).
//   stopping   SIGINT/SIGTERM: stop accepting connections, let requests finish (event streams
//              are cut after a grace period, their clients reconnect elsewhere), then close the
//              queue and the pool. A second signal exits at once.
// First, before the other modules load: V8 flags that keep the heap near its live size.
import './set-v8-flags.ts';
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { type Config, ConfigError, loadConfig, redactUrl } from '@offload/config';
import {
  createDb,
  type Db,
  deploymentCursorSecret,
  migrateLatest,
  setDefaultCursorSecret,
} from '@offload/db';
import { jobDefaultsOf } from '@offload/jobs';
import { createLogger, type Logger } from '@offload/observability';
import { createQueueBackend, Queue } from '@offload/queue';
import { ensureBootstrapKey } from './api-keys.ts';
import { createApp } from './app.ts';
import { createApiServices } from './services.ts';
import { type ApiSettings, loadApiSettings } from './settings.ts';

const STREAM_GRACE_MS = 5000;
const STOP_TIMEOUT_MS = 15_000;
// A terminal's Ctrl-C on `npm run api` reaches this process and the script runner, which passes
// it on: signals this close to the first are that same request, a later one stops at once.
const SAME_REQUEST_MS = 1000;
const QUEUE_SAMPLE_MS = 15_000;
const QUEUE_RECONNECT_TIMEOUT_MS = 5000;

const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

async function main(): Promise<void> {
  const config = loadConfig();
  const settings = loadApiSettings(process.env);
  const logger = createLogger({ level: config.logLevel, service: 'api' });
  if (config.apiProcesses > 1 && cluster.isPrimary) {
    await runPrimary(config, logger);
    return;
  }
  await serve(config, settings, logger, cluster.isPrimary);
}

/** Database set-up that must happen once per start, before any request. */
async function prepareDatabase(config: Config, db: Db, logger: Logger): Promise<void> {
  const applied = await migrateLatest(db);
  if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
  if (config.apiBootstrapKey !== undefined) {
    await ensureBootstrapKey(db, config.apiBootstrapKey);
    logger.info('bootstrap admin key ensured (API_BOOTSTRAP_KEY)');
  }
}

async function runPrimary(config: Config, logger: Logger): Promise<void> {
  const db = createDb({ databaseUrl: config.databaseUrl, poolMax: 2 });
  try {
    await prepareDatabase(config, db, logger);
  } finally {
    await db.destroy();
  }
  let stopping = false;
  let stoppingAt = 0;
  const fork = () => cluster.fork();
  for (let i = 0; i < config.apiProcesses; i += 1) fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    logger.error({ pid: worker.process.pid, code, signal }, 'api process died; starting another');
    fork();
  });
  logger.info({ processes: config.apiProcesses, port: config.port }, 'api cluster started');
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      if (Date.now() - stoppingAt < SAME_REQUEST_MS) return;
      process.exit(1);
    }
    stopping = true;
    stoppingAt = Date.now();
    logger.info({ signal }, 'api cluster stopping');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    setTimeout(() => process.exit(1), STOP_TIMEOUT_MS + 1000).unref();
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function serve(config: Config, settings: ApiSettings, logger: Logger, prepare: boolean): Promise<void> {
  const db = createDb({ databaseUrl: config.databaseUrl, poolMax: config.databasePoolMax });
  if (prepare) await prepareDatabase(config, db, logger);
  // Every list's cursors (the queue's, the API's scope on them, the database's keyset cursors) are
  // signed with it, by @offload/db's one CursorSigner.
  const cursorSecret = await deploymentCursorSecret(db, config.cursorSecret);
  setDefaultCursorSecret(cursorSecret);
  const backend = await createQueueBackend(config.databaseUrl, {
    defaults: jobDefaultsOf,
    cursorSecret,
    pgboss: {
      // A request should not wait out the default minute of reconnecting: answer 503 sooner.
      reconnectTimeoutMs: QUEUE_RECONNECT_TIMEOUT_MS,
      onError: (error: Error, context: string) => logger.warn({ err: error, context }, 'queue backend error'),
    },
  });
  await backend.start({ maintenance: false });
  const queue = new Queue(backend);

  const services = createApiServices({
    db,
    queue,
    logger,
    cursorSecret,
    settings,
    defaultMetrics: true,
    cache: {
      ttlSeconds: config.cacheTtlSeconds,
      ttlByFamily: config.cacheTtlByFamily,
      versionCheckMs: config.cacheVersionCheckMs,
    },
    options: {
      slowRequestMs: config.logSlowRequestMs,
      version,
      startedAt: Date.now(),
      maxUploadBytes: config.maxUploadBytes,
      runAtHorizonDays: config.jobRunAtHorizonDays,
    },
  });
  services.queueStats.start(QUEUE_SAMPLE_MS, (error) =>
    logger.debug({ err: error }, 'queue statistics sample failed'),
  );
  await services.cache.ready();
  const app = createApp(services);
  const server: Server = app.listen(config.port, () => {
    logger.info(
      {
        port: config.port,
        dialect: db.dialect,
        queue: backend.name,
        database: redactUrl(config.databaseUrl),
      },
      'api listening',
    );
  });
  server.on('error', (error) => {
    logger.fatal({ err: error }, 'api server error');
    process.exit(1);
  });

  let stopping = false;
  let stoppingAt = 0;
  const stop = (signal: string): void => {
    if (stopping) {
      if (Date.now() - stoppingAt < SAME_REQUEST_MS) return;
      process.exit(1);
    }
    stopping = true;
    stoppingAt = Date.now();
    logger.info({ signal }, 'api stopping');
    server.close(() => {
      services.close();
      Promise.allSettled([backend.stop()])
        .then(() => db.destroy())
        .then(
          () => process.exit(0),
          () => process.exit(1),
        );
    });
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), STREAM_GRACE_MS).unref();
    setTimeout(() => process.exit(1), STOP_TIMEOUT_MS).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`configuration error: ${error.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`api failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
