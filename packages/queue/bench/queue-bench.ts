// The queue benchmark (issue 3 §6, DESIGN.md §6): no-op jobs through our two backends and the
// shared Worker, each next to its reference measured in the same run, because on a shared
// machine only same-run ratios mean anything:
//
//   PostgreSQL: our pg-boss backend  vs  raw pg-boss tuned as its docs advise (pgboss-raw.ts)
//               and graphile-worker in its batched mode (graphile-worker-ref.ts, issue 17)
//   SQLite:     our SQLite backend   vs  a minimal SQLite claim loop (sqlite-minimal-loop.ts)
//
// For each: enqueue rate (batches of 1,000), drain rate (pre-inserted jobs, one worker process)
// and send-to-start latency with an idle worker (sent by one backend instance, started by
// another's worker, as between an API process and a worker process). Targets: PostgreSQL drain
// ≥ raw pg-boss and ≥ graphile-worker batched; SQLite drain ≥ half the minimal loop; p50 start
// latency < 2 ms on both (issue 17; BullMQ's 1.5 ms on Redis is the figure to beat).
//
// The SQLite drain's reference is the minimal loop claiming as many jobs per BEGIN IMMEDIATE
// transaction as our worker claims (claimBatchFor(concurrency): 250 with the default 1,000 slots;
// DESIGN.md's peer measurements used 100), printed every run with its ratio against the aim of
// half; the same loop claiming 500 jobs a transaction is printed beside it as the ceiling of any
// queue on the file, with no target. docs/queue.md ("Throughput on SQLite") says where the gap goes.
//
//   node packages/queue/bench/queue-bench.ts [--jobs 20000] [--samples 200] [--repeat 3] [--concurrency 1000]
//                                            [--only sqlite|pg-boss] [--out docs/performance/queue-bench.md]
//
// Every measurement gets a fresh database (a temporary SQLite file, or a PostgreSQL database
// created from TEST_DATABASE_URL's server and dropped after), so none sees another's rows.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createQueueBackend, type Json, Queue, type QueueBackend, Worker } from '../src/index.ts';
import { claimBatchFor } from '../src/runtime/worker.ts';
import {
  GRAPHILE_BATCHED,
  graphileDrainRate,
  graphileEnqueueRate,
  graphileLatency,
} from './graphile-worker-ref.ts';
import {
  type LatencyResult,
  percentiles,
  type RateResult,
  rawPgBossDrainRate,
  rawPgBossEnqueueRate,
  rawPgBossLatency,
} from './pgboss-raw.ts';

export type { LatencyResult, RateResult };

export type BenchBackend = 'sqlite' | 'pg-boss';

export interface QueueBenchOptions {
  /** No-op jobs per enqueue and drain measurement. */
  jobs: number;
  /** Latency samples (after a warm-up of 20). */
  samples: number;
  /** Rounds of every measurement; each figure reported is the median round's. */
  repeat: number;
  backends: readonly BenchBackend[];
  /** A PostgreSQL server's URL to create throwaway databases on (any database of it). */
  postgresUrl: string;
  /** Worker concurrency for our drains (slots in one process). */
  concurrency: number;
  log?: (line: string) => void;
}

export interface Comparison {
  backend: BenchBackend;
  reference: string;
  enqueue: { ours: RateResult; reference: RateResult };
  drain: { ours: RateResult; reference: RateResult };
  /** A second drain reference, reported without a target: what no queue on the backend could beat. */
  drainCeiling?: { reference: RateResult; label: string };
  latency: { ours: LatencyResult; reference: LatencyResult };
  /** Our drain rate over the reference's in each round, in order. */
  drainRatios: number[];
  /** A second reference measured the same way in the same rounds (PostgreSQL: graphile-worker). */
  second?: SecondReference;
}

export interface SecondReference {
  label: string;
  enqueue: RateResult;
  drain: RateResult;
  latency: LatencyResult;
  /** Our drain rate over this reference's in each round, in order. */
  drainRatios: number[];
}

export interface QueueBenchReport {
  options: Omit<QueueBenchOptions, 'log' | 'postgresUrl'>;
  startedAt: string;
  environment: {
    node: string;
    cpus: number;
    cpuModel: string;
    platform: string;
    /** The 1-minute load average when the run started and when it ended (the machine is shared). */
    loadAverage: [number, number];
  };
  comparisons: Comparison[];
}

