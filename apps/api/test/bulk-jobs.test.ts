// POST /v1/jobs/retry-failed and /v1/jobs/cancel-queued: every job matching a filter, in bounded
// batches, with a bounded dry-run count; a key acts on its own jobs, an admin on anyone's, and
// retrying a kind needs the scope that starts it. Both databases.
import { testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimJob, startTestApi, type TestApi } from './harness.ts';

const ECHO = 'system.echo';

for (const kind of testDatabases()) {
  describe(`bulk job actions (${kind})`, () => {
    let api: TestApi;
    let admin: string;
    let alice: string;
    let reader: string;

    beforeAll(async () => {
      api = await startTestApi(kind);
      admin = await api.key('ops', ['admin']);
      alice = await api.key('alice', ['read', 'submit']);
      reader = await api.key('alice', ['read']);
    });

    afterAll(async () => {
      await api?.close();
    });

    /** A job of `owner` that failed for good. */
    async function failed(owner: string, jobKind = ECHO): Promise<string> {
      const { job } = await api.queue.send(jobKind, {}, { owner, maxAttempts: 1 });
      const claim = await claimJob(api.backend, jobKind, job.id);
      await api.backend.jobFail({
        id: job.id,
        leaseToken: claim.leaseToken,
        error: { kind: 'Error', message: 'boom' },
      });
      return job.id;
    }

    const stateOf = async (id: string) => (await api.queue.get(id))!.state;
    const bulk = (path: 'retry-failed' | 'cancel-queued', key: string, body: unknown) =>
      api.request('POST', `/v1/jobs/${path}`, { key, body });

    it('retries the failed jobs of the caller, counted first, and leaves others’ alone', async () => {
      const mine = [await failed('alice'), await failed('alice')];
      const theirs = await failed('bob');

      const counted = await bulk('retry-failed', alice, { kind: ECHO, dryRun: true });
      expect(counted.status).toBe(200);
      expect(counted.body).toEqual({ count: 2, more: false, dryRun: true });
      for (const id of mine) expect(await stateOf(id)).toBe('failed');
      // The bound: past the limit the count says "at least".
      const bounded = await bulk('retry-failed', admin, { kind: ECHO, dryRun: true, limit: 2 });
      expect(bounded.body).toEqual({ count: 2, more: true, dryRun: true });

      const refused = await bulk('retry-failed', alice, { owner: 'bob' });
      expect(refused.status).toBe(403);
      expect(refused.body.detail).toBe('Only an admin key acts on the jobs of another owner.');
      expect((await bulk('retry-failed', reader, {})).status).toBe(403);

      const retried = await bulk('retry-failed', alice, { kind: ECHO });
      expect(retried.body).toEqual({ count: 2, more: false, dryRun: false });
      for (const id of mine) expect(await stateOf(id)).toBe('queued');
      expect(await stateOf(theirs)).toBe('failed');

      // An admin names the owner, or none for everyone's.
      expect((await bulk('retry-failed', admin, { owner: 'bob' })).body.count).toBe(1);
      expect(await stateOf(theirs)).toBe('queued');
      await api.queue.cancelMany({ kind: ECHO, limit: 1000 });
    });

    it('retries a kind only for a key that may start it', async () => {
      const kpi = await failed('alice', 'rebuild.kpi');
      const refused = await bulk('retry-failed', alice, { kind: 'rebuild.kpi' });
      expect(refused.status).toBe(403);
      expect(refused.body.detail).toBe('Starting rebuild.kpi jobs needs the admin scope.');
      // Without a kind, a key's retry takes only the kinds it may start.
      expect((await bulk('retry-failed', alice, {})).body.count).toBe(0);
      expect(await stateOf(kpi)).toBe('failed');
      expect((await bulk('retry-failed', admin, {})).body.count).toBe(1);
      expect(await stateOf(kpi)).toBe('queued');
      await api.queue.cancelMany({ kind: 'rebuild.kpi', limit: 1000 });
    });

    it('cancels the waiting jobs matching a created range, in batches, at most the limit', async () => {
      const later = new Date(Date.now() + 3_600_000).toISOString();
      const before = new Date(Date.now() - 1000).toISOString();
      const sent = await api.queue.sendMany(
        Array.from({ length: 1005 }, (_, i) => ({
          kind: ECHO,
          payload: { i },
          owner: 'alice',
          runAt: later,
        })),
      );
      const bobs = await api.queue.send(ECHO, {}, { owner: 'bob', runAt: later });

      expect((await bulk('cancel-queued', alice, { createdBefore: before, dryRun: true })).body.count).toBe(
        0,
      );
      expect((await bulk('cancel-queued', alice, { createdFrom: before, dryRun: true })).body).toEqual({
        count: 1005,
        more: false,
        dryRun: true,
      });
      expect((await bulk('cancel-queued', alice, { limit: 3 })).body).toEqual({
        count: 3,
        more: true,
        dryRun: false,
      });
      // Two batches (1,000 and 2): the rest of alice's, none of bob's.
      expect((await bulk('cancel-queued', alice, { kind: ECHO })).body).toEqual({
        count: 1002,
        more: false,
        dryRun: false,
      });
      for (const { job } of [sent[0]!, sent[1004]!]) expect(await stateOf(job.id)).toBe('cancelled');
      expect(await stateOf(bobs.job.id)).toBe('queued');
    });

    it('refuses a limit over the maximum and unknown fields', async () => {
      const over = await bulk('cancel-queued', admin, { limit: 10_001 });
      expect(over.status).toBe(422);
      expect(over.body.errors).toEqual([expect.objectContaining({ pointer: '#/limit' })]);
      const unknown = await bulk('retry-failed', admin, { state: 'queued' });
      expect(unknown.status).toBe(422);
      const badDate = await bulk('retry-failed', admin, { createdFrom: 'yesterday' });
      expect(badDate.status).toBe(422);
    });
  });
}
