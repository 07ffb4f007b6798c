// The SQLite backend's leases: fencing by token (and by id: a token cannot be used on another
// job), rescue at a given `now`, and the retry backoff. Crashes are written as state (a claim
// whose lease the test lets expire by passing a later `now`), never waited for.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteBackend, type SqliteQueueBackend } from '../src/drivers/sqlite/backend.ts';
import { refused, STORED } from './conformance/harness.ts';

let dir: string;
let a: SqliteQueueBackend;
let b: SqliteQueueBackend;
let kindNo = 0;
function kind(label: string): string {
  kindNo += 1;
  return `sqlite.${label}.${kindNo}`;
}
const at = (t0: number, ms: number) => new Date(t0 + ms);
const boom = (message = 'boom') => ({ kind: 'Error', message });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offload-sqlite-leases-'));
  // Two backends on one file: as two worker processes (each has its own connections).
  a = createSqliteBackend({ path: join(dir, 'queue.db') });
  b = createSqliteBackend({ path: join(dir, 'queue.db') });
  await a.start();
  await b.start();
});

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('fencing', () => {
  it('refuses every transition of an attempt whose lease expired and was taken over', async () => {
    const k = kind('fence');
    const { job } = await a.jobInsert({
      kind: k,
      payload: {},
      leaseSeconds: 1,
      backoff: { baseMs: 0, maxMs: 0 },
    });
    const t0 = Date.now();
    const [first] = await a.jobClaim({ kinds: [k], limit: 1, workerId: 'A', now: at(t0, 0) });
    // A stalls; the rescuer (in another process) takes the job back; B claims the next attempt.
    expect(await b.jobRescueExpired(at(t0, 1001))).toBe(1);
    const [second] = await b.jobClaim({ kinds: [k], limit: 1, workerId: 'B', now: at(t0, 1002) });
    expect(second!.job).toMatchObject({ id: job.id, attempts: 2, state: 'active' });

    const stale = { id: job.id, leaseToken: first!.leaseToken };
    const reclaimed = refused('active', true);
    expect(await a.jobHeartbeat(stale)).toEqual(reclaimed);
    expect(await a.jobProgress({ ...stale, progress: { from: 'A' } })).toEqual(reclaimed);
    expect(await a.jobComplete({ ...stale, result: 'A' })).toEqual(reclaimed);
    expect(await a.jobCompleteMany([{ ...stale, result: 'A' }])).toEqual([reclaimed]);
    expect(await a.jobFail({ ...stale, error: boom('A') })).toEqual(reclaimed);
    expect(await a.jobRelease(stale)).toEqual(reclaimed);
    expect(await a.jobGet(job.id)).toMatchObject({
      state: 'active',
      attempts: 2,
      progress: null,
      result: null,
    });

    expect(await b.jobComplete({ id: job.id, leaseToken: second!.leaseToken, result: 'B' })).toEqual(STORED);
    expect(await a.jobGet(job.id)).toMatchObject({ state: 'completed', result: 'B' });
  });

  it("does not let one job's lease token settle another job", async () => {
    const k = kind('cross');
    await a.jobInsertMany([
      { kind: k, payload: 1 },
      { kind: k, payload: 2 },
    ]);
    const [x, y] = await a.jobClaim({ kinds: [k], limit: 2, workerId: 'w' });
    const swapped = { id: y!.job.id, leaseToken: x!.leaseToken };
    // Another job's token is another lease than the one holding the job: refused, found reclaimed.
    const reclaimed = refused('active', true);
    expect(await a.jobHeartbeat(swapped)).toEqual(reclaimed);
    expect(await a.jobComplete(swapped)).toEqual(reclaimed);
    expect(await a.jobFail({ ...swapped, error: boom() })).toEqual(reclaimed);
    expect(await a.jobRelease(swapped)).toEqual(reclaimed);
    for (const garbage of ['', 'x', '.', '12', '-1.ab', '1e3.ab', `${Number.MAX_SAFE_INTEGER}9.ab`]) {
      expect(await a.jobComplete({ id: x!.job.id, leaseToken: garbage })).toEqual(reclaimed);
    }
    expect(await a.jobCompleteMany([swapped, { id: x!.job.id, leaseToken: x!.leaseToken }])).toEqual([
      reclaimed,
      STORED,
    ]);
    expect(await a.jobGet(y!.job.id)).toMatchObject({ state: 'active' });
  });

  it('fences each item of a batch of completions without results on its own (id, token) pair', async () => {
    const k = kind('batch');
    await a.jobInsertMany([1, 2, 3, 4].map((n) => ({ kind: k, payload: n })));
    const [w, x, y, z] = await a.jobClaim({ kinds: [k], limit: 4, workerId: 'A' });
    // w is cancelled, retried and claimed by B: A's completion of w is stale.
    await a.jobCancel(w!.job.id);
    await a.jobRetry(w!.job.id);
    const [again] = await b.jobClaim({ kinds: [k], limit: 1, workerId: 'B' });
    expect(again!.job.id).toBe(w!.job.id);
    // Both ids and both tokens of x and y are in the batch, but paired wrongly.
    const stored = await a.jobCompleteMany([
      { id: w!.job.id, leaseToken: w!.leaseToken },
      { id: x!.job.id, leaseToken: y!.leaseToken },
      { id: y!.job.id, leaseToken: x!.leaseToken },
      { id: z!.job.id, leaseToken: z!.leaseToken },
    ]);
    const reclaimed = refused('active', true);
    expect(stored).toEqual([reclaimed, reclaimed, reclaimed, STORED]);
    expect(await a.jobGet(w!.job.id)).toMatchObject({ state: 'active', attempts: 1 });
    expect(await a.jobGet(x!.job.id)).toMatchObject({ state: 'active' });
    expect(await a.jobGet(z!.job.id)).toMatchObject({ state: 'completed', result: null });
    expect((await a.jobCounts()).find((c) => c.kind === k)).toMatchObject({ active: 3, completed: 1 });
    expect(
      await a.jobCompleteMany([
        { id: x!.job.id, leaseToken: x!.leaseToken },
        { id: y!.job.id, leaseToken: y!.leaseToken },
        { id: w!.job.id, leaseToken: again!.leaseToken },
      ]),
    ).toEqual([STORED, STORED, STORED]);
    expect((await a.jobCounts()).find((c) => c.kind === k)).toMatchObject({ active: 0, completed: 4 });
  });

  it('gives each claimed job a lease of its own length, default or not', async () => {
    const k = kind('lease-length');
    await a.jobInsertMany([
      { kind: k, payload: 1 },
      { kind: k, payload: 2, leaseSeconds: 3 },
    ]);
    const now = new Date(Date.now() + 1000);
    const claimed = await a.jobClaim({ kinds: [k], limit: 2, workerId: 'w', now });
    const expiry = (payload: number) => claimed.find((c) => c.job.payload === payload)?.leaseExpiresAt;
    expect(expiry(1)).toBe(new Date(now.getTime() + 30_000).toISOString());
    expect(expiry(2)).toBe(new Date(now.getTime() + 3_000).toISOString());
    const settled = await a.jobCompleteMany(claimed.map((c) => ({ id: c.job.id, leaseToken: c.leaseToken })));
    expect(settled).toEqual([STORED, STORED]);
  });

  it('cancelling an active job voids its lease at once', async () => {
    const k = kind('cancel');
    const { job } = await a.jobInsert({ kind: k, payload: {} });
    const [claimed] = await b.jobClaim({ kinds: [k], limit: 1, workerId: 'w' });
    expect(await a.jobCancel(job.id)).toMatchObject({ stored: true, job: { state: 'cancelled' } });
    expect(await b.jobHeartbeat({ id: job.id, leaseToken: claimed!.leaseToken })).toEqual(
      refused('cancelled'),
    );
    expect(await b.jobComplete({ id: job.id, leaseToken: claimed!.leaseToken })).toEqual(
      refused('cancelled'),
    );
  });
});