const KIND = 'bench.noop';
const INSERT_BATCH = 1000;
const LATENCY_WARMUP = 20;
/** Jobs per claim of the minimal SQLite loop when it measures the ceiling. */
const CEILING_CLAIM_BATCH = 500;

export const TARGETS = {
  /** Our drain rate over the reference's, at least. */
  drainRatio: { 'pg-boss': 1, sqlite: 0.5 } as Record<BenchBackend, number>,
  /** Our PostgreSQL drain rate over graphile-worker's batched mode's, at least. */
  secondDrainRatio: 1,
  p50LatencyMs: 2,
};

export async function runQueueBench(options: QueueBenchOptions): Promise<QueueBenchReport> {
  const log = options.log ?? (() => {});
  const loadAtStart = loadavg()[0]!;
  const comparisons: Comparison[] = [];
  for (const backend of options.backends) {
    const rounds: Comparison[] = [];
    for (let round = 1; round <= options.repeat; round += 1) {
      log(`-- ${backend}, round ${round} of ${options.repeat}`);
      rounds.push(
        backend === 'pg-boss' ? await comparePgBoss(options, log) : await compareSqlite(options, log),
      );
    }
    comparisons.push(medianRound(rounds));
  }
  const { log: _log, postgresUrl: _url, ...reported } = options;
  return {
    options: reported,
    startedAt: new Date().toISOString(),
    environment: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      platform: `${process.platform} ${process.arch}`,
      loadAverage: [loadAtStart, loadavg()[0]!],
    },
    comparisons,
  };
}

async function comparePgBoss(options: QueueBenchOptions, log: (line: string) => void): Promise<Comparison> {
  const { jobs, samples } = options;
  // Reference first, then ours, measurement by measurement, so both see the same machine.
  const enqueueRef = await withPgDatabase(options.postgresUrl, (url) =>
    rawPgBossEnqueueRate({ connectionString: url, jobs, batchSize: INSERT_BATCH }),
  );
  log(`raw pg-boss enqueue: ${rateText(enqueueRef)}`);
  const enqueueGraphile = await withPgDatabase(options.postgresUrl, (url) =>
    graphileEnqueueRate({ connectionString: url, jobs, batchSize: INSERT_BATCH }),
  );
  log(`graphile enqueue:    ${rateText(enqueueGraphile)}`);
  const enqueue = await withPgDatabase(options.postgresUrl, (url) => ourEnqueueRate(url, jobs));
  log(`ours enqueue:        ${rateText(enqueue)}`);
  const drainRef = await withPgDatabase(options.postgresUrl, (url) =>
    rawPgBossDrainRate({ connectionString: url, jobs, batchSize: 200, workers: 4 }),
  );
  log(`raw pg-boss drain:   ${rateText(drainRef)}`);
  const drainGraphile = await withPgDatabase(options.postgresUrl, (url) =>
    graphileDrainRate({ connectionString: url, jobs }),
  );
  log(`graphile drain:      ${rateText(drainGraphile)}`);
  const drain = await withPgDatabase(options.postgresUrl, (url) =>
    ourDrainRate(url, jobs, options.concurrency),
  );
  log(`ours drain:          ${rateText(drain)}`);
  const latencyRef = await withPgDatabase(options.postgresUrl, (url) =>
    rawPgBossLatency({ connectionString: url, samples, warmup: LATENCY_WARMUP }),
  );
  log(`raw pg-boss latency: ${latencyText(latencyRef)}`);
  const latencyGraphile = await withPgDatabase(options.postgresUrl, (url) =>
    graphileLatency({ connectionString: url, samples, warmup: LATENCY_WARMUP }),
  );
  log(`graphile latency:    ${latencyText(latencyGraphile)}`);
  const latency = await withPgDatabase(options.postgresUrl, (url) => ourLatency(url, samples));
  log(`ours latency:        ${latencyText(latency)}`);
  return {
    backend: 'pg-boss',
    reference: 'raw pg-boss 12.35.0 (tuned)',
    enqueue: { ours: enqueue, reference: enqueueRef },
    drain: { ours: drain, reference: drainRef },
    latency: { ours: latency, reference: latencyRef },
    drainRatios: [drain.jobsPerSecond / drainRef.jobsPerSecond],
    second: {
      label: `graphile-worker 0.18.0, batched (concurrentJobs ${GRAPHILE_BATCHED.concurrentJobs}, localQueue ${GRAPHILE_BATCHED.localQueueSize}, completeJobBatchDelay ${GRAPHILE_BATCHED.completeJobBatchDelay})`,
      enqueue: enqueueGraphile,
      drain: drainGraphile,
      latency: latencyGraphile,
      drainRatios: [drain.jobsPerSecond / drainGraphile.jobsPerSecond],
    },
  };
}

