// The reference our PostgreSQL adapter is measured against: raw pg-boss 12.35.0 driven through its
// own API, tuned the way its documentation advises for throughput and latency:
//
// - enqueue: `insert()` in batches (one statement per batch);
// - drain: several `work()` workers per process with a batchSize of 100-500, `burstWhenBatchFull`
//   so a worker fetches again at once while batches come back full, and the batch completed by
//   pg-boss in one statement when the handler resolves;
// - latency: `useListenNotify` on a `notify: true` queue, so an idle worker is woken by NOTIFY
//   instead of waiting for its poll.
//
// Each measurement installs pg-boss into a throwaway schema of its own and drops it afterwards, so
// runs never see each other's jobs. Timings are wall clock around the whole operation.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { eventually } from '@offload/db/testing';
import pg from 'pg';
import { PgBoss } from 'pg-boss';

export interface RawBenchOptions {
  /** PostgreSQL to install into (a database the caller owns; only a temporary schema is touched). */
  connectionString: string;
}

export interface RateResult {
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
}

export interface LatencyResult {
  samples: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

const QUEUE = 'bench.noop';

/** Jobs/s for `jobs` no-op jobs sent with `insert()` in batches of `batchSize`. */
export async function rawPgBossEnqueueRate(
  options: RawBenchOptions & { jobs?: number; batchSize?: number },
): Promise<RateResult> {
  const { jobs = 20_000, batchSize = 1_000 } = options;
  return withSchema(options, async (schema) => {
    const boss = await startBoss(options, schema, {});
    try {
      await boss.createQueue(QUEUE, { policy: 'standard' });
      const started = performance.now();
      for (let sent = 0; sent < jobs; sent += batchSize) {
        const size = Math.min(batchSize, jobs - sent);
        await boss.insert(
          QUEUE,
          Array.from({ length: size }, (_, i) => ({ data: { n: sent + i } })),
        );
      }
      return rate(jobs, performance.now() - started);
    } finally {
      await boss.stop({ graceful: false });
    }
  });
}

/**
 * Jobs/s for draining `jobs` pre-inserted no-op jobs with `workers` pg-boss workers of `batchSize`
 * each (pg-boss completes each batch in one statement). The clock stops when the last job is
 * completed in the database.
 */
export async function rawPgBossDrainRate(
  options: RawBenchOptions & { jobs?: number; batchSize?: number; workers?: number },
): Promise<RateResult> {
  const { jobs = 20_000, batchSize = 200, workers = 4 } = options;
  return withSchema(options, async (schema) => {
    const boss = await startBoss(options, schema, { max: workers + 2 });
    try {
      await boss.createQueue(QUEUE, { policy: 'standard' });
      for (let sent = 0; sent < jobs; sent += 1_000) {
        const size = Math.min(1_000, jobs - sent);
        await boss.insert(
          QUEUE,
          Array.from({ length: size }, (_, i) => ({ data: { n: sent + i } })),
        );
      }
      let handled = 0;
      let allHandled: () => void = () => {};
      const handledAll = new Promise<void>((resolve) => {
        allHandled = resolve;
      });
      const started = performance.now();
      await boss.work(
        QUEUE,
        { batchSize, localConcurrency: workers, pollingIntervalSeconds: 0.5, burstWhenBatchFull: true },
        async (batch) => {
          handled += batch.length;
          if (handled >= jobs) allHandled();
        },
      );
      await handledAll;
      // The last batches are completed after their handlers resolve: wait for the database to agree.
      await eventually(
        'every job completed',
        async () => (await countCompleted(boss, schema)) >= jobs,
        60_000,
      );
      return rate(jobs, performance.now() - started);
    } finally {
      await boss.stop({ graceful: false });
    }
  });
}

/**
 * Send-to-start latency with an idle worker: one job at a time is sent by one pg-boss instance and
 * started by a worker of another (both LISTEN/NOTIFY-enabled, so the wake-up goes through the
 * database exactly as between two processes). Measured from just before `send()` to the handler's
 * first line.
 */
export async function rawPgBossLatency(
  options: RawBenchOptions & { samples?: number; warmup?: number },
): Promise<LatencyResult> {
  const { samples = 200, warmup = 20 } = options;
  return withSchema(options, async (schema) => {
    const sender = await startBoss(options, schema, {});
    const worker = await startBoss(options, schema, { useListenNotify: true });
    try {
      await sender.createQueue(QUEUE, { policy: 'standard', notify: true });
      let onStart: (at: number) => void = () => {};
      await worker.work(QUEUE, { batchSize: 1, notifyPollingIntervalSeconds: 30 }, async () => {
        onStart(performance.now());
      });
      // Let the worker finish its first (empty) fetch and go idle on NOTIFY.
      await delay(300);
      const latencies: number[] = [];
      for (let i = 0; i < warmup + samples; i += 1) {
        const startedAt = new Promise<number>((resolve) => {
          onStart = resolve;
        });
        const sentAt = performance.now();
        await sender.send(QUEUE, { i });
        const latency = (await withTimeout(startedAt, 35_000)) - sentAt;
        if (i >= warmup) latencies.push(latency);
        // Idle again before the next sample: the worker is back waiting on NOTIFY.
        await delay(5);
      }
      return percentiles(latencies);
    } finally {
      await worker.stop({ graceful: false });
      await sender.stop({ graceful: false });
    }
  });
}

async function startBoss(
  options: RawBenchOptions,
  schema: string,
  extra: { max?: number; useListenNotify?: boolean },
): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: options.connectionString,
    schema,
    supervise: false,
    schedule: false,
    max: extra.max ?? 4,
    useListenNotify: extra.useListenNotify ?? false,
  });
  boss.on('error', (error) => console.error('pg-boss (raw bench):', error));
  await boss.start();
  return boss;
}

async function withSchema<T>(options: RawBenchOptions, run: (schema: string) => Promise<T>): Promise<T> {
  const schema = `bench_raw_${randomBytes(4).toString('hex')}`;
  try {
    return await run(schema);
  } finally {
    const client = new pg.Client({ connectionString: options.connectionString });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await client.end();
    }
  }
}

async function countCompleted(boss: PgBoss, schema: string): Promise<number> {
  const { rows } = await boss
    .getDb()
    .executeSql(`SELECT count(*)::int AS n FROM ${schema}.job WHERE name = $1 AND state = 'completed'`, [
      QUEUE,
    ]);
  return rows[0].n as number;
}

export function rate(jobs: number, elapsedMs: number): RateResult {
  const seconds = elapsedMs / 1000;
  return { jobs, seconds, jobsPerSecond: jobs / seconds };
}

export function percentiles(values: readonly number[]): LatencyResult {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
  return {
    samples: sorted.length,
    p50Ms: at(50),
    p95Ms: at(95),
    p99Ms: at(99),
    maxMs: sorted.at(-1) ?? Number.NaN,
  };
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