describe('rescue', () => {
  it('moves only leases expired at the given now, heartbeats included', async () => {
    const k = kind('rescue');
    const sent = await a.jobInsertMany([
      { kind: k, payload: 'short', leaseSeconds: 2, backoff: { baseMs: 500, maxMs: 500 } },
      { kind: k, payload: 'long', leaseSeconds: 60 },
      { kind: k, payload: 'last', leaseSeconds: 2, maxAttempts: 1 },
      { kind: k, payload: 'beating', leaseSeconds: 2 },
    ]);
    // After the insert: the jobs are due from the instant they were sent, so a claim at an
    // earlier instant (the clock ticking between the two) would find none.
    const t0 = Date.now();
    const claimed = await a.jobClaim({ kinds: [k], limit: 4, workerId: 'dead', now: at(t0, 0) });
    expect(claimed).toHaveLength(4);
    const byPayload = new Map(claimed.map((c) => [c.job.payload, c]));
    const beating = byPayload.get('beating')!;
    expect(
      await a.jobHeartbeat({ id: beating.job.id, leaseToken: beating.leaseToken, now: at(t0, 1500) }),
    ).toEqual(STORED);

    expect(await b.jobRescueExpired(at(t0, 1999))).toBe(0);
    expect(await b.jobRescueExpired(at(t0, 2001))).toBe(2);
    const [short, long, last, beat] = await Promise.all(sent.map((r) => a.jobGet(r.job.id)));
    expect(short).toMatchObject({ state: 'retrying', attempts: 1, error: { kind: 'LeaseExpired' } });
    const delay = Date.parse(short!.runAt) - (t0 + 2001);
    expect(delay).toBeGreaterThanOrEqual(0);
    expect(delay).toBeLessThanOrEqual(500);
    expect(long).toMatchObject({ state: 'active' });
    expect(last).toMatchObject({ state: 'failed', attempts: 1, error: { kind: 'LeaseExpired' } });
    expect(last!.finishedAt).toBe(new Date(t0 + 2001).toISOString());
    expect(beat).toMatchObject({ state: 'active' });
    // The renewed lease (1.5 s + 2 s) runs out later.
    expect(await b.jobRescueExpired(at(t0, 3501))).toBe(1);
    expect(await a.jobGet(beating.job.id)).toMatchObject({ state: 'retrying' });
  });

  it('rescues more than one batch in one call', async () => {
    const k = kind('rescue-many');
    await a.jobInsertMany(Array.from({ length: 1203 }, () => ({ kind: k, payload: null, leaseSeconds: 1 })));
    const t0 = Date.now();
    let claimed = 0;
    for (;;) {
      const batch = await a.jobClaim({ kinds: [k], limit: 1000, workerId: 'dead', now: at(t0, 0) });
      if (batch.length === 0) break;
      claimed += batch.length;
    }
    expect(claimed).toBe(1203);
    expect(await a.jobRescueExpired(at(t0, 5000))).toBe(1203);
    const counts = (await a.jobCounts(at(t0, 5000))).find((c) => c.kind === k);
    expect(counts).toMatchObject({ active: 0, retrying: 1203 });
  });
});