async function compareSqlite(options: QueueBenchOptions, log: (line: string) => void): Promise<Comparison> {
  const { jobs, samples } = options;
  // Imported here so that a PostgreSQL-only run does not need better-sqlite3.
  const { minimalSqliteDrainRate, minimalSqliteEnqueueRate, minimalSqliteLatency } = await import(
    './sqlite-minimal-loop.ts'
  );
  const enqueueRef = await withSqliteFile((path) =>
    minimalSqliteEnqueueRate({ path, jobs, batchSize: INSERT_BATCH }),
  );
  log(`minimal loop enqueue: ${rateText(enqueueRef)}`);
  const enqueue = await withSqliteFile((path) => ourEnqueueRate(`sqlite:${path}`, jobs));
  log(`ours enqueue:         ${rateText(enqueue)}`);
  const claimBatch = claimBatchFor(options.concurrency);
  const drainRef = await withSqliteFile((path) =>
    minimalSqliteDrainRate({ path, jobs, batchSize: claimBatch }),
  );
  log(`minimal loop drain (${claimBatch} per claim): ${rateText(drainRef)}`);
  const drainCeiling = await withSqliteFile((path) =>
    minimalSqliteDrainRate({ path, jobs, batchSize: CEILING_CLAIM_BATCH }),
  );
  log(`batched loop drain:   ${rateText(drainCeiling)}`);
  const drain = await withSqliteFile((path) => ourDrainRate(`sqlite:${path}`, jobs, options.concurrency));
  log(`ours drain:           ${rateText(drain)}`);
  const latencyRef = await withSqliteFile((path) =>
    minimalSqliteLatency({ path, samples, warmup: LATENCY_WARMUP }),
  );
  log(`minimal loop latency: ${latencyText(latencyRef)}`);
  const latency = await withSqliteFile((path) => ourLatency(`sqlite:${path}`, samples));
  log(`ours latency:         ${latencyText(latency)}`);
  return {
    backend: 'sqlite',
    reference: `minimal SQLite claim loop (${claimBatch} jobs per claim, as many as our worker claims)`,
    enqueue: { ours: enqueue, reference: enqueueRef },
    drain: { ours: drain, reference: drainRef },
    drainCeiling: {
      reference: drainCeiling,
      label: `the same loop claiming ${CEILING_CLAIM_BATCH} jobs per transaction`,
    },
    latency: { ours: latency, reference: latencyRef },
    drainRatios: [drain.jobsPerSecond / drainRef.jobsPerSecond],
  };
}

/**
 * Each measurement's median round, separately (rounds on a shared machine are disturbed at
 * random moments, so a disturbed measurement should not drag its round's others with it).
 */
function medianRound(rounds: Comparison[]): Comparison {
  const median = <T>(values: T[], by: (value: T) => number): T =>
    [...values].sort((a, b) => by(a) - by(b))[Math.floor((values.length - 1) / 2)]!;
  const first = rounds[0]!;
  return {
    backend: first.backend,
    reference: first.reference,
    enqueue: {
      ours: median(
        rounds.map((r) => r.enqueue.ours),
        (r) => r.jobsPerSecond,
      ),
      reference: median(
        rounds.map((r) => r.enqueue.reference),
        (r) => r.jobsPerSecond,
      ),
    },
    drain: {
      ours: median(
        rounds.map((r) => r.drain.ours),
        (r) => r.jobsPerSecond,
      ),
      reference: median(
        rounds.map((r) => r.drain.reference),
        (r) => r.jobsPerSecond,
      ),
    },
    ...(first.drainCeiling === undefined
      ? {}
      : {
          drainCeiling: {
            label: first.drainCeiling.label,
            reference: median(
              rounds.map((r) => r.drainCeiling!.reference),
              (r) => r.jobsPerSecond,
            ),
          },
        }),
    latency: {
      ours: median(
        rounds.map((r) => r.latency.ours),
        (r) => r.p50Ms,
      ),
      reference: median(
        rounds.map((r) => r.latency.reference),
        (r) => r.p50Ms,
      ),
    },
    drainRatios: rounds.map((r) => r.drain.ours.jobsPerSecond / r.drain.reference.jobsPerSecond),
    ...(first.second === undefined
      ? {}
      : {
          second: {
            label: first.second.label,
            enqueue: median(
              rounds.map((r) => r.second!.enqueue),
              (r) => r.jobsPerSecond,
            ),
            drain: median(
              rounds.map((r) => r.second!.drain),
              (r) => r.jobsPerSecond,
            ),
            latency: median(
              rounds.map((r) => r.second!.latency),
              (r) => r.p50Ms,
            ),
            drainRatios: rounds.map((r) => r.drain.ours.jobsPerSecond / r.second!.drain.jobsPerSecond),
          },
        }),
  };
}

