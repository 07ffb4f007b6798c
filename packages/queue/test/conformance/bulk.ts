// Bulk operator actions on both drivers: cancel waiting jobs, retry failed ones, matching a
// filter (kind, states, owner, created range), bounded per call, counted and announced like the
// single actions.
import { describe, expect, it } from 'vitest';
import type { Environment } from './environment.ts';
import { getJob, uniqueKind } from './harness.ts';

export function bulkCases(env: Environment): void {
  describe('bulk actions', () => {
    it('cancels the waiting jobs matching a filter, at most the limit per call', async () => {
      const kind = uniqueKind('bulk-cancel');
      const alice = await env.a.jobInsertMany(
        Array.from({ length: 5 }, (_, i) => ({ kind, payload: i, owner: 'alice' })),
      );
      const bob = await env.a.jobInsertMany(
        Array.from({ length: 2 }, (_, i) => ({ kind, payload: i, owner: 'bob' })),
      );
      const [active] = await env.b.jobClaim({ kinds: [kind], limit: 1, workerId: 'w' });
      expect(await env.a.jobCancelMany({ kind, owner: 'alice', limit: 3 })).toBe(3);
      expect(await env.a.jobCancelMany({ kind, owner: 'alice', limit: 3 })).toBe(
        active!.job.owner === 'alice' ? 1 : 2,
      );
      expect(await env.a.jobCancelMany({ kind, owner: 'alice', limit: 3 })).toBe(0);
      for (const { job } of alice) {
        const state = (await getJob(env.b, job.id)).state;
        expect(state).toBe(job.id === active!.job.id ? 'active' : 'cancelled');
      }
      for (const { job } of bob) expect((await getJob(env.b, job.id)).state).not.toBe('cancelled');
      const counts = (await env.a.jobCounts()).find((c) => c.kind === kind)!;
      expect(counts.cancelled).toBe(active!.job.owner === 'alice' ? 4 : 5);
      await expect(env.a.jobCancelMany({ kind, limit: 0 })).rejects.toThrow(TypeError);
      await expect(env.a.jobCancelMany({ kind, limit: 1001 })).rejects.toThrow(TypeError);
      await expect(env.a.jobCancelMany({ kind, states: ['failed'], limit: 1 })).rejects.toThrow(TypeError);
    });

    it('retries the failed jobs matching a filter and a created range, which then run again', async () => {
      const kind = uniqueKind('bulk-retry');
      const sent = await env.a.jobInsertMany(
        Array.from({ length: 4 }, (_, i) => ({ kind, payload: i, maxAttempts: 1 })),
      );
      const claimed = await env.b.jobClaim({ kinds: [kind], limit: 4, workerId: 'w' });
      for (const c of claimed) {
        await env.b.jobFail({
          id: c.job.id,
          leaseToken: c.leaseToken,
          error: { kind: 'Error', message: 'x' },
        });
      }
      const createdAt = sent.map((r) => r.job.createdAt).sort();
      const later = new Date(Date.parse(createdAt.at(-1)!) + 1000).toISOString();
      expect(await env.a.jobRetryMany({ kind, createdBefore: createdAt[0], limit: 10 })).toBe(0);
      expect(
        await env.a.jobRetryMany({ kind, createdFrom: createdAt[0], createdBefore: later, limit: 10 }),
      ).toBe(4);
      for (const { job } of sent)
        expect(await getJob(env.b, job.id)).toMatchObject({ state: 'queued', attempts: 0, error: null });
      expect((await env.a.jobCounts()).find((c) => c.kind === kind)).toMatchObject({ queued: 4, failed: 0 });
      expect(await env.b.jobClaim({ kinds: [kind], limit: 10, workerId: 'w' })).toHaveLength(4);
    });

    it('counts what a bulk action would take, at most the limit, moving nothing', async () => {
      const kind = uniqueKind('bulk-count');
      const sent = await env.a.jobInsertMany(
        Array.from({ length: 5 }, (_, i) => ({ kind, payload: i, owner: i < 3 ? 'alice' : 'bob' })),
      );
      expect(await env.a.jobCountMany('cancel', { kind, limit: 100 })).toBe(5);
      expect(await env.b.jobCountMany('cancel', { kind, owner: 'alice', limit: 100 })).toBe(3);
      // The bound: an answer equal to the limit means "at least".
      expect(await env.a.jobCountMany('cancel', { kind, limit: 2 })).toBe(2);
      expect(await env.a.jobCountMany('retry', { kind, limit: 100 })).toBe(0);
      const first = sent.map((r) => r.job.createdAt).sort()[0]!;
      expect(await env.a.jobCountMany('cancel', { kind, createdBefore: first, limit: 100 })).toBe(0);
      for (const { job } of sent) expect((await getJob(env.b, job.id)).state).toBe('queued');
      expect(await env.a.jobCountMany('cancel', { kind, limit: 10_001 })).toBe(5);
      await expect(env.a.jobCountMany('cancel', { kind, limit: 10_002 })).rejects.toThrow(TypeError);
      await expect(env.a.jobCountMany('retry', { kind, states: ['queued'], limit: 1 })).rejects.toThrow(
        TypeError,
      );
    });
  });
}