describe('backoff', () => {
  it('waits a full-jitter delay under base·2^(attempt-1), capped at maxMs', async () => {
    const k = kind('backoff');
    const backoff = { baseMs: 1000, maxMs: 5000 };
    const jobs = await a.jobInsertMany(
      Array.from({ length: 20 }, () => ({ kind: k, payload: null, maxAttempts: 6, backoff })),
    );
    let now = Date.now();
    const delays: number[][] = [];
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      const claimed = await a.jobClaim({ kinds: [k], limit: 20, workerId: 'w', now: new Date(now) });
      expect(claimed).toHaveLength(20);
      const failedAt = new Date(now + 1);
      const row: number[] = [];
      for (const c of claimed) {
        expect(c.job.attempts).toBe(attempt);
        expect(
          await a.jobFail({ id: c.job.id, leaseToken: c.leaseToken, error: boom(), now: failedAt }),
        ).toEqual(STORED);
        const after = (await a.jobGet(c.job.id))!;
        expect(after.state).toBe('retrying');
        row.push(Date.parse(after.runAt) - failedAt.getTime());
      }
      const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** (attempt - 1));
      for (const delay of row) {
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
      // Full jitter spreads them: twenty failures at once do not come back at one instant.
      expect(new Set(row).size).toBeGreaterThan(10);
      delays.push(row);
      now = failedAt.getTime() + backoff.maxMs + 1;
    }
    // Attempt 6 is the last: its failure is final whatever the backoff.
    const last = await a.jobClaim({ kinds: [k], limit: 20, workerId: 'w', now: new Date(now) });
    for (const c of last) await a.jobFail({ id: c.job.id, leaseToken: c.leaseToken, error: boom() });
    for (const { job } of jobs)
      expect(await a.jobGet(job.id)).toMatchObject({ state: 'failed', attempts: 6 });
    expect(delays).toHaveLength(5);
  });

  it('fails at once when the error is final, and release gives the attempt back', async () => {
    const k = kind('final');
    await a.jobInsertMany([
      { kind: k, payload: 'final', maxAttempts: 5 },
      { kind: k, payload: 'released', maxAttempts: 5 },
    ]);
    const claimed = await a.jobClaim({ kinds: [k], limit: 2, workerId: 'w' });
    const byPayload = new Map(claimed.map((c) => [c.job.payload, c]));
    const final = byPayload.get('final')!;
    const released = byPayload.get('released')!;
    expect(
      await a.jobFail({ id: final.job.id, leaseToken: final.leaseToken, error: boom(), final: true }),
    ).toEqual(STORED);
    expect(await a.jobGet(final.job.id)).toMatchObject({ state: 'failed', attempts: 1 });
    expect(await a.jobRelease({ id: released.job.id, leaseToken: released.leaseToken })).toEqual(STORED);
    expect(await a.jobGet(released.job.id)).toMatchObject({ state: 'queued', attempts: 0, startedAt: null });
  });
});