// ---- our backends through the public API ----------------------------------------------------

async function started(databaseUrl: string): Promise<QueueBackend> {
  const backend = await createQueueBackend(databaseUrl);
  await backend.start({ maintenance: false });
  return backend;
}

/** Jobs/s sending `jobs` no-op jobs with `Queue.sendMany` in batches of 1,000. */
export async function ourEnqueueRate(databaseUrl: string, jobs: number): Promise<RateResult> {
  const backend = await started(databaseUrl);
  try {
    const queue = new Queue(backend);
    const began = performance.now();
    for (let sent = 0; sent < jobs; sent += INSERT_BATCH) {
      const size = Math.min(INSERT_BATCH, jobs - sent);
      await queue.sendMany(
        Array.from({ length: size }, (_, i) => ({ kind: KIND, payload: { n: sent + i } })),
      );
    }
    return rate(jobs, performance.now() - began);
  } finally {
    await backend.stop();
  }
}

/**
 * Jobs/s draining `jobs` pre-inserted no-op jobs with one Worker of `concurrency` slots. The
 * clock stops at the last `completed` event, which the worker emits once the completion is
 * stored.
 */
export async function ourDrainRate(
  databaseUrl: string,
  jobs: number,
  concurrency: number,
): Promise<RateResult> {
  const backend = await started(databaseUrl);
  try {
    const queue = new Queue(backend);
    for (let sent = 0; sent < jobs; sent += INSERT_BATCH) {
      const size = Math.min(INSERT_BATCH, jobs - sent);
      await queue.sendMany(
        Array.from({ length: size }, (_, i) => ({ kind: KIND, payload: { n: sent + i } })),
      );
    }
    const worker = new Worker(backend, { concurrency }).register(KIND, () => null);
    let completed = 0;
    const done = Promise.withResolvers<void>();
    worker.on('completed', () => {
      completed += 1;
      if (completed === jobs) done.resolve();
    });
    const began = performance.now();
    await worker.start();
    await withTimeout(done.promise, 600_000, () => `drain stalled at ${completed}/${jobs}`);
    const elapsed = performance.now() - began;
    await worker.stop({ timeoutMs: 5000 });
    return rate(jobs, elapsed);
  } finally {
    await backend.stop();
  }
}

/**
 * Send-to-start latency with an idle worker: one job at a time, sent through one backend
 * instance and started by a Worker on another (so the wake-up crosses connections as between an
 * API process and a worker process), from just before the send to the handler's first line.
 */
export async function ourLatency(databaseUrl: string, samples: number): Promise<LatencyResult> {
  const producer = await started(databaseUrl);
  const consumer = await started(databaseUrl);
  let onStart: (at: number) => void = () => {};
  const worker = new Worker(consumer, { concurrency: 1 }).register<Json>(KIND, () => {
    onStart(performance.now());
    return null;
  });
  try {
    await worker.start();
    await delay(300); // its first (empty) claim done, the worker waits for a wake-up
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_WARMUP + samples; i += 1) {
      const startedAt = new Promise<number>((resolve) => {
        onStart = resolve;
      });
      const sentAt = performance.now();
      await producer.jobInsert({ kind: KIND, payload: { i } });
      const latency = (await withTimeout(startedAt, 35_000, () => `job ${i} never started`)) - sentAt;
      if (i >= LATENCY_WARMUP) latencies.push(latency);
      await delay(5); // idle again before the next one
    }
    return percentiles(latencies);
  } finally {
    await worker.stop({ timeoutMs: 5000 });
    await consumer.stop();
    await producer.stop();
  }
}

// ---- throwaway databases ---------------------------------------------------------------------

