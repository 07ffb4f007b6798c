// The job submission benchmark (DESIGN §6: "job submission (`POST /v1/jobs`): at least half of
// a bare Express `INSERT` endpoint's throughput in the same run"). In one process, on one
// migrated database, with the real queue backend started (no maintenance) and no worker, so
// that submitted jobs just queue up:
//
//   reference   a bare Express 5 app answering POST /bare-insert: express.json(), one INSERT of
//               the body into a table of its own through the same knex Db, 201 with the new id
//   ours        the real API app (request log, auth with its key cache, rate limiter off,
//               validation, Server-Timing, problem handler) answering POST /v1/jobs with a
//               system.echo job, and again with an Idempotency-Key (one more write per request)
//
// Every request's body differs (a sequence number in the payload) and every Idempotency-Key is
// new, so nothing is de-duplicated; only 201 (bare) and 202 (ours) count as answers, and the
// rows each side wrote are counted against its answers at the end. Load comes from another
// process (load-loop.ts), the targets interleaved round by round as in reads-bench.ts; each
// figure is the median round's.
//
// --profile DIR takes one more measurement of each target per backend under the V8 profiler (the
// serving process only), writes DIR/submit-<backend>-<target>.cpuprofile and adds the functions
// and packages the time went to to the report.
//
//   node apps/api/bench/submit-bench.ts [--duration 2000] [--connections 16] [--repeat 3]
//                                       [--only sqlite|postgres] [--profile DIR]
//                                       [--out docs/performance/submit-bench.md]
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { createDb, type Db, migrateLatest } from '@offload/db';
import { createLogger } from '@offload/observability';
import { createQueueBackend, Queue } from '@offload/queue';
import express from 'express';
import { createApiKey } from '../src/api-keys.ts';
import { createApp } from '../src/app.ts';
import { createApiServices } from '../src/services.ts';
import {
  type Backend,
  benchPostgresUrl,
  closeServer,
  type Figure,
  fmt,
  interleavedRounds,
  listen,
  load,
  log,
  type Measured,
  measure,
  positive,
  urlOf,
  withDatabase,
} from './harness.ts';
import type { LoadRequest } from './load-loop.ts';
import { type ProfileSummary, profiled, profileSection, READING_PROFILES } from './profile.ts';

interface Options {
  durationMs: number;
  connections: number;
  repeat: number;
  backends: Backend[];
  postgresUrl: string;
  /** Where to write CPU profiles of the /v1/jobs targets; none without it. */
  profileDir: string | undefined;
}

interface Target {
  name: string;
  /** Short name for files. */
  slug: string;
  /** The bare route every other target is compared with. */
  reference: boolean;
  /** Held to DESIGN's ratio (≥ 0.5); the others are measured and compared without one. */
  targeted: boolean;
  path: string;
  status: number;
  /** Extra headers; `{{seq}}` becomes the request's sequence number (load-loop.ts). */
  headers?: Record<string, string>;
}

// The same body for every target: a system.echo job (the cheapest kind) whose payload differs
// from one request to the next. sleepMs caps at 600,000, far more requests than a run sends.
const BODY = '{"kind":"system.echo","payload":{"sleepMs":{{seq}}}}';

const TARGETS: readonly Target[] = [
  {
    name: 'bare Express POST, one INSERT (reference)',
    slug: 'bare',
    reference: true,
    targeted: false,
    path: '/bare-insert',
    status: 201,
  },
  { name: 'POST /v1/jobs', slug: 'jobs', reference: false, targeted: true, path: '/v1/jobs', status: 202 },
  {
    name: 'POST /v1/jobs, Idempotency-Key',
    slug: 'jobs-idempotent',
    reference: false,
    targeted: false,
    path: '/v1/jobs',
    status: 202,
    // Made unique per load run below: each run's sequence numbers start again at 1.
    headers: { 'idempotency-key': 'bench-{{run}}-{{seq}}' },
  },
];

const BARE_TABLE = 'bench_submissions';

/** A measurement with, on a local PostgreSQL, the CPU its server processes spent per answer. */
interface SubmitMeasured extends Measured {
  dbCpuUsPerRequest: number | null;
}

interface BackendResult {
  backend: Backend;
  figures: Array<Figure<Target, SubmitMeasured>>;
  /** Rows written over the whole run (warm-up included), checked against the answers. */
  bareRows: number;
  queuedJobs: number;
  profiles: Array<ProfileSummary<Target>>;
}

