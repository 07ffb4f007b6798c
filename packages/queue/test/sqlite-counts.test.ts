// jobCounts reads maintained counters, never COUNT(*): after a long random run of every operation
// that moves jobs (from two backends, with a caller's transactions committing and rolling back),
// the counters must equal what COUNT(*) says, and the age of the oldest ready job must equal what
// a scan finds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSqliteBackend, type SqliteQueueBackend } from '../src/drivers/sqlite/backend.ts';
import type { ClaimedJob, JobState, SqlExecutor } from '../src/index.ts';

let dir: string;
let a: SqliteQueueBackend;
let b: SqliteQueueBackend;
let caller: Database.Database;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offload-sqlite-counts-'));
  const path = join(dir, 'queue.db');
  a = createSqliteBackend({ path });
  b = createSqliteBackend({ path });
  await a.start();
  await b.start();
  caller = new Database(path, { timeout: 5000 });
});

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  caller?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A caller's own connection as an executor (what @offload/db builds from a knex transaction). */
const executor: SqlExecutor = {
  dialect: 'sqlite',
  async query(sql, params) {
    const statement = caller.prepare(sql);
    if (statement.reader) return { rows: statement.all(...params) as Array<Record<string, unknown>> };
    statement.run(...params);
    return { rows: [] };
  },
};

/** A deterministic PRNG (mulberry32), so that a failing run can be replayed. */
function random(seed: number): () => number {
  let t = seed;
  return () => {
    t = (t + 0x6d2b79f5) | 0;
    let x = Math.imul(t ^ (t >>> 15), 1 | t);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function actualCounts(): Map<string, number> {
  const rows = caller
    .prepare('SELECT kind, state, count(*) AS n FROM queue_jobs GROUP BY kind, state')
    .all() as Array<{
    kind: string;
    state: JobState;
    n: number;
  }>;
  return new Map(rows.map((r) => [`${r.kind}/${r.state}`, r.n]));
}

async function reportedCounts(now: Date): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const row of await a.jobCounts(now)) {
    for (const state of ['queued', 'retrying', 'active', 'completed', 'failed', 'cancelled'] as const) {
      if (row[state] !== 0) counts.set(`${row.kind}/${state}`, row[state]);
    }
    const oldest = caller
      .prepare(
        "SELECT min(run_at) FROM queue_jobs WHERE kind = ? AND state IN ('queued', 'retrying') AND run_at <= ?",
      )
      .pluck()
      .get(row.kind, now.toISOString()) as string | null;
    expect(row.oldestQueuedAgeSeconds, row.kind).toBe(
      oldest === null ? null : (now.getTime() - Date.parse(oldest)) / 1000,
    );
  }
  return counts;
}

it('keeps the counters equal to COUNT(*) through a random run of every operation', {
  timeout: 60_000,
}, async () => {
  const next = random(20261122);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const kinds = ['count.a', 'count.b', 'count.c'];
  let clock = Date.now();
  const now = () => new Date(clock);
  const held: ClaimedJob[] = [];
  const ids: string[] = [];

  const operations: Array<[number, () => Promise<unknown>]> = [
    [
      6,
      async () => {
        const batch = Array.from({ length: 1 + Math.floor(next() * 5) }, () => ({
          kind: pick(kinds),
          payload: null,
          priority: Math.floor(next() * 3),
          maxAttempts: 1 + Math.floor(next() * 3),
          leaseSeconds: 1 + Math.floor(next() * 5),
          backoff: { baseMs: 100, maxMs: 2000 },
          runAt: new Date(clock + (next() < 0.2 ? 10_000 : -1000)).toISOString(),
          idempotencyKey: next() < 0.3 ? `key-${Math.floor(next() * 20)}` : undefined,
        }));
        for (const r of await pick([a, b]).jobInsertMany(batch)) ids.push(r.job.id);
      },
    ],
    [
      2,
      async () => {
        // Through the caller's transaction, committed or rolled back.
        const commit = next() < 0.5;
        caller.exec('BEGIN');
        const { job } = await a.jobInsert({ kind: pick(kinds), payload: 'tx', executor });
        caller.exec(commit ? 'COMMIT' : 'ROLLBACK');
        if (commit) ids.push(job.id);
      },
    ],
    [
      6,
      async () => {
        const kindsAsked = next() < 0.5 ? kinds : [pick(kinds)];
        const claimed = await pick([a, b]).jobClaim({
          kinds: kindsAsked,
          limit: 1 + Math.floor(next() * 6),
          workerId: 'w',
          now: now(),
        });
        held.push(...claimed);
      },
    ],
    [
      5,
      async () => {
        const settled = held.splice(0, Math.floor(next() * 4));
        if (settled.length === 0) return;
        if (next() < 0.5) {
          await a.jobCompleteMany(
            settled.map((c) => ({ id: c.job.id, leaseToken: c.leaseToken, result: 1, now: now() })),
          );
        } else {
          for (const c of settled)
            await b.jobComplete({ id: c.job.id, leaseToken: c.leaseToken, now: now() });
        }
      },
    ],
    [
      3,
      async () => {
        const c = held.shift();
        if (c === undefined) return;
        await a.jobFail({
          id: c.job.id,
          leaseToken: c.leaseToken,
          error: { kind: 'Error', message: 'x' },
          final: next() < 0.2,
          now: now(),
        });
      },
    ],
    [
      1,
      async () => {
        const c = held.shift();
        if (c !== undefined) await b.jobRelease({ id: c.job.id, leaseToken: c.leaseToken, now: now() });
      },
    ],
    [2, async () => ids.length > 0 && (await pick([a, b]).jobCancel(pick(ids)))],
    [2, async () => ids.length > 0 && (await pick([a, b]).jobRetry(pick(ids)))],
    [
      2,
      async () => {
        // Time passes: leases expire, retries fall due; the rescuer runs.
        clock += Math.floor(next() * 4000);
        await pick([a, b]).jobRescueExpired(now());
      },
    ],
    [
      1,
      async () => {
        const cutoff = new Date(clock - Math.floor(next() * 3000));
        await a.jobPrune({ completedBefore: cutoff, failedBefore: cutoff });
      },
    ],
  ];
  const weights = operations.reduce((sum, [weight]) => sum + weight, 0);

  for (let step = 1; step <= 600; step += 1) {
    let roll = next() * weights;
    const [, operation] = operations.find(([weight]) => {
      roll -= weight;
      return roll < 0;
    })!;
    await operation();
    if (step % 50 === 0) expect(await reportedCounts(now()), `after step ${step}`).toEqual(actualCounts());
  }
  // Every state was visited.
  const states = new Set([...actualCounts().keys()].map((key) => key.split('/')[1]));
  expect(states.size).toBeGreaterThanOrEqual(5);
  // And the reads never counted: counts come from queue_counts, one row per (kind, state).
  expect(caller.prepare('SELECT count(*) FROM queue_counts').pluck().get()).toBeLessThanOrEqual(
    kinds.length * 6 + 3,
  );
});