async function withPgDatabase<T>(serverUrl: string, run: (url: string) => Promise<T>): Promise<T> {
  const name = `offload_q_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    try {
      return await run(url.toString());
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}

async function withSqliteFile<T>(run: (path: string) => Promise<T>): Promise<T> {
  const dir = join(tmpdir(), 'offload-bench');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `queue-${randomBytes(4).toString('hex')}.db`);
  try {
    return await run(path);
  } finally {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(path + suffix, { force: true });
  }
}

// ---- the report ------------------------------------------------------------------------------

export function renderQueueBenchMarkdown(report: QueueBenchReport): string {
  const { options, environment } = report;
  const lines = [
    '# Queue benchmark',
    '',
    `Generated by \`npm run bench\` (\`packages/queue/bench/queue-bench.ts\`) at ${report.startedAt}.`,
    `Node ${environment.node}, ${environment.cpus} × ${environment.cpuModel} (${environment.platform}), shared with other work`,
    `(1-minute load average ${environment.loadAverage.map((l) => l.toFixed(1)).join(' at the start, ')} at the end):`,
    'absolute figures are noisy (10-40 % between runs); the ratios against the reference measured in the',
    'same run are what count.',
    '',
    `No-op jobs: ${options.jobs} per enqueue and drain measurement (enqueue in batches of ${INSERT_BATCH});`,
    `${options.samples} latency samples after ${LATENCY_WARMUP} warm-up ones; our drains use one Worker with`,
    `${options.concurrency} slots; each measurement on a fresh database. ${options.repeat} rounds, reference and ours`,
    'alternating measurement by measurement; each figure is its median round.',
    '',
  ];
  const rows: string[][] = [];
  for (const c of report.comparisons) {
    const drainTarget = TARGETS.drainRatio[c.backend];
    rows.push(
      row(c, 'enqueue (jobs/s)', c.enqueue.ours.jobsPerSecond, c.enqueue.reference.jobsPerSecond, '—', null),
      row(
        c,
        'drain (jobs/s)',
        c.drain.ours.jobsPerSecond,
        c.drain.reference.jobsPerSecond,
        `ratio ≥ ${drainTarget}`,
        c.drain.ours.jobsPerSecond / c.drain.reference.jobsPerSecond >= drainTarget,
      ),
      ...(c.drainCeiling === undefined
        ? []
        : [
            row(
              c,
              'drain vs ceiling (jobs/s)',
              c.drain.ours.jobsPerSecond,
              c.drainCeiling.reference.jobsPerSecond,
              '—',
              null,
            ),
          ]),
      row(
        c,
        'send-to-start p50 (ms)',
        c.latency.ours.p50Ms,
        c.latency.reference.p50Ms,
        `< ${TARGETS.p50LatencyMs} ms`,
        c.latency.ours.p50Ms < TARGETS.p50LatencyMs,
      ),
      row(c, 'send-to-start p95 (ms)', c.latency.ours.p95Ms, c.latency.reference.p95Ms, '—', null),
      row(c, 'send-to-start p99 (ms)', c.latency.ours.p99Ms, c.latency.reference.p99Ms, '—', null),
    );
    const second = c.second;
    if (second === undefined) continue;
    rows.push(
      row(
        c,
        'enqueue vs graphile (jobs/s)',
        c.enqueue.ours.jobsPerSecond,
        second.enqueue.jobsPerSecond,
        '—',
        null,
      ),
      row(
        c,
        'drain vs graphile (jobs/s)',
        c.drain.ours.jobsPerSecond,
        second.drain.jobsPerSecond,
        `ratio ≥ ${TARGETS.secondDrainRatio}`,
        c.drain.ours.jobsPerSecond / second.drain.jobsPerSecond >= TARGETS.secondDrainRatio,
      ),
      row(c, 'p50 vs graphile (ms)', c.latency.ours.p50Ms, second.latency.p50Ms, '—', null),
      row(c, 'p95 vs graphile (ms)', c.latency.ours.p95Ms, second.latency.p95Ms, '—', null),
    );
  }
  lines.push(
    ...markdownTable(
      ['backend', 'measurement', 'ours', 'reference', 'ratio', 'target', 'result'],
      ['left', 'left', 'right', 'right', 'right', 'left', 'left'],
      rows,
    ),
  );
  lines.push('', 'References and the drain ratio of every round:', '');
  for (const c of report.comparisons) {
    lines.push(
      `- ${c.backend}: ${c.reference}; drain ratios ${c.drainRatios.map((r) => r.toFixed(2)).join(', ')}`,
    );
    if (c.drainCeiling !== undefined) lines.push(`- ${c.backend} ceiling: ${c.drainCeiling.label}`);
    if (c.second !== undefined)
      lines.push(
        `- ${c.backend} vs graphile: ${c.second.label}; drain ratios ${c.second.drainRatios.map((r) => r.toFixed(2)).join(', ')}`,
      );
  }
  lines.push('', `Overall: ${passed(report) ? 'all targets met' : 'some targets missed'}.`);
  for (const c of report.comparisons) {
    if (c.drainCeiling === undefined) continue;
    const ratio = c.drain.ours.jobsPerSecond / c.drainCeiling.reference.jobsPerSecond;
    lines.push(
      `The ${c.backend} drain reaches ${ratio.toFixed(2)} of its ceiling, which holds no target (see docs/queue.md).`,
    );
  }
  lines.push('');
  return lines.join('\n');
}