/** The bare reference: one INSERT of the body, through the same Db the API uses. */
async function bareApp(db: Db): Promise<express.Express> {
  await db.knex.schema.createTable(BARE_TABLE, (t) => {
    t.increments('id');
    t.text('kind').notNullable();
    t.jsonb('payload').notNullable();
    t.timestamp('created_at', { useTz: true, precision: 3 }).notNullable();
  });
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(express.json());
  app.post('/bare-insert', async (req, res) => {
    const body = req.body as { kind: string; payload: unknown };
    const [row] = (await db
      .knex(BARE_TABLE)
      .insert({
        kind: body.kind,
        payload: JSON.stringify(body.payload),
        created_at: new Date().toISOString(),
      })
      .returning('id')) as Array<{ id: number }>;
    res.status(201).json({ id: row!.id });
  });
  return app;
}

async function benchBackend(backend: Backend, options: Options): Promise<BackendResult> {
  return withDatabase(backend, options.postgresUrl, 'submit', async (databaseUrl) => {
    const db = createDb({ databaseUrl, poolMax: 10 });
    const queueBackend = await createQueueBackend(databaseUrl);
    try {
      await migrateLatest(db);
      await queueBackend.start({ maintenance: false });
      const queue = new Queue(queueBackend);
      const services = createApiServices({
        db,
        queue,
        logger: createLogger({ level: 'silent', service: 'submit-bench' }),
        cursorSecret: 'submit-bench-cursor-secret-0123456789',
        settings: { rateLimitPerSecond: 0 },
        options: { slowRequestMs: 60_000, version: 'bench', startedAt: Date.now() },
      });
      await services.cache.ready();
      const { key } = await createApiKey(db, { name: 'bench', owner: 'bench', scopes: ['submit'] });
      const api = await listen(createApp(services));
      const reference = await listen(await bareApp(db));

      let runs = 0;
      let bareAnswers = 0;
      let jobAnswers = 0;
      const requestFor = (target: Target): LoadRequest => {
        runs += 1;
        const run = String(runs);
        return {
          authorization: `Bearer ${key}`,
          body: BODY,
          accept: [target.status],
          ...(target.headers === undefined
            ? {}
            : {
                headers: Object.fromEntries(
                  Object.entries(target.headers).map(([name, value]) => [
                    name,
                    value.replaceAll('{{run}}', run),
                  ]),
                ),
              }),
        };
      };
      const urlFor = (target: Target) => urlOf(target.reference ? reference : api, target.path);
      const count = (target: Target, answers: number) => {
        if (target.reference) bareAnswers += answers;
        else jobAnswers += answers;
      };
      const run = async (target: Target): Promise<SubmitMeasured> => {
        const dbBefore = await databaseCpu(db, databaseUrl);
        const m = await measure(urlFor(target), options, requestFor(target));
        const dbAfter = await databaseCpu(db, databaseUrl);
        count(target, m.requests);
        if (m.errors > 0) {
          throw new Error(`${target.name}: ${m.errors} errors (${JSON.stringify(m.errorStatuses)})`);
        }
        let dbCpuUsPerRequest: number | null = null;
        if (dbBefore !== null && dbAfter !== null) {
          let used = 0;
          for (const [pid, us] of dbAfter) used += us - (dbBefore.get(pid) ?? 0);
          dbCpuUsPerRequest = used / Math.max(1, m.requests);
        }
        return { ...m, dbCpuUsPerRequest };
      };
      try {
        for (const target of TARGETS) {
          const warm = await load(urlFor(target), options.connections, 500, requestFor(target)); // JIT, pools
          count(target, warm.requests);
        }
        const [bareTarget, ...ours] = TARGETS as [Target, ...Target[]];
        const figures = await interleavedRounds(bareTarget, ours, options.repeat, run, (round, target, m) =>
          log(
            `[${backend}] round ${round} ${target.name.padEnd(42)} ${fmt(m.rps).padStart(7)} req/s  p50 ${m.p50Ms} ms  p99 ${m.p99Ms} ms  ${fmt(m.cpuUsPerRequest)} µs CPU/req${m.dbCpuUsPerRequest === null ? '' : `  ${fmt(m.dbCpuUsPerRequest)} µs PostgreSQL CPU/req`}`,
          ),
        );
        const profiles: Array<ProfileSummary<Target>> = [];
        if (options.profileDir !== undefined) {
          for (const target of TARGETS) {
            const file = join(options.profileDir, `submit-${backend}-${target.slug}.cpuprofile`);
            log(`[${backend}] profiling ${target.name} → ${file}`);
            profiles.push(await profiled(target, file, () => run(target)));
          }
        }
        const bareRows = Number(
          ((await db.knex(BARE_TABLE).count({ n: '*' })) as Array<{ n: number | string }>)[0]!.n,
        );
        const queuedJobs = (await queue.counts()).reduce((sum, c) => sum + c.queued, 0);
        // A target that answered without writing, or wrote without answering, is not measured.
        if (bareRows !== bareAnswers || queuedJobs !== jobAnswers) {
          throw new Error(
            `rows do not match answers: ${bareRows} bare rows for ${bareAnswers} answers, ${queuedJobs} queued jobs for ${jobAnswers}`,
          );
        }
        return {
          backend,
          bareRows,
          queuedJobs,
          profiles,
          figures,
        };
      } finally {
        await closeServer(api);
        await closeServer(reference);
        services.close();
        await services.cache.close();
      }
    } finally {
      await queueBackend.stop().catch(() => {});
      await db.destroy();
    }
  });
}

