// Replaying POST /v1/jobs with an Idempotency-Key after the job has moved on, on both databases:
// once an import has consumed its upload, once a job completed, once it was pruned. The replay
// is answered from the owner's own claim of the key, never from another owner's.
import { testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimJob, startTestApi, type TestApi, uploadHeaderOnlyCsv } from './harness.ts';

const ECHO = 'system.echo';
const IMPORT = 'import.csv';

for (const kind of testDatabases()) {
  describe(`idempotent replay (${kind})`, () => {
    let api: TestApi;
    let alice: string;
    let bob: string;

    beforeAll(async () => {
      api = await startTestApi(kind);
      alice = await api.key('alice', ['submit', 'read']);
      bob = await api.key('bob', ['submit', 'read']);
    });
    afterAll(() => api?.close());

    const submit = (key: string, body: unknown, headers: Record<string, string> = {}) =>
      api.request('POST', '/v1/jobs', { key, body, headers });

    /** An upload of alice's; POST /v1/imports also sends its own import, left queued here. */
    const aliceUpload = async () => (await uploadHeaderOnlyCsv(api, alice)).payload;

    /** Runs the job to completion as a worker would. */
    const complete = async (jobKind: string, id: string) => {
      const claimed = await claimJob(api.backend, jobKind, id);
      expect(await api.backend.jobComplete({ id, leaseToken: claimed.leaseToken, result: null })).toEqual({
        stored: true,
      });
    };

    const jobsOf = async (key: string, jobKind: string) => {
      const res = await api.request('GET', `/v1/jobs?kind=${jobKind}&limit=100`, { key });
      return (res.body.items as Array<{ id: string }>).map((job) => job.id);
    };

    it('returns the import job after the import consumed its upload; another body is still refused', async () => {
      const payload = await aliceUpload();
      const headers = { 'idempotency-key': 'import-1' };
      const first = await submit(alice, { kind: IMPORT, payload }, headers);
      expect(first.status).toBe(202);

      // The worker imports the upload, then deletes it.
      await complete(IMPORT, first.body.id);
      await api.services.uploads.delete(payload.uploadId);
      const consumed = await submit(alice, { kind: IMPORT, payload });
      expect(consumed.status).toBe(422);

      const again = await submit(
        alice,
        { kind: IMPORT, payload: { entity: payload.entity, uploadId: payload.uploadId } },
        headers,
      );
      expect(again.status).toBe(200);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.headers.get('location')).toBe(`/v1/jobs/${first.body.id}`);
      expect(again.body.id).toBe(first.body.id);
      expect(again.body.state).toBe('completed');

      const otherPriority = await submit(alice, { kind: IMPORT, payload, priority: 7 }, headers);
      expect(otherPriority.status).toBe(422);
      expect(otherPriority.body.type).toBe('urn:offload:problem:idempotency-key-reused');
      const otherKind = await submit(alice, { kind: ECHO, payload: { sleepMs: 1 } }, headers);
      expect(otherKind.status).toBe(422);
      expect(otherKind.body.type).toBe('urn:offload:problem:idempotency-key-reused');
    });

    it('never shows one owner’s job to another owner replaying the same key and body', async () => {
      const payload = await aliceUpload();
      const headers = { 'idempotency-key': 'import-shared' };
      const first = await submit(alice, { kind: IMPORT, payload }, headers);
      expect(first.status).toBe(202);

      // Before and after the import: bob's key space has no claim, and the upload is not his.
      const before = await submit(bob, { kind: IMPORT, payload }, headers);
      expect(before.status).toBe(422);
      expect(before.body.errors).toEqual([
        { pointer: '#/payload/uploadId', detail: 'names no upload of yours' },
      ]);
      await complete(IMPORT, first.body.id);
      await api.services.uploads.delete(payload.uploadId);
      const after = await submit(bob, { kind: IMPORT, payload }, headers);
      expect(after.status).toBe(422);
      expect(JSON.stringify(after.body)).not.toContain(first.body.id);
      expect(await jobsOf(bob, IMPORT)).toEqual([]);

      // The same key string is bob's own to use; alice's replay still finds her job.
      const bobs = await submit(bob, { kind: ECHO, payload: { sleepMs: 1 } }, headers);
      expect(bobs.status).toBe(202);
      expect(bobs.body.id).not.toBe(first.body.id);
      const alices = await submit(alice, { kind: IMPORT, payload }, headers);
      expect(alices.status).toBe(200);
      expect(alices.body.id).toBe(first.body.id);
    });

    it('replays an import whose job was recorded while the replay was checking the upload', async () => {
      const payload = await aliceUpload();
      const headers = { 'idempotency-key': 'import-race' };
      const first = await submit(alice, { kind: IMPORT, payload }, headers);
      expect(first.status).toBe(202);
      await complete(IMPORT, first.body.id);
      await api.services.uploads.delete(payload.uploadId);
      // The replay's first look finds the claim as it was before the first request recorded its
      // job; the upload is gone by its check, and the second look finds the job.
      const keys = api.services.idempotencyKeys;
      const find = keys.find;
      keys.find = async (...args) => {
        keys.find = find;
        const claim = await find.apply(keys, args);
        return claim === null ? null : { ...claim, jobId: null };
      };
      try {
        const again = await submit(alice, { kind: IMPORT, payload }, headers);
        expect(again.status).toBe(200);
        expect(again.body.id).toBe(first.body.id);
      } finally {
        keys.find = find;
      }
    });

    it('does not spend a key on a request refused for its upload', async () => {
      const headers = { 'idempotency-key': 'import-retry' };
      const missing = await submit(
        alice,
        { kind: IMPORT, payload: { uploadId: 'no-such-upload', entity: 'models' } },
        headers,
      );
      expect(missing.status).toBe(422);
      const payload = await aliceUpload();
      const fixed = await submit(alice, { kind: IMPORT, payload }, headers);
      expect(fixed.status).toBe(202);
    });

    it('returns a completed job to a replay', async () => {
      const headers = { 'idempotency-key': 'echo-done' };
      const first = await submit(alice, { kind: ECHO, payload: { sleepMs: 3 } }, headers);
      expect(first.status).toBe(202);
      await complete(ECHO, first.body.id);
      const again = await submit(alice, { kind: ECHO, payload: { sleepMs: 3 } }, headers);
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(first.body.id);
      expect(again.body.state).toBe('completed');
    });

    it('refuses (409) to run again a job pruned while its key is still claimed', async () => {
      const headers = { 'idempotency-key': 'echo-pruned' };
      const body = { kind: ECHO, payload: { sleepMs: 4 } };
      const first = await submit(alice, body, headers);
      expect(first.status).toBe(202);
      await complete(ECHO, first.body.id);
      const future = new Date(Date.now() + 60_000);
      expect(
        await api.backend.jobPrune({ completedBefore: future, failedBefore: new Date(0) }),
      ).toBeGreaterThan(0);
      expect((await api.request('GET', `/v1/jobs/${first.body.id}`, { key: alice })).status).toBe(404);

      const echoes = await jobsOf(alice, ECHO);
      const again = await submit(alice, body, headers);
      expect(again.status).toBe(409);
      expect(again.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(again.body.type).toBe('urn:offload:problem:idempotent-job-gone');
      expect(again.body.jobId).toBe(first.body.id);
      expect(await jobsOf(alice, ECHO)).toEqual(echoes);
      // Another body with the key is still a reused key; a new key submits anew.
      expect((await submit(alice, { kind: ECHO, payload: { sleepMs: 5 } }, headers)).status).toBe(422);
      expect((await submit(alice, body, { 'idempotency-key': 'echo-pruned-2' })).status).toBe(202);
    });
  });
}