function row(
  c: Comparison,
  what: string,
  ours: number,
  reference: number,
  target: string,
  ok: boolean | null,
): string[] {
  const ratio = reference > 0 ? (ours / reference).toFixed(2) : '—';
  const result = ok === null ? '' : ok ? 'pass' : '**fail**';
  return [c.backend, what, num(ours), num(reference), ratio, target, result];
}

/** A table padded the way the repository's formatter (Biome) prints one, so the report passes lint as written. */
function markdownTable(header: string[], align: Array<'left' | 'right'>, rows: string[][]): string[] {
  const length = (cell: string) => [...cell].length;
  const width = header.map((title, i) => Math.max(3, length(title), ...rows.map((r) => length(r[i]!))));
  const pad = (cell: string, i: number) => {
    const fill = ' '.repeat(width[i]! - length(cell));
    return align[i] === 'right' ? fill + cell : cell + fill;
  };
  const line = (cells: string[]) => `| ${cells.map(pad).join(' | ')} |`;
  const rule = width.map((w, i) => (align[i] === 'right' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w)));
  return [line(header), `| ${rule.join(' | ')} |`, ...rows.map(line)];
}

export function passed(report: QueueBenchReport): boolean {
  return report.comparisons.every(
    (c) =>
      c.drain.ours.jobsPerSecond / c.drain.reference.jobsPerSecond >= TARGETS.drainRatio[c.backend] &&
      (c.second === undefined ||
        c.drain.ours.jobsPerSecond / c.second.drain.jobsPerSecond >= TARGETS.secondDrainRatio) &&
      c.latency.ours.p50Ms < TARGETS.p50LatencyMs,
  );
}

function num(value: number): string {
  if (!Number.isFinite(value)) return '—';
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
}

function rateText(result: RateResult): string {
  return `${num(result.jobsPerSecond)} jobs/s (${result.jobs} in ${result.seconds.toFixed(2)} s)`;
}

function latencyText(result: LatencyResult): string {
  return `p50 ${num(result.p50Ms)} ms, p95 ${num(result.p95Ms)} ms, p99 ${num(result.p99Ms)} ms (n=${result.samples})`;
}

function rate(jobs: number, elapsedMs: number): RateResult {
  const seconds = elapsedMs / 1000;
  return { jobs, seconds, jobsPerSecond: jobs / seconds };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---- command line ----------------------------------------------------------------------------

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      jobs: { type: 'string', default: '20000' },
      samples: { type: 'string', default: '200' },
      repeat: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '1000' },
      only: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'string' },
    },
  });
  const backends: BenchBackend[] =
    values.only === undefined ? ['sqlite', 'pg-boss'] : [values.only as BenchBackend];
  for (const backend of backends) {
    if (backend !== 'sqlite' && backend !== 'pg-boss')
      throw new Error(`--only must be sqlite or pg-boss (got ${backend})`);
  }
  const report = await runQueueBench({
    jobs: positive(values.jobs, '--jobs'),
    samples: positive(values.samples, '--samples'),
    repeat: positive(values.repeat, '--repeat'),
    concurrency: positive(values.concurrency, '--concurrency'),
    backends,
    postgresUrl:
      process.env.BENCH_DATABASE_URL ??
      process.env.TEST_DATABASE_URL ??
      'postgres://postgres@127.0.0.1:5432/test',
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const markdown = renderQueueBenchMarkdown(report);
  process.stdout.write(markdown);
  if (values.out !== undefined) {
    mkdirSync(dirname(values.out), { recursive: true });
    writeFileSync(values.out, markdown);
  }
  if (values.json !== undefined) {
    mkdirSync(dirname(values.json), { recursive: true });
    writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
  }
}

function positive(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer (got ${text})`);
  return value;
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    process.stderr.write(`queue benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