// Linux reports process CPU times in /proc in ticks of USER_HZ, which is 100 on every platform.
const US_PER_TICK = 10_000;

/**
 * CPU time (µs) used so far by each PostgreSQL server process connected to this database (its
 * backends: the Db pool's and the queue's), read from /proc; null for SQLite, or when the server
 * is not on this machine or this is not Linux. Backends of other databases (other people's tests
 * on a shared server) are not counted.
 */
async function databaseCpu(db: Db, databaseUrl: string): Promise<Map<number, number> | null> {
  if (db.dialect !== 'postgres' || !existsSync('/proc/self/stat')) return null;
  const host = new URL(databaseUrl).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') return null;
  const rows = (await db.knex.raw('SELECT pid FROM pg_stat_activity WHERE datname = current_database()')) as {
    rows: Array<{ pid: number }>;
  };
  const cpu = new Map<number, number>();
  for (const { pid } of rows.rows) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile, or in another PID namespace
    }
    // Fields after "pid (comm) ": state is the first, utime and stime the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    cpu.set(pid, (Number(fields[11]) + Number(fields[12])) * US_PER_TICK);
  }
  return cpu;
}

function report(options: Options, results: BackendResult[]): string {
  const lines = [
    '# Job submission benchmark',
    '',
    `Run ${new Date().toISOString()} on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node.js ${process.version}.`,
    `Load: ${options.connections} keep-alive connections from a separate process, ${options.durationMs} ms per`,
    `measurement, ${options.repeat} rounds. In a round each endpoint runs right after a bare run and`,
    'its ratio is taken against that run; the ratio shown is the median over rounds, req/s and',
    'latencies are the median round’s, and CPU/req is the serving process’s CPU time per answer.',
    '',
    'Target (DESIGN §6): `POST /v1/jobs` at least half the throughput of a bare Express `INSERT`',
    'endpoint in the same run. The reference is a bare Express 5 app (`POST /bare-insert`:',
    '`express.json()`, one INSERT of the body into a table of its own through the same knex Db, 201',
    'with the new id) served by the same process on the same migrated database; ours is the full',
    'API app (request log with a silent logger, API key authentication with its key cache, rate',
    'limiter off, body validation, Server-Timing, problem handler) queueing a `system.echo` job',
    'through the real queue backend, started without maintenance; no worker runs, so jobs just',
    'queue up. Both get the same body, whose payload differs from one request to the next; the',
    'Idempotency-Key line sends a new key with every request (one more write: the key claim).',
    'Only 201 (bare) and 202 (ours) count as answers, and each side’s rows are counted against its',
    'answers at the end. With PostgreSQL on this machine, PostgreSQL CPU/req is the CPU time the',
    'server processes connected to the benchmark’s database spent per answer (read from /proc).',
    '',
    ...READING,
    ...(results.some((r) => r.profiles.length > 0) ? READING_PROFILES : []),
  ];
  for (const r of results) {
    // The database server's CPU per answer, where it could be read (a local PostgreSQL).
    const dbCpu = r.figures.every((f) => f.median.dbCpuUsPerRequest !== null);
    lines.push(`## ${r.backend}`, '');
    lines.push(
      `| endpoint | req/s (median) | p50 ms | p99 ms | CPU µs/req |${dbCpu ? ' PostgreSQL CPU µs/req |' : ''} ratio to bare (req/s) | bare CPU/req ÷ ours | target ≥ 0.5 | rounds (req/s) |`,
    );
    lines.push(`|---|---:|---:|---:|---:|${dbCpu ? '---:|' : ''}---:|---:|---|---|`);
    for (const f of r.figures) {
      lines.push(
        `| ${f.target.name} | ${fmt(f.median.rps)} | ${f.median.p50Ms} | ${f.median.p99Ms} | ${fmt(f.median.cpuUsPerRequest)} |${dbCpu ? ` ${fmt(f.median.dbCpuUsPerRequest!)} |` : ''} ${f.ratio === null ? '—' : f.ratio.toFixed(2)} | ${f.cpuRatio === null ? '—' : f.cpuRatio.toFixed(2)} | ${f.ratio === null || !f.target.targeted ? '—' : f.ratio >= 0.5 ? 'met' : '**not met**'} | ${f.rounds.map((x) => fmt(x.rps)).join(', ')} |`,
      );
    }
    lines.push(
      '',
      `Rows written over the run, warm-up included: ${fmt(r.bareRows)} by the bare route, ${fmt(r.queuedJobs)} jobs queued by /v1/jobs — one per answer on each side.`,
      '',
    );
    for (const p of r.profiles) {
      lines.push(...profileSection(`${p.target.name} (${r.backend})`, p));
    }
  }
  return `${lines.join('\n')}\n`;
}

