// Leases: heartbeats renew them, the rescuer takes back expired ones, and every transition out
// of `active` is fenced by the lease token. Crashes are written directly (a claim with a short
// lease) and the rescuer is called with a later `now`, instead of waiting on timers.
import { describe, expect, it } from 'vitest';
import type { Environment } from './environment.ts';
import { getJob, refused, STORED, uniqueKind } from './harness.ts';
import { anError } from './jobs.ts';

export function leaseCases(env: Environment): void {
  describe('leases', () => {
    it('renews a lease with a heartbeat', async () => {
      const kind = uniqueKind('heartbeat');
      const { job } = await env.a.jobInsert({ kind, payload: {}, leaseSeconds: 10 });
      const t0 = Date.now();
      const [claimed] = await env.b.jobClaim({ kinds: [kind], limit: 1, workerId: 'w', now: new Date(t0) });
      const lease = { id: job.id, leaseToken: claimed!.leaseToken };
      // At t0+8s the lease (10 s) still holds; renewed then, it lasts until t0+18s.
      expect(await env.b.jobHeartbeat({ ...lease, now: new Date(t0 + 8000) })).toEqual(STORED);
      await env.a.jobRescueExpired(new Date(t0 + 15_000));
      expect(await getJob(env.a, job.id)).toMatchObject({ state: 'active' });
      expect(await env.b.jobComplete({ ...lease, now: new Date(t0 + 16_000) })).toEqual(STORED);
    });

    it('rescues an expired lease: retrying with attempts left, failed without', async () => {
      const kind = uniqueKind('rescue');
      const backoff = { baseMs: 100, maxMs: 100 };
      const { job: again } = await env.a.jobInsert({ kind, payload: 'again', leaseSeconds: 1, backoff });
      const { job: last } = await env.a.jobInsert({ kind, payload: 'last', leaseSeconds: 1, maxAttempts: 1 });
      const t0 = Date.now();
      const claimed = await env.b.jobClaim({
        kinds: [kind],
        limit: 2,
        workerId: 'crashed',
        now: new Date(t0),
      });
      expect(claimed).toHaveLength(2);
      // Before expiry: nothing moves.
      await env.a.jobRescueExpired(new Date(t0 + 500));
      expect(await getJob(env.a, again.id)).toMatchObject({ state: 'active' });

      expect(await env.a.jobRescueExpired(new Date(t0 + 5000))).toBeGreaterThanOrEqual(2);
      const retrying = await getJob(env.a, again.id);
      expect(retrying).toMatchObject({ state: 'retrying', attempts: 1 });
      expect(retrying.error).toMatchObject({ kind: 'LeaseExpired' });
      expect(await getJob(env.a, last.id)).toMatchObject({ state: 'failed', attempts: 1 });
      expect((await getJob(env.a, last.id)).error).toMatchObject({ kind: 'LeaseExpired' });

      const [rerun] = await env.a.jobClaim({
        kinds: [kind],
        limit: 2,
        workerId: 'w2',
        now: new Date(t0 + 6000),
      });
      expect(rerun?.job).toMatchObject({ id: again.id, attempts: 2, state: 'active' });
    });

    it('fences a worker whose lease expired: the next attempt stands', async () => {
      const kind = uniqueKind('fencing');
      // A stalls past its lease; the rescuer runs, and B claims the next attempt.
      const { job, second, stale, current } = await reclaimedJob(env, kind);
      expect(second?.job).toMatchObject({ id: job.id, attempts: 2 });
      expect(current.leaseToken).not.toBe(stale.leaseToken);

      // Each refusal says the job is active under another attempt's lease.
      const reclaimed = refused('active', true);
      expect(await env.a.jobHeartbeat(stale)).toEqual(reclaimed);
      expect(await env.a.jobProgress({ ...stale, progress: { from: 'A' } })).toEqual(reclaimed);
      expect(await env.a.jobComplete({ ...stale, result: 'A' })).toEqual(reclaimed);
      expect(await env.a.jobFail({ ...stale, error: anError('A') })).toEqual(reclaimed);
      expect(await env.a.jobRelease(stale)).toEqual(reclaimed);
      if (env.a.jobCompleteMany !== undefined) {
        expect(await env.a.jobCompleteMany([{ ...stale, result: 'A' }])).toEqual([reclaimed]);
      }
      expect(await getJob(env.a, job.id)).toMatchObject({ state: 'active', attempts: 2, progress: null });

      expect(await env.b.jobHeartbeat(current)).toEqual(STORED);
      expect(await env.b.jobComplete({ ...current, result: 'B' })).toEqual(STORED);
      expect(await getJob(env.a, job.id)).toMatchObject({ state: 'completed', result: 'B', attempts: 2 });
      expect(await env.a.jobComplete({ ...stale, result: 'A' })).toEqual(refused('completed'));
      expect(await getJob(env.a, job.id)).toMatchObject({ state: 'completed', result: 'B' });
    });

    it('completes a batch holding a stale and the current attempt of one job: the stale is refused', async () => {
      if (env.a.jobCompleteMany === undefined) return;
      const kind = uniqueKind('stale-in-batch');
      for (const staleFirst of [true, false]) {
        const { job, current: held, stale: late } = await reclaimedJob(env, kind);
        const stale = { ...late, result: 'A' };
        const current = { ...held, result: 'B' };
        const outcomes = await env.a.jobCompleteMany(staleFirst ? [stale, current] : [current, stale]);
        expect(outcomes).toEqual(
          staleFirst ? [refused('completed'), STORED] : [STORED, refused('completed')],
        );
        expect(await getJob(env.a, job.id)).toMatchObject({ state: 'completed', result: 'B' });
      }
    });

    it('refuses a made-up lease token', async () => {
      const kind = uniqueKind('forged');
      const { job } = await env.a.jobInsert({ kind, payload: {} });
      await env.b.jobClaim({ kinds: [kind], limit: 1, workerId: 'w' });
      const forged = { id: job.id, leaseToken: '00000000-0000-4000-8000-000000000000' };
      // A token this backend never issued is another lease than the one holding the job.
      expect(await env.a.jobHeartbeat(forged)).toEqual(refused('active', true));
      expect(await env.a.jobComplete(forged)).toEqual(refused('active', true));
      expect(await env.a.jobFail({ ...forged, error: anError('x') })).toEqual(refused('active', true));
      expect(await getJob(env.a, job.id)).toMatchObject({ state: 'active' });
    });

    it('refuses several made-up tokens in one batch, each with what its id finds', async () => {
      if (env.b.jobCompleteMany === undefined) return;
      const kind = uniqueKind('forged-batch');
      await env.a.jobInsertMany([
        { kind, payload: 1 },
        { kind, payload: 2 },
      ]);
      const [held, mine] = await env.b.jobClaim({ kinds: [kind], limit: 2, workerId: 'w' });
      const madeUp = '00000000-0000-4000-8000-000000000000';
      expect(
        await env.b.jobCompleteMany([
          { id: held!.job.id, leaseToken: madeUp },
          { id: '00000000-0000-7000-8000-000000000000', leaseToken: madeUp },
          { id: 'not-a-job-id', leaseToken: madeUp },
          { id: mine!.job.id, leaseToken: mine!.leaseToken },
          { id: held!.job.id, leaseToken: 'x' },
        ]),
      ).toEqual([refused('active', true), refused(null), refused(null), STORED, refused('active', true)]);
    });

    it("refuses another job's token, of another kind, with what the job itself is", async () => {
      const kinds = [uniqueKind('token-of'), uniqueKind('token-other')];
      for (const kind of kinds) await env.a.jobInsert({ kind, payload: {} });
      const [one, other] = await env.b.jobClaim({ kinds, limit: 2, workerId: 'w' });
      expect(one!.job.kind).not.toBe(other!.job.kind);
      const borrowed = { id: one!.job.id, leaseToken: other!.leaseToken };
      const reclaimed = refused('active', true);
      expect(await env.b.jobHeartbeat(borrowed)).toEqual(reclaimed);
      expect(await env.b.jobProgress({ ...borrowed, progress: { pct: 1 } })).toEqual(reclaimed);
      expect(await env.b.jobComplete(borrowed)).toEqual(reclaimed);
      expect(await env.b.jobFail({ ...borrowed, error: anError('x') })).toEqual(reclaimed);
      expect(await env.b.jobRelease(borrowed)).toEqual(reclaimed);
      if (env.b.jobCompleteMany !== undefined) {
        expect(await env.b.jobCompleteMany([borrowed])).toEqual([reclaimed]);
      }
      expect(await getJob(env.a, one!.job.id)).toMatchObject({ state: 'active', attempts: 1 });
    });

    it('says a rescued attempt found its job retrying, or failed, and not reclaimed', async () => {
      const kind = uniqueKind('rescued-outcome');
      const backoff = { baseMs: 60_000, maxMs: 60_000 };
      const { job } = await env.a.jobInsert({ kind, payload: {}, leaseSeconds: 1, maxAttempts: 2, backoff });
      const t0 = Date.now();
      const [first] = await env.b.jobClaim({ kinds: [kind], limit: 1, workerId: 'A', now: new Date(t0) });
      await env.a.jobRescueExpired(new Date(t0 + 5000));
      const lease = { id: job.id, leaseToken: first!.leaseToken };
      expect(await env.b.jobComplete({ ...lease, result: 'late' })).toEqual(refused('retrying'));
      expect(await env.b.jobHeartbeat(lease)).toEqual(refused('retrying'));
      const [second] = await env.b.jobClaim({
        kinds: [kind],
        limit: 1,
        workerId: 'B',
        now: new Date(t0 + 70_000),
      });
      await env.a.jobRescueExpired(new Date(t0 + 80_000));
      const last = { id: job.id, leaseToken: second!.leaseToken };
      expect(await env.b.jobFail({ ...last, error: anError('late') })).toEqual(refused('failed'));
      expect(await env.b.jobRelease(last)).toEqual(refused('failed'));
    });

    it('says a lease transition on a job that does not exist found none', async () => {
      const kind = uniqueKind('missing');
      await env.a.jobInsert({ kind, payload: {} });
      const [claimed] = await env.b.jobClaim({ kinds: [kind], limit: 1, workerId: 'w' });
      // A real lease token, on an id no job has.
      const lease = { id: '00000000-0000-7000-8000-000000000000', leaseToken: claimed!.leaseToken };
      expect(await env.b.jobHeartbeat(lease)).toEqual(refused(null));
      expect(await env.b.jobProgress({ ...lease, progress: { pct: 1 } })).toEqual(refused(null));
      expect(await env.b.jobComplete(lease)).toEqual(refused(null));
      expect(await env.b.jobFail({ ...lease, error: anError('x') })).toEqual(refused(null));
      expect(await env.b.jobRelease(lease)).toEqual(refused(null));
      if (env.b.jobCompleteMany !== undefined) {
        const mine = { id: claimed!.job.id, leaseToken: claimed!.leaseToken };
        expect(await env.b.jobCompleteMany([lease, mine])).toEqual([refused(null), STORED]);
      }
    });
  });
}

/**
 * A job whose first attempt (`stale`, A's) stalled past its lease and was rescued, and whose next
 * attempt (`current`, B's) holds it now.
 */
async function reclaimedJob(env: Environment, kind: string) {
  const backoff = { baseMs: 10, maxMs: 10 };
  const { job } = await env.a.jobInsert({ kind, payload: {}, leaseSeconds: 1, maxAttempts: 3, backoff });
  const t0 = Date.now();
  const [first] = await env.a.jobClaim({ kinds: [kind], limit: 1, workerId: 'A', now: new Date(t0) });
  await env.b.jobRescueExpired(new Date(t0 + 5000));
  const [second] = await env.b.jobClaim({ kinds: [kind], limit: 1, workerId: 'B', now: new Date(t0 + 6000) });
  return {
    job,
    second,
    stale: { id: job.id, leaseToken: first!.leaseToken },
    current: { id: job.id, leaseToken: second!.leaseToken },
  };
}
