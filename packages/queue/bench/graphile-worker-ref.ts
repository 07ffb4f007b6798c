// The second reference of the PostgreSQL benchmark (issue 17): graphile-worker 0.18 in its batched
// mode, tuned as its performance page advises for throughput:
//
// - enqueue: `addJobs` (one statement per batch);
// - drain: one runner with `concurrentJobs` 24 on a pool of 25, a local queue of 500 (jobs fetched
//   and locked 500 at a time, handed out in memory) and batched completion and failure
//   (`completeJobBatchDelay` / `failJobBatchDelay` 0: completions of the same tick go in one
//   statement);
// - latency: the same runner idle on its LISTEN connection, woken by the NOTIFY its insert trigger
//   sends, one job at a time sent through `makeWorkerUtils` of another pool (as from another process).
//
// graphile-worker deletes a job when it completes, so the drain's clock stops when its job table
// is empty (the last batched completion committed). The caller hands a fresh database.
import { performance } from 'node:perf_hooks';
import { type Job, Logger, makeWorkerUtils, type Runner, run, type WorkerUtils } from 'graphile-worker';
import pg from 'pg';
import { delay, type LatencyResult, percentiles, type RateResult, rate, withTimeout } from './pgboss-raw.ts';

const TASK = 'bench_noop';

/** The tuning of graphile-worker's performance page (its "quick stats" configuration). */
export const GRAPHILE_BATCHED: {
  concurrentJobs: number;
  maxPoolSize: number;
  localQueueSize: number;
  completeJobBatchDelay: number;
  failJobBatchDelay: number;
} = {
  concurrentJobs: 24,
  maxPoolSize: 25,
  localQueueSize: 500,
  completeJobBatchDelay: 0,
  failJobBatchDelay: 0,
};

const quiet = new Logger(() => () => {});

/** Jobs/s for `jobs` no-op jobs sent with `addJobs` in batches of `batchSize`. */
export function graphileEnqueueRate(options: {
  connectionString: string;
  jobs: number;
  batchSize: number;
}): Promise<RateResult> {
  return withGraphile(options.connectionString, async ({ utils }) => {
    const began = performance.now();
    await addInBatches(utils.addJobs, options.jobs, options.batchSize);
    return rate(options.jobs, performance.now() - began);
  });
}

/**
 * Jobs/s draining `jobs` pre-inserted no-op jobs with one batched-mode runner; the clock stops
 * when the job table is empty (every completion committed).
 */
export function graphileDrainRate(options: { connectionString: string; jobs: number }): Promise<RateResult> {
  return withGraphile(options.connectionString, async ({ utils, pool, start }) => {
    await addInBatches(utils.addJobs, options.jobs, 1000);
    let handled = 0;
    const allHandled = Promise.withResolvers<void>();
    const began = performance.now();
    await start(() => {
      handled += 1;
      if (handled === options.jobs) allHandled.resolve();
    });
    await allHandled.promise;
    // The last completions are batched after their handlers returned: wait for them to commit.
    for (;;) {
      const { rows } = await pool.query(
        'SELECT EXISTS (SELECT 1 FROM graphile_worker._private_jobs) AS left',
      );
      if (rows[0].left !== true) break;
      await delay(1);
    }
    return rate(options.jobs, performance.now() - began);
  });
}

/**
 * Send-to-start latency with an idle batched-mode runner: one job at a time sent by `addJob` on
 * another pool, from just before the send to the task's first line.
 */
export function graphileLatency(options: {
  connectionString: string;
  samples: number;
  warmup: number;
}): Promise<LatencyResult> {
  return withGraphile(options.connectionString, async ({ utils, start }) => {
    let onStart: (at: number) => void = () => {};
    await start(() => onStart(performance.now()));
    await delay(300); // its first (empty) fetch done, the runner waits on LISTEN
    const latencies: number[] = [];
    for (let i = 0; i < options.warmup + options.samples; i += 1) {
      const startedAt = new Promise<number>((resolve) => {
        onStart = resolve;
      });
      const sentAt = performance.now();
      await utils.addJob(TASK, { i });
      const latency = (await withTimeout(startedAt, 35_000)) - sentAt;
      if (i >= options.warmup) latencies.push(latency);
      await delay(5); // idle again before the next one
    }
    return percentiles(latencies);
  });
}

interface Graphile {
  /** Worker utilities (migrated) on a small pool of their own, as a sending process would have. */
  utils: WorkerUtils;
  pool: pg.Pool;
  /** Starts the batched-mode runner on a pool of its own, calling `onJob` first in every job. */
  start: (onJob: () => void) => Promise<Runner>;
}

/** Runs `fn` with graphile-worker installed, then stops its runner and closes every pool. */
async function withGraphile<T>(connectionString: string, fn: (graphile: Graphile) => Promise<T>): Promise<T> {
  const pool = ownPool(connectionString, 2);
  const workerPool = ownPool(connectionString, GRAPHILE_BATCHED.maxPoolSize);
  let runner: Runner | null = null;
  let utils: WorkerUtils | null = null;
  try {
    utils = await makeWorkerUtils({ pgPool: pool, logger: quiet });
    await utils.migrate();
    return await fn({
      utils,
      pool,
      start: async (onJob) => {
        runner = await startRunner(workerPool, onJob);
        return runner;
      },
    });
  } finally {
    await (runner as Runner | null)?.stop();
    await utils?.release();
    await Promise.all([pool.end(), workerPool.end()]);
  }
}

/**
 * A pool of our own, handed to graphile-worker (which ends the pools it makes without waiting), so
 * that it is closed before the caller drops the database; an idle connection's error is ignored.
 */
function ownPool(connectionString: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString, max });
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

function startRunner(pgPool: pg.Pool, onJob: () => void): Promise<Runner> {
  return run({
    pgPool,
    logger: quiet,
    noHandleSignals: true,
    taskList: {
      [TASK]: () => {
        onJob();
      },
    },
    preset: {
      worker: {
        concurrentJobs: GRAPHILE_BATCHED.concurrentJobs,
        localQueue: { size: GRAPHILE_BATCHED.localQueueSize },
        completeJobBatchDelay: GRAPHILE_BATCHED.completeJobBatchDelay,
        failJobBatchDelay: GRAPHILE_BATCHED.failJobBatchDelay,
      },
    },
  });
}

async function addInBatches(
  addJobs: (specs: Array<{ identifier: string; payload: unknown }>) => Promise<ReadonlyArray<Job>>,
  jobs: number,
  batchSize: number,
): Promise<void> {
  for (let sent = 0; sent < jobs; sent += batchSize) {
    const size = Math.min(batchSize, jobs - sent);
    await addJobs(Array.from({ length: size }, (_, i) => ({ identifier: TASK, payload: { n: sent + i } })));
  }
}
