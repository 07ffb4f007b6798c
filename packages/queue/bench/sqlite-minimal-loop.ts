// The reference the SQLite backend's drain rate is measured against (DESIGN.md §6: at least half
// of it): the least a queue on SQLite can do. Its own tiny table (id, state, payload); a claim in
// BEGIN IMMEDIATE by one UPDATE … RETURNING, a no-op "handler", and the claimed jobs marked done by
// one more UPDATE: no leases, attempts, counters, events or listeners. Same file settings as the
// backend (WAL, synchronous NORMAL), and it yields to the event loop once per claim, as any worker
// that also serves timers and I/O must.
//
// `batchSize` is the jobs per claim: 1 is the minimal claim loop itself (the benchmark's target
// reference); 500 is the ceiling of any queue on a SQLite file (printed beside it, no target).
//
//   import { minimalSqliteDrainRate } from './sqlite-minimal-loop.ts';
//   const { jobsPerSecond } = await minimalSqliteDrainRate({ path: '/tmp/x.db', jobs: 20_000, batchSize: 1 });
//
// Every function creates its table if missing; give each a fresh file.
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { type LatencyResult, percentiles, type RateResult } from './pgboss-raw.ts';

export interface MinimalLoopOptions {
  /** A SQLite file of the benchmark's own (created if missing). */
  path: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS minimal_jobs (
  id      INTEGER PRIMARY KEY,
  state   INTEGER NOT NULL DEFAULT 0,   -- 0 queued, 1 active, 2 done
  payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS minimal_jobs_queued ON minimal_jobs (id) WHERE state = 0;`;

/** insert: one queued job. Parameters: payload JSON. */
const INSERT = 'INSERT INTO minimal_jobs (payload) VALUES (?)';

/** claim: the oldest `?` queued jobs become active. */
const CLAIM = `
UPDATE minimal_jobs SET state = 1
WHERE id IN (SELECT id FROM minimal_jobs WHERE state = 0 ORDER BY id LIMIT ?)
RETURNING id, payload`;

/** finish: the given jobs (a JSON array of ids) are done. */
const FINISH = 'UPDATE minimal_jobs SET state = 2 WHERE id IN (SELECT value FROM json_each(?))';

function open(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(SCHEMA);
  return db;
}

function enqueue(db: Database.Database, jobs: number, batchSize: number, from = 0): void {
  const insert = db.prepare<[string]>(INSERT);
  const batch = db.transaction((start: number, size: number) => {
    for (let i = 0; i < size; i += 1) insert.run(JSON.stringify({ n: start + i }));
  });
  for (let sent = 0; sent < jobs; sent += batchSize)
    batch.immediate(from + sent, Math.min(batchSize, jobs - sent));
}

/** Jobs/s inserting `jobs` no-op jobs, `batchSize` per transaction. */
export async function minimalSqliteEnqueueRate(
  options: MinimalLoopOptions & { jobs: number; batchSize?: number },
): Promise<RateResult> {
  const db = open(options.path);
  try {
    const began = performance.now();
    enqueue(db, options.jobs, options.batchSize ?? 1000);
    return rate(options.jobs, performance.now() - began);
  } finally {
    db.close();
  }
}

/** Jobs/s draining `jobs` pre-inserted no-op jobs, `batchSize` per claim. */
export async function minimalSqliteDrainRate(
  options: MinimalLoopOptions & { jobs: number; batchSize: number },
): Promise<RateResult> {
  const db = open(options.path);
  try {
    enqueue(db, options.jobs, 1000);
    const claim = db.prepare<[number], { id: number; payload: string }>(CLAIM);
    const finish = db.prepare<[string]>(FINISH);
    const claimBatch = db.transaction((size: number) => claim.all(size));
    const finishBatch = db.transaction((ids: number[]) => finish.run(JSON.stringify(ids)));
    const { batchSize } = options;
    let done = 0;
    const began = performance.now();
    for (;;) {
      const jobs = claimBatch.immediate(batchSize);
      if (jobs.length === 0) break;
      const ids: number[] = [];
      for (const job of jobs) {
        JSON.parse(job.payload); // the no-op handler gets its payload
        ids.push(job.id);
      }
      finishBatch.immediate(ids);
      done += jobs.length;
      await yieldToEventLoop();
    }
    const elapsed = performance.now() - began;
    if (done !== options.jobs) throw new Error(`minimal loop drained ${done} of ${options.jobs} jobs`);
    return rate(done, elapsed);
  } finally {
    db.close();
  }
}

/**
 * Send-to-start latency with an idle consumer: one job at a time inserted on one connection and
 * claimed on another, which notices commits by polling `PRAGMA data_version` every millisecond
 * (the cheapest cross-connection wake-up SQLite offers), from just before the insert to the claim.
 */
export async function minimalSqliteLatency(
  options: MinimalLoopOptions & { samples: number; warmup?: number },
): Promise<LatencyResult> {
  const warmup = options.warmup ?? 20;
  const producer = open(options.path);
  const consumer = open(options.path);
  const insert = producer.prepare<[string]>(INSERT);
  const claim = consumer.prepare<[number], { id: number; payload: string }>(CLAIM);
  const claimOne = consumer.transaction(() => claim.all(1));
  const dataVersion = consumer.prepare<[], number>('PRAGMA data_version').pluck();
  let version = dataVersion.get()!;
  let onClaim: (at: number) => void = () => {};
  const timer = setInterval(() => {
    const current = dataVersion.get()!;
    if (current === version) return;
    version = current;
    if (claimOne.immediate().length > 0) onClaim(performance.now());
  }, 1);
  try {
    const latencies: number[] = [];
    for (let i = 0; i < warmup + options.samples; i += 1) {
      const claimed = new Promise<number>((resolve) => {
        onClaim = resolve;
      });
      const sentAt = performance.now();
      insert.run(JSON.stringify({ i }));
      const latency = (await claimed) - sentAt;
      if (i >= warmup) latencies.push(latency);
      await new Promise((resolve) => setTimeout(resolve, 5)); // idle again before the next one
    }
    return percentiles(latencies);
  } finally {
    clearInterval(timer);
    consumer.close();
    producer.close();
  }
}

function rate(jobs: number, elapsedMs: number): RateResult {
  const seconds = elapsedMs / 1000;
  return { jobs, seconds, jobsPerSecond: jobs / seconds };
}