// What the figures say, from the run and profiles recorded in docs/performance/submit-bench.md
// (`--profile`); the sizes quoted are that run's.
const READING: readonly string[] = [
  '## Reading it',
  '',
  'The machine is shared and req/s swing between runs, so read the per-round ratios and the CPU',
  'per answer (the API process’s, and on PostgreSQL the database server’s, read from /proc).',
  '',
  'Group commit decides plain `POST /v1/jobs`. Both queue backends write the sends of one turn of',
  'the event loop together (docs/queue.md, "sends outside a transaction"), so concurrent requests',
  'share one statement (PostgreSQL) or one `BEGIN IMMEDIATE` transaction (SQLite) and its commit,',
  'where the bare route commits each INSERT alone. On PostgreSQL it also ends a queue: every',
  'sending transaction notifies (events, wake-ups), PostgreSQL flushes a notifying transaction’s',
  'WAL under one lock, and sends made one by one waited on it. In A/B runs alternating with sends',
  'made one by one, those reached 0.54–0.69 of the bare route on PostgreSQL (database CPU 570–820',
  'µs per job, against 150–185 with group commit) and 0.62–0.70 on SQLite (API CPU ~390 µs per',
  'job, against 165–200).',
  '',
  'With an Idempotency-Key a request writes twice: the key’s claim (owner, key, fingerprint of the',
  'request) in the API’s own database through knex, one more transaction and round trip per',
  'request that no batching shares, then the job’s send, keyed by the same key in the queue (on',
  'PostgreSQL a keyed send is not grouped either: finding the job that holds a key takes more',
  'statements after the insert has committed, and their failure must stay with their caller).',
  'DESIGN.md sets no figure for it; it is measured so that a change to it shows.',
  '',
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      connections: { type: 'string' },
      repeat: { type: 'string' },
      only: { type: 'string' },
      profile: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (values.only !== undefined && values.only !== 'sqlite' && values.only !== 'postgres') {
    throw new Error(`--only must be sqlite or postgres, got ${values.only}`);
  }
  const options: Options = {
    durationMs: positive(values.duration, 2000, '--duration'),
    connections: positive(values.connections, 16, '--connections'),
    repeat: positive(values.repeat, 3, '--repeat'),
    backends: values.only === undefined ? ['sqlite', 'postgres'] : [values.only as Backend],
    postgresUrl: benchPostgresUrl(),
    profileDir: values.profile,
  };
  const results: BackendResult[] = [];
  for (const backend of options.backends) results.push(await benchBackend(backend, options));
  const text = report(options, results);
  process.stdout.write(text);
  if (values.out !== undefined) {
    mkdirSync(dirname(values.out), { recursive: true });
    writeFileSync(values.out, text);
  }
  const missed = results.flatMap((r) =>
    r.figures
      .filter((f) => f.target.targeted && f.ratio !== null && f.ratio < 0.5)
      .map((f) => `${f.target.name} (${r.backend})`),
  );
  if (missed.length > 0) log(`target not met: ${missed.join(', ')}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`submit bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
