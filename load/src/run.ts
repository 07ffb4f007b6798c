// `npm run load`: the load test. It walks through:
//
//   database   DATABASE_URL when set, otherwise a database it creates (--db) and deletes after;
//              migrated and seeded with --models models when empty (./database.ts)
//   stack      one worker and one API (--api-processes for cluster mode) on free loopback
//              ports, rate limiting off (./stack.ts); the flows whose routes the API serves are
//              chosen from its OpenAPI document, the others skipped and named (./scenarios.ts);
//              `rebuild.kpi` and `rebuild.compliance` jobs are run first when the catalog has them
//   warm-up    a short run near the target rate, which also measures how many requests a
//              virtual user of the mix makes, so the measured phase can aim at --rate req/s
//   measured   --duration seconds of the mix at --rate, with Artillery `ensure` checks on every
//              endpoint's p95/p99 and zero errors; then the burst of 20 clients authenticating;
//              the RSS of the API and the worker is sampled throughout (./memory.ts)
//   report     docs/performance/load-<kind>-<database>.md/.json, and the comparison with the
//              baseline measured against the same-run reference (./report.ts)
//
// With --knee it instead raises the arrival rate step by step until p99 passes 100 ms or errors
// appear, with one API process and then with API_PROCESSES=2 (./knee.ts); with --generator wrk,
// wrk drives the same mix with more connections step by step, beside a bare-Express reference
// under the same generator, and prints wrk's own CPU share (./knee-wrk.ts).
// Exit status: 0 passed, 1 a check failed, 2 bad usage, 78 bad configuration.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '@offload/config';
import { fetchOpenApi, hasJobKind, runJob } from './api.ts';
import type { LoadContext, LoadOptions } from './context.ts';
import { DATABASE_CHOICES, type DatabaseChoice, openLoadDatabase, prepareInventory } from './database.ts';
import { runKnee } from './knee.ts';
import { runKneeWrk } from './knee-wrk.ts';
import { runMix } from './mix.ts';
import { readFlows, servedFlows } from './scenarios.ts';
import { startStack } from './stack.ts';

const USAGE = `usage: npm run load [-- options]

  --quick              60 s at the rate after a 25 s warm-up, 10,000 models (the CI check)
  --knee               raise the rate until p99 passes 100 ms or errors appear, with one API
                       process and then with API_PROCESSES=2; reports the highest sustained rate
  --generator G        with --knee: artillery (default) or wrk (Debian package wrk), which costs
                       far less CPU a request; --duration is then each step's seconds (default 15)
  --db sqlite|postgres the database to create (and delete afterwards) when DATABASE_URL is unset;
                       postgres is a new database on the server of TEST_DATABASE_URL (default sqlite)
  --models N           models to seed into an empty database (default 100000; 10000 with --quick)
  --rate N             requests per second of the mixed scenario (default 50)
  --duration S         seconds at that rate (default 300; 60 with --quick)
  --api-processes N    API processes, cluster mode above 1 (default 1)
  --update-baseline    store this run's ratios as the baseline for its kind and database

Runs against DATABASE_URL when it is set (seeded only if its inventory is empty).`;

class UsageError extends Error {}

