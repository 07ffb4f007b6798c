// Sending, claiming and settling jobs through the backend interface itself.
import { describe, expect, it } from 'vitest';
import type { JobError } from '../../src/index.ts';
import type { Environment } from './environment.ts';
import { getJob, later, refused, STORED, uniqueKind } from './harness.ts';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const WORKER = 'conformance:worker';

export function jobCases(env: Environment): void {
  describe('send', () => {
    it('inserts a job with every option and reads it back', async () => {
      const kind = uniqueKind('insert');
      const runAt = new Date(Date.now() - 1000).toISOString();
      const { job, created } = await env.a.jobInsert({
        kind,
        payload: { n: 1, nested: { list: [1, 'two', null] } },
        priority: 7,
        runAt,
        maxAttempts: 5,
        owner: 'alice',
        meta: { requestId: 'req-1' },
        idempotencyKey: 'key-1',
      });
      expect(created).toBe(true);
      expect(job).toMatchObject({
        kind,
        state: 'queued',
        payload: { n: 1, nested: { list: [1, 'two', null] } },
        priority: 7,
        progress: null,
        attempts: 0,
        maxAttempts: 5,
        result: null,
        error: null,
        owner: 'alice',
        meta: { requestId: 'req-1' },
        idempotencyKey: 'key-1',
        startedAt: null,
        finishedAt: null,
      });
      expect(job.id).toEqual(expect.any(String));
      expect(job.createdAt).toMatch(ISO);
      expect(Date.parse(job.runAt)).toBe(Date.parse(runAt));
      expect(await env.b.jobGet(job.id)).toEqual(job);
    });

    it('applies the defaults: priority 0, three attempts, run now', async () => {
      const kind = uniqueKind('defaults');
      const before = Date.now();
      const { job } = await env.a.jobInsert({ kind, payload: null });
      expect(job).toMatchObject({ priority: 0, maxAttempts: 3, owner: null, meta: {}, idempotencyKey: null });
      expect(Date.parse(job.runAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(job.runAt)).toBeLessThanOrEqual(Date.now() + 1000);
    });

    it('inserts many at once, in order', async () => {
      const kind = uniqueKind('many');
      const results = await env.a.jobInsertMany(
        Array.from({ length: 25 }, (_, i) => ({ kind, payload: { i }, priority: i % 3 })),
      );
      expect(results).toHaveLength(25);
      expect(results.every((r) => r.created)).toBe(true);
      expect(results.map((r) => r.job.payload)).toEqual(Array.from({ length: 25 }, (_, i) => ({ i })));
      expect(new Set(results.map((r) => r.job.id)).size).toBe(25);
    });

    it('returns the retained job for a repeated idempotency key, per kind', async () => {
      const kind = uniqueKind('idem');
      const first = await env.a.jobInsert({ kind, payload: { v: 1 }, idempotencyKey: 'same' });
      const again = await env.b.jobInsert({ kind, payload: { v: 2 }, idempotencyKey: 'same' });
      expect(again.created).toBe(false);
      expect(again.job.id).toBe(first.job.id);
      expect(again.job.payload).toEqual({ v: 1 });
      const otherKind = await env.a.jobInsert({
        kind: uniqueKind('idem'),
        payload: {},
        idempotencyKey: 'same',
      });
      expect(otherKind.created).toBe(true);
      expect(otherKind.job.id).not.toBe(first.job.id);

      const [x, y, z] = await env.a.jobInsertMany([
        { kind, payload: { v: 3 }, idempotencyKey: 'same' },
        { kind, payload: { v: 4 }, idempotencyKey: 'other' },
        { kind, payload: { v: 5 }, idempotencyKey: 'other' },
      ]);
      expect(x).toMatchObject({ created: false, job: { id: first.job.id } });
      expect(y!.created).toBe(true);
      expect(z).toMatchObject({ created: false, job: { id: y!.job.id } });
    });

    it('sends the jobs of concurrent callers together (group commit), each its own job', async () => {
      const kind = uniqueKind('group');
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          env.a.jobInsert({ kind, payload: { i }, ...(i % 10 === 9 ? { idempotencyKey: 'same' } : {}) }),
        ),
      );
      // Four sends shared one key: one created the job, the others got it.
      const keyed = results.filter((r) => r.job.idempotencyKey === 'same');
      expect(keyed.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(keyed.map((r) => r.job.id)).size).toBe(1);
      const own = results.filter((r) => r.job.idempotencyKey === null);
      expect(own.every((r) => r.created)).toBe(true);
      expect(new Set(own.map((r) => r.job.id)).size).toBe(36);
      expect(own.map((r) => r.job.payload)).toEqual(
        Array.from({ length: 40 }, (_, i) => i)
          .filter((i) => i % 10 !== 9)
          .map((i) => ({ i })),
      );
      // One write for the unkeyed ones: they share their creation instant. (A keyed send may go
      // alone: the pg-boss backend does not group them.)
      expect(new Set(own.map((r) => r.job.createdAt)).size).toBe(1);
      const stored = await Promise.all(own.map((r) => env.b.jobGet(r.job.id)));
      expect(stored.map((job) => job?.payload)).toEqual(own.map((r) => r.job.payload));
    });

    it('refuses bad options or a payload JSON cannot hold at once, failing only that send', async () => {
      const kind = uniqueKind('options');
      const [ok, badOptions, badPayload] = await Promise.allSettled([
        env.a.jobInsert({ kind, payload: 1 }),
        env.a.jobInsert({ kind, payload: 2, maxAttempts: 0 }),
        // JSON cannot hold a BigInt: refused before it can fail the others' write.
        env.a.jobInsert({ kind, payload: { n: 3n } as never }),
      ]);
      expect(ok).toMatchObject({ status: 'fulfilled', value: { created: true } });
      expect(badOptions).toMatchObject({ status: 'rejected', reason: { name: 'TypeError' } });
      expect(badPayload).toMatchObject({ status: 'rejected', reason: { name: 'TypeError' } });
    });

    it("commits with the caller's transaction", async () => {
      const kind = uniqueKind('tx-commit');
      const id = await env.ctx.transaction(async (executor) => {
        const { job } = await env.a.jobInsert({ kind, payload: { in: 'tx' }, executor });
        // Not visible outside the transaction until it commits.
        expect(await env.b.jobGet(job.id)).toBeNull();
        return job.id;
      });
      expect(await getJob(env.b, id)).toMatchObject({ kind, state: 'queued', payload: { in: 'tx' } });
      const claimed = await env.b.jobClaim({ kinds: [kind], limit: 5, workerId: WORKER });
      expect(claimed.map((c) => c.job.id)).toEqual([id]);
    });

    it("rolls back with the caller's transaction, its own writes too", async () => {
      const kind = uniqueKind('tx-rollback');
      await env.ctx.exec('CREATE TABLE IF NOT EXISTS conformance_orders (id integer primary key, note text)');
      let id = '';
      await expect(
        env.ctx.transaction(async (executor, exec) => {
          await exec("INSERT INTO conformance_orders (id, note) VALUES (42, 'rolled back')");
          const [one] = await env.a.jobInsertMany([{ kind, payload: {}, executor }]);
          id = one!.job.id;
          throw new Error('caller gives up');
        }),
      ).rejects.toThrow('caller gives up');
      expect(id).not.toBe('');
      expect(await env.a.jobGet(id)).toBeNull();
      expect(await env.a.jobClaim({ kinds: [kind], limit: 5, workerId: WORKER })).toEqual([]);
      expect(await env.ctx.exec('SELECT id FROM conformance_orders WHERE id = 42')).toEqual([]);
    });
  });

  describe('claim', () => {
    it('claims highest priority first, then oldest', async () => {
      const kind = uniqueKind('priority');
      const low = await env.a.jobInsert({ kind, payload: 'low', priority: 0 });
      const high = await env.a.jobInsert({ kind, payload: 'high', priority: 10 });
      const mid1 = await env.a.jobInsert({ kind, payload: 'mid1', priority: 5 });
      const mid2 = await env.a.jobInsert({ kind, payload: 'mid2', priority: 5 });
      const order: string[] = [];
      for (let i = 0; i < 4; i += 1) {
        const [claimed] = await env.b.jobClaim({ kinds: [kind], limit: 1, workerId: WORKER });
        order.push(claimed!.job.id);
      }
      expect(order).toEqual([high.job.id, mid1.job.id, mid2.job.id, low.job.id]);
      expect(await env.b.jobClaim({ kinds: [kind], limit: 1, workerId: WORKER })).toEqual([]);
    });

    it('claims up to the limit, only the kinds asked for, each job once', async () => {
      const kind = uniqueKind('limit');
      const other = uniqueKind('limit-other');
      await env.a.jobInsertMany(Array.from({ length: 7 }, () => ({ kind, payload: {} })));
      await env.a.jobInsert({ kind: other, payload: {} });
      const [first, second] = await Promise.all([
        env.a.jobClaim({ kinds: [kind], limit: 4, workerId: 'w1' }),
        env.b.jobClaim({ kinds: [kind], limit: 4, workerId: 'w2' }),
      ]);
      const ids = [...first!, ...second!].map((c) => c.job.id);
      expect(first!.length).toBeLessThanOrEqual(4);
      expect(second!.length).toBeLessThanOrEqual(4);
      expect(ids).toHaveLength(7);
      expect(new Set(ids).size).toBe(7);
      for (const claimed of [...first!, ...second!]) {
        expect(claimed.job).toMatchObject({ kind, state: 'active', attempts: 1 });
        expect(claimed.job.startedAt).toMatch(ISO);
        expect(claimed.leaseToken).toEqual(expect.any(String));
        expect(Date.parse(claimed.leaseExpiresAt)).toBeGreaterThan(Date.now());
      }
      const otherClaim = await env.a.jobClaim({ kinds: [other, kind], limit: 10, workerId: 'w1' });
      expect(otherClaim.map((c) => c.job.kind)).toEqual([other]);
    });

    it('does not claim a job before its runAt', async () => {
      const kind = uniqueKind('run-at');
      const { job } = await env.a.jobInsert({ kind, payload: {}, runAt: later(3_600_000).toISOString() });
      expect(await env.a.jobClaim({ kinds: [kind], limit: 1, workerId: WORKER })).toEqual([]);
      const claimed = await env.a.jobClaim({
        kinds: [kind],
        limit: 1,
        workerId: WORKER,
        now: later(7_200_000),
      });
      expect(claimed.map((c) => c.job.id)).toEqual([job.id]);
    });

    it('leases for leaseSeconds', async () => {
      const kind = uniqueKind('lease');
      await env.a.jobInsert({ kind, payload: {}, leaseSeconds: 120 });
      const now = new Date();
      const [claimed] = await env.a.jobClaim({ kinds: [kind], limit: 1, workerId: WORKER, now });
      const leaseMs = Date.parse(claimed!.leaseExpiresAt) - now.getTime();
      expect(leaseMs).toBeGreaterThan(119_000);
      expect(leaseMs).toBeLessThan(121_000);
    });
  });

  describe('settle', () => {
    it('completes with a result, once', async () => {
      const kind = uniqueKind('complete');
      const { job } = await env.a.jobInsert({ kind, payload: {} });
      const [claimed] = await env.b.jobClaim({ kinds: [kind], limit: 1, workerId: WORKER });
      expect(
        await env.b.jobProgress({ id: job.id, leaseToken: claimed!.leaseToken, progress: { pct: 50 } }),
      ).toEqual(STORED);
      expect(await getJob(env.a, job.id)).toMatchObject({ state: 'active', progress: { pct: 50 } });
      expect(
        await env.b.jobComplete({ id: job.id, leaseToken: claimed!.leaseToken, result: { rows: 3 } }),
      ).toEqual(STORED);
      const done = await getJob(env.a, job.id);
      expect(done).toMatchObject({ state: 'completed', result: { rows: 3 }, attempts: 1, error: null });
      expect(done.finishedAt).toMatch(ISO);
      expect(
        await env.b.jobComplete({ id: job.id, leaseToken: claimed!.leaseToken, result: { rows: 4 } }),
      ).toEqual(refused('completed'));
      expect(
        await env.b.jobFail({ id: job.id, leaseToken: claimed!.leaseToken, error: anError('late') }),
      ).toEqual(refused('completed'));
      expect(await getJob(env.a, job.id)).toMatchObject({ state: 'completed', result: { rows: 3 } });
    });

    it('completes many at once when the backend offers it', async () => {
      const { jobCompleteMany } = env.b;
      if (jobCompleteMany === undefined) return;
      const kind = uniqueKind('complete-many');
      await env.a.jobInsertMany(Array.from({ length: 5 }, (_, i) => ({ kind, payload: { i } })));
      const claimed = await env.b.jobClaim({ kinds: [kind], limit: 5, workerId: WORKER });
      expect(claimed).toHaveLength(5);
      const stored = await jobCompleteMany.call(env.b, [
        ...claimed
          .slice(0, 4)
          .map((c) => ({ id: c.job.id, leaseToken: c.leaseToken, result: { i: c.job.payload } })),
        { id: claimed[4]!.job.id, leaseToken: 'not-the-lease', result: null },
      ]);
      expect(stored).toEqual([STORED, STORED, STORED, STORED, refused('active', true)]);
      for (const c of claimed.slice(0, 4)) {
        expect(await getJob(env.a, c.job.id)).toMatchObject({
          state: 'completed',
          result: { i: c.job.payload },
        });
      }
      expect(await getJob(env.a, claimed[4]!.job.id)).toMatchObject({ state: 'active' });
    });

    it('retries a failed attempt after an exponential backoff, then fails it for good', async () => {
      const kind = uniqueKind('retry');
      const backoff = { baseMs: 1000, maxMs: 1500 };
      const { job } = await env.a.jobInsert({ kind, payload: {}, maxAttempts: 3, backoff });
      let now = Date.now();
      for (let attempt = 1; attempt <= 3; attempt += 1) {
        const [claimed] = await env.b.jobClaim({
          kinds: [kind],
          limit: 1,
          workerId: WORKER,
          now: new Date(now),
        });
        expect(claimed?.job).toMatchObject({ id: job.id, attempts: attempt });
        const failedAt = new Date(now + 10);
        const error = anError(`boom ${attempt}`);
        expect(
          await env.b.jobFail({ id: job.id, leaseToken: claimed!.leaseToken, error, now: failedAt }),
        ).toEqual(STORED);
        const after = await getJob(env.a, job.id);
        expect(after.error).toMatchObject({ kind: 'Error', message: `boom ${attempt}` });
        if (attempt < 3) {
          expect(after.state).toBe('retrying');
          // Full jitter: anywhere from now to the attempt's ceiling (base·2^(attempt-1), capped).
          const delay = Date.parse(after.runAt) - failedAt.getTime();
          expect(delay).toBeGreaterThanOrEqual(-5);
          expect(delay).toBeLessThanOrEqual(Math.min(backoff.maxMs, backoff.baseMs * 2 ** (attempt - 1)) + 5);
          now = Date.parse(after.runAt) + 1;
        } else {
          expect(after).toMatchObject({ state: 'failed', attempts: 3 });
          expect(after.finishedAt).toMatch(ISO);
        }
      }
      expect(
        await env.b.jobClaim({ kinds: [kind], limit: 1, workerId: WORKER, now: later(3_600_000) }),
      ).toEqual([]);
    });

    it('fails at once with maxAttempts 1 or a final error', async () => {
      const kind = uniqueKind('final');
      const { job: once } = await env.a.jobInsert({ kind, payload: {}, maxAttempts: 1 });
      const { job: final } = await env.a.jobInsert({ kind, payload: {}, maxAttempts: 5 });
      const claimed = await env.b.jobClaim({ kinds: [kind], limit: 2, workerId: WORKER });
      for (const c of claimed) {
        const isFinal = c.job.id === final.id;
        await env.b.jobFail({ id: c.job.id, leaseToken: c.leaseToken, error: anError('no'), final: isFinal });
      }
      expect(await getJob(env.a, once.id)).toMatchObject({ state: 'failed', attempts: 1 });
      expect(await getJob(env.a, final.id)).toMatchObject({ state: 'failed', attempts: 1 });
    });

    it('keeps the error as plain data, stack included', async () => {
      const kind = uniqueKind('error-data');
      const { job } = await env.a.jobInsert({ kind, payload: {}, maxAttempts: 1 });
      const [claimed] = await env.b.jobClaim({ kinds: [kind], limit: 1, workerId: WORKER });
      const error: JobError = {
        kind: 'TypeError',
        message: 'x is not a function',
        stack: 'TypeError: x\n    at y',
      };
      await env.b.jobFail({ id: job.id, leaseToken: claimed!.leaseToken, error });
      expect((await getJob(env.a, job.id)).error).toEqual(error);
    });

    it('releases a job without counting the attempt', async () => {
      const kind = uniqueKind('release');
      const { job } = await env.a.jobInsert({ kind, payload: {} });
      const [claimed] = await env.b.jobClaim({ kinds: [kind], limit: 1, workerId: WORKER });
      expect(await env.b.jobRelease({ id: job.id, leaseToken: claimed!.leaseToken })).toEqual(STORED);
      expect(await getJob(env.a, job.id)).toMatchObject({ state: 'queued', attempts: 0 });
      expect(await env.b.jobRelease({ id: job.id, leaseToken: claimed!.leaseToken })).toEqual(
        refused('queued'),
      );
      const [again] = await env.a.jobClaim({ kinds: [kind], limit: 1, workerId: WORKER });
      expect(again?.job).toMatchObject({ id: job.id, attempts: 1 });
      expect(again!.leaseToken).not.toBe(claimed!.leaseToken);
    });
  });

  describe('operate', () => {
    it('cancels a queued job: it never runs', async () => {
      const kind = uniqueKind('cancel-queued');
      const { job } = await env.a.jobInsert({ kind, payload: {} });
      expect(await env.b.jobCancel(job.id)).toMatchObject({
        stored: true,
        job: { id: job.id, state: 'cancelled' },
      });
      expect(
        await env.a.jobClaim({ kinds: [kind], limit: 1, workerId: WORKER, now: later(3_600_000) }),
      ).toEqual([]);
      expect((await getJob(env.a, job.id)).finishedAt).toMatch(ISO);
    });

    it('cancels a retrying job', async () => {
      const kind = uniqueKind('cancel-retrying');
      const { job } = await env.a.jobInsert({
        kind,
        payload: {},
        backoff: { baseMs: 60_000, maxMs: 60_000 },
      });
      const [claimed] = await env.b.jobClaim({ kinds: [kind], limit: 1, workerId: WORKER });
      await env.b.jobFail({ id: job.id, leaseToken: claimed!.leaseToken, error: anError('once') });
      expect((await getJob(env.a, job.id)).state).toBe('retrying');
      expect(await env.a.jobCancel(job.id)).toMatchObject({ stored: true, job: { state: 'cancelled' } });
      expect(
        await env.a.jobClaim({ kinds: [kind], limit: 1, workerId: WORKER, now: later(3_600_000) }),
      ).toEqual([]);
    });

    it('cancels an active job: its lease stops working', async () => {
      const kind = uniqueKind('cancel-active');
      const { job } = await env.a.jobInsert({ kind, payload: {} });
      const [claimed] = await env.b.jobClaim({ kinds: [kind], limit: 1, workerId: WORKER });
      expect(await env.a.jobCancel(job.id)).toMatchObject({ stored: true, job: { state: 'cancelled' } });
      const lease = { id: job.id, leaseToken: claimed!.leaseToken };
      // Each refusal says the job was found cancelled: the worker tells a cancellation from a lost lease.
      expect(await env.b.jobHeartbeat(lease)).toEqual(refused('cancelled'));
      expect(await env.b.jobProgress({ ...lease, progress: { pct: 1 } })).toEqual(refused('cancelled'));
      expect(await env.b.jobComplete({ ...lease, result: 'late' })).toEqual(refused('cancelled'));
      expect(await env.b.jobFail({ ...lease, error: anError('late') })).toEqual(refused('cancelled'));
      expect(await env.b.jobRelease(lease)).toEqual(refused('cancelled'));
      if (env.b.jobCompleteMany !== undefined) {
        expect(await env.b.jobCompleteMany([lease])).toEqual([refused('cancelled')]);
      }
      expect(await getJob(env.a, job.id)).toMatchObject({ state: 'cancelled', result: null });
    });

    it('leaves a finished job alone when asked to cancel it', async () => {
      const kind = uniqueKind('cancel-done');
      const { job } = await env.a.jobInsert({ kind, payload: {} });
      const [claimed] = await env.b.jobClaim({ kinds: [kind], limit: 1, workerId: WORKER });
      await env.b.jobComplete({ id: job.id, leaseToken: claimed!.leaseToken, result: 1 });
      expect(await env.a.jobCancel(job.id)).toEqual({
        ...refused('completed'),
        job: expect.objectContaining({ id: job.id, state: 'completed', result: 1 }),
      });
      expect(await getJob(env.a, job.id)).toMatchObject({ state: 'completed' });
    });

    it('says what a refused cancel or retry found: the job, in the state that refuses', async () => {
      const kind = uniqueKind('operate-refused');
      const { job } = await env.a.jobInsert({ kind, payload: {} });
      const queued = await env.a.jobRetry(job.id);
      expect(queued).toEqual({
        ...refused('queued'),
        job: expect.objectContaining({ id: job.id, state: 'queued' }),
      });
      const [claimed] = await env.b.jobClaim({ kinds: [kind], limit: 1, workerId: WORKER });
      expect(await env.a.jobRetry(job.id)).toMatchObject({ ...refused('active'), job: { attempts: 1 } });
      expect(await env.a.jobCancel(job.id)).toMatchObject({ stored: true, job: { state: 'cancelled' } });
      expect(await env.a.jobCancel(job.id)).toMatchObject({
        ...refused('cancelled'),
        job: { state: 'cancelled' },
      });
      expect(await env.a.jobRetry(job.id)).toMatchObject({ stored: true, job: { state: 'queued' } });
      expect(await env.a.jobRetry(job.id)).toMatchObject({ ...refused('queued'), job: { state: 'queued' } });
      expect(await env.b.jobComplete({ id: job.id, leaseToken: claimed!.leaseToken })).toEqual(
        refused('queued'),
      );
    });

    it('answers concurrent cancels, and concurrent retries, with the state the other one left', async () => {
      const kind = uniqueKind('operate-race');
      // Two processes (a console double-click, two operators): each answer describes the job as it
      // is once the other committed, so the one that lost says "already done", never the old state.
      for (let round = 0; round < 5; round += 1) {
        const { job } = await env.a.jobInsert({ kind, payload: round, maxAttempts: 1 });
        const cancels = await Promise.all([env.a.jobCancel(job.id), env.b.jobCancel(job.id)]);
        expect(cancels.filter((c) => c.stored)).toHaveLength(1);
        for (const c of cancels) expect(c.job).toMatchObject({ id: job.id, state: 'cancelled' });
        expect(cancels.find((c) => !c.stored)).toMatchObject(refused('cancelled'));

        const retries = await Promise.all([env.a.jobRetry(job.id), env.b.jobRetry(job.id)]);
        expect(retries.filter((r) => r.stored)).toHaveLength(1);
        for (const r of retries) expect(r.job).toMatchObject({ id: job.id, state: 'queued' });
        expect(retries.find((r) => !r.stored)).toMatchObject(refused('queued'));

        const [claimed] = await env.b.jobClaim({ kinds: [kind], limit: 1, workerId: WORKER });
        await env.b.jobFail({ id: job.id, leaseToken: claimed!.leaseToken, error: anError('x') });
        const again = await Promise.all([env.a.jobRetry(job.id), env.b.jobRetry(job.id)]);
        expect(again.filter((r) => r.stored)).toHaveLength(1);
        expect(again.find((r) => !r.stored)).toMatchObject({
          ...refused('queued'),
          job: { state: 'queued' },
        });
        await env.a.jobCancel(job.id);
      }
    });

    it('retries a failed job and a cancelled one with a fresh attempt budget', async () => {
      const kind = uniqueKind('retry-op');
      const { job: failed } = await env.a.jobInsert({ kind, payload: 'f', maxAttempts: 1 });
      const { job: cancelled } = await env.a.jobInsert({
        kind,
        payload: 'c',
        runAt: later(3_600_000).toISOString(),
      });
      const [claimed] = await env.b.jobClaim({ kinds: [kind], limit: 1, workerId: WORKER });
      expect(claimed!.job.id).toBe(failed.id);
      await env.b.jobFail({ id: failed.id, leaseToken: claimed!.leaseToken, error: anError('x') });
      await env.a.jobCancel(cancelled.id);

      expect(await env.a.jobRetry(failed.id)).toMatchObject({
        stored: true,
        job: { id: failed.id, state: 'queued', attempts: 0 },
      });
      expect(await env.a.jobRetry(cancelled.id)).toMatchObject({
        stored: true,
        job: { id: cancelled.id, state: 'queued', attempts: 0 },
      });
      const again = await env.b.jobClaim({ kinds: [kind], limit: 5, workerId: WORKER });
      expect(again.map((c) => c.job.id).sort()).toEqual([failed.id, cancelled.id].sort());
      for (const c of again) expect(c.job.attempts).toBe(1);
    });

    it('answers null for unknown and malformed ids, and finds no job to cancel or retry', async () => {
      const unknownUuid = '00000000-0000-4000-8000-000000000000';
      for (const id of [unknownUuid, 'not-a-job-id', '12345']) {
        expect(await env.a.jobGet(id)).toBeNull();
        expect(await env.a.jobCancel(id)).toEqual({ ...refused(null), job: null });
        expect(await env.a.jobRetry(id)).toEqual({ ...refused(null), job: null });
      }
    });
  });
}

export function anError(message: string): JobError {
  return { kind: 'Error', message };
}