function parseOptions(argv: string[]): LoadOptions | null {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return null;
  const quick = values.quick ?? false;
  const generator = values.generator ?? 'artillery';
  if (generator !== 'artillery' && generator !== 'wrk') {
    throw new UsageError(`--generator must be artillery or wrk, got ${JSON.stringify(generator)}`);
  }
  if (generator === 'wrk' && !(values.knee ?? false))
    throw new UsageError('--generator wrk goes with --knee');
  const db = values.db ?? 'sqlite';
  if (!DATABASE_CHOICES.includes(db as DatabaseChoice)) {
    throw new UsageError(`--db must be one of ${DATABASE_CHOICES.join(', ')}, got ${JSON.stringify(db)}`);
  }
  return {
    quick,
    knee: values.knee ?? false,
    generator,
    db: db as DatabaseChoice,
    models: positive('models', values.models, 1_000_000) ?? (quick ? 10_000 : 100_000),
    rate: positive('rate', values.rate, 100_000) ?? 50,
    durationS: positive('duration', values.duration, 86_400) ?? (quick ? 60 : generator === 'wrk' ? 15 : 300),
    warmupS: quick ? 25 : generator === 'wrk' ? 10 : 30,
    apiProcesses: positive('api-processes', values['api-processes'], 256) ?? 1,
    updateBaseline: values['update-baseline'] ?? false,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: 'boolean' },
      knee: { type: 'boolean' },
      generator: { type: 'string' },
      db: { type: 'string' },
      models: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      'api-processes': { type: 'string' },
      'update-baseline': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function positive(name: string, text: string | undefined, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new UsageError(`--${name} must be an integer from 1 to ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

// The precomputed reads answer 503 until their snapshots exist: build them before the load.
const PRELOAD_KINDS = ['rebuild.kpi', 'rebuild.compliance'];

const here = path.dirname(fileURLToPath(import.meta.url));

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (options === null) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadConfig();
  const root = path.resolve(here, '..', '..');
  const workDir = path.join(root, '.tmp', `load-run-${process.pid}`);
  mkdirSync(workDir, { recursive: true });
  const log = (line: string) => process.stderr.write(`[load] ${line}\n`);

  // DATABASE_URL is read here, not through @offload/config, because the runner must know whether
  // it was given at all: config fills in the embedded default, which the run must not seed.
  const database = await openLoadDatabase({
    givenUrl: process.env.DATABASE_URL?.trim() || undefined,
    choice: options.db,
    root,
    testDatabaseUrl: config.testDatabaseUrl,
  });
  onSignal(() => database.dispose());
  try {
    log(`database: ${database.label}`);
    const inventory = await prepareInventory(database.url, options.models);
    log(
      inventory.seeded
        ? `seeded ${inventory.models.toLocaleString('en-US')} models in ${(inventory.seedMs / 1000).toFixed(1)} s`
        : `using the existing inventory of ${inventory.models.toLocaleString('en-US')} models`,
    );
    const flows = readFlows(path.join(here, '..', 'scenarios'));
    const apiKey = `load-${randomBytes(16).toString('hex')}`;
    const logFile = path.join(workDir, 'stack.log');
    const context: LoadContext = {
      root,
      workDir,
      logFile,
      artilleryBin: path.join(here, '..', 'node_modules', '.bin', 'artillery'),
      processor: path.join(here, 'processor.mts'),
      reportDir: path.join(root, 'docs', 'performance'),
      apiKey,
      databaseUrl: database.url,
      dialect: database.dialect,
      databaseLabel: database.label,
      inventory,
      async start(apiProcesses) {
        const stack = await startStack({
          databaseUrl: database.url,
          apiKey,
          apiProcesses,
          logFile,
          baseEnv: process.env,
        });
        onSignal(() => stack.stop());
        try {
          const openapi = await fetchOpenApi(stack.target, apiKey);
          const { served, skipped } = servedFlows(flows, openapi.doc);
          const notes: string[] = [];
          for (const { flow, missing } of skipped) {
            notes.push(
              `skipped ${flow.file} (${flow.scenario.name}): the API does not serve ${missing.join(', ')}`,
            );
          }
          for (const kind of PRELOAD_KINDS) {
            if (hasJobKind(openapi.text, kind)) {
              const ms = await runJob(stack.target, apiKey, kind, {});
              notes.push(`${kind} completed in ${(ms / 1000).toFixed(1)} s before the load`);
            } else {
              notes.push(`${kind} is not in the job catalog: not run before the load`);
            }
          }
          for (const note of notes) log(note);
          return {
            stack,
            mix: served.filter((flow) => flow.run === 'mix'),
            burst: served.filter((flow) => flow.run === 'burst'),
            notes,
          };
        } catch (error) {
          await stack.stop();
          throw error;
        }
      },
    };
    log(`Artillery output and the stack's logs (deleted when the run passes): ${workDir}`);
    const code = !options.knee
      ? await runMix(context, options, log)
      : options.generator === 'wrk'
        ? await runKneeWrk(context, options, log)
        : await runKnee(context, options, log);
    // A failed run keeps its composed scripts, Artillery's output and the logs for a look.
    if (code === 0) rmSync(workDir, { recursive: true, force: true });
    else log(`kept for inspection: ${workDir}`);
    return code;
  } finally {
    await database.dispose();
  }
}

// Ctrl-C, or a CI job's timeout: stop the stack, then delete the run's database, then exit.
const cleanups: Array<() => Promise<void>> = [];
function onSignal(cleanup: () => Promise<void>): void {
  cleanups.unshift(cleanup);
}
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`[load] ${signal}: stopping the stack and removing the run's database\n`);
    cleanups
      .reduce((chain, cleanup) => chain.then(cleanup).catch(() => {}), Promise.resolve())
      .finally(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      process.exit(78);
    }
    process.stderr.write(`[load] failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
