// The jobs resource through HTTP, on both databases: submit, get, list and paginate,
// idempotency, owners' isolation, cancel and retry.
import { testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimJob, startTestApi, type TestApi, uploadHeaderOnlyCsv } from './harness.ts';

const ECHO = 'system.echo';

for (const kind of testDatabases()) {
  describe(`jobs (${kind})`, () => {
    let api: TestApi;
    let alice: string;
    let bob: string;
    let admin: string;
    let reader: string;

    beforeAll(async () => {
      api = await startTestApi(kind);
      alice = await api.key('alice', ['submit', 'read']);
      bob = await api.key('bob', ['submit', 'read']);
      admin = await api.key('ops', ['admin']);
      reader = await api.key('alice', ['read']);
    });
    afterAll(() => api?.close());

    const submit = (key: string, body: unknown, headers: Record<string, string> = {}) =>
      api.request('POST', '/v1/jobs', { key, body, headers });
    /** An import.csv payload naming an upload of alice's. */
    const aliceUpload = () => uploadHeaderOnlyCsv(api, alice);

    it('submits a job (202, Location, the job) and gets it back', async () => {
      const res = await submit(alice, { kind: ECHO, payload: { sleepMs: 5 }, priority: 3 });
      expect(res.status).toBe(202);
      expect(res.headers.get('location')).toBe(`/v1/jobs/${res.body.id}`);
      expect(Object.keys(res.body).sort()).toEqual(
        [
          'attempts',
          'createdAt',
          'error',
          'finishedAt',
          'id',
          'kind',
          'maxAttempts',
          'payload',
          'priority',
          'progress',
          'result',
          'runAt',
          'startedAt',
          'state',
        ].sort(),
      );
      expect(res.body).toMatchObject({
        kind: ECHO,
        state: 'queued',
        payload: { sleepMs: 5 },
        priority: 3,
        attempts: 0,
        maxAttempts: 3,
        result: null,
        error: null,
        startedAt: null,
        finishedAt: null,
      });

      const got = await api.request('GET', res.headers.get('location')!, { key: alice });
      expect(got.status).toBe(200);
      expect(got.body).toEqual(res.body);
    });

    it('carries the request id into the job meta and echoes it', async () => {
      const res = await submit(
        alice,
        { kind: ECHO, payload: { sleepMs: 0 } },
        { 'x-request-id': 'req-abc.123' },
      );
      expect(res.headers.get('x-request-id')).toBe('req-abc.123');
      const job = await api.queue.get(res.body.id);
      expect(job?.meta.requestId).toBe('req-abc.123');
      expect(job?.owner).toBe('alice');

      const generated = await submit(
        alice,
        { kind: ECHO, payload: { sleepMs: 0 } },
        { 'x-request-id': 'bad id!' },
      );
      const id = generated.headers.get('x-request-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect((await api.queue.get(generated.body.id))?.meta.requestId).toBe(id);
    });

    it('honours runAt in the future', async () => {
      const runAt = new Date(Date.now() + 3_600_000).toISOString();
      const res = await submit(alice, { kind: ECHO, payload: { sleepMs: 0 }, runAt });
      expect(res.status).toBe(202);
      expect(res.body.runAt).toBe(runAt);
    });

    describe('idempotency', () => {
      it('returns the same job for the same key and body, in any key order', async () => {
        const headers = { 'idempotency-key': 'order-42' };
        const first = await submit(alice, { kind: ECHO, payload: { sleepMs: 1, cpuMs: 2 } }, headers);
        expect(first.status).toBe(202);
        const again = await submit(alice, { payload: { cpuMs: 2, sleepMs: 1 }, kind: ECHO }, headers);
        expect(again.status).toBe(200);
        expect(again.headers.get('idempotent-replayed')).toBe('true');
        expect(again.headers.get('location')).toBe(`/v1/jobs/${first.body.id}`);
        expect(again.body.id).toBe(first.body.id);
      });

      it('refuses the same key with another body (422)', async () => {
        const headers = { 'idempotency-key': 'order-43' };
        const first = await submit(alice, { kind: ECHO, payload: { sleepMs: 1 } }, headers);
        expect(first.status).toBe(202);
        const other = await submit(alice, { kind: ECHO, payload: { sleepMs: 2 } }, headers);
        expect(other.status).toBe(422);
        expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(other.body.type).toBe('urn:offload:problem:idempotency-key-reused');
        const priority = await submit(alice, { kind: ECHO, payload: { sleepMs: 1 }, priority: 5 }, headers);
        expect(priority.status).toBe(422);
      });

      it('refuses the same key for another kind (422), even though that kind has no job with it', async () => {
        const headers = { 'idempotency-key': 'order-45' };
        const first = await submit(alice, { kind: ECHO, payload: { sleepMs: 1 } }, headers);
        expect(first.status).toBe(202);
        const upload = await aliceUpload();
        const other = await submit(alice, { kind: 'import.csv', payload: upload.payload }, headers);
        expect(other.status).toBe(422);
        expect(other.body.type).toBe('urn:offload:problem:idempotency-key-reused');
        const listed = await api.request('GET', '/v1/jobs?kind=import.csv', { key: alice });
        expect(listed.body.items.map((job: { id: string }) => job.id)).toEqual([upload.jobId]);
      });

      it('answers concurrent requests with one key and one body with one job', async () => {
        const headers = { 'idempotency-key': 'order-44' };
        const body = { kind: ECHO, payload: { sleepMs: 1 } };
        const responses = await Promise.all(Array.from({ length: 6 }, () => submit(alice, body, headers)));
        expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
        expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 202]);
      });

      it('keeps owners apart: the same key from two owners makes two jobs', async () => {
        const headers = { 'idempotency-key': 'shared-key' };
        const a = await submit(alice, { kind: ECHO, payload: { sleepMs: 1 } }, headers);
        const b = await submit(bob, { kind: ECHO, payload: { sleepMs: 1 } }, headers);
        expect(a.status).toBe(202);
        expect(b.status).toBe(202);
        expect(b.body.id).not.toBe(a.body.id);
      });

      it('refuses a malformed Idempotency-Key (400)', async () => {
        const res = await submit(
          alice,
          { kind: ECHO, payload: { sleepMs: 1 } },
          { 'idempotency-key': 'x'.repeat(256) },
        );
        expect(res.status).toBe(400);
        expect(res.body.errors).toEqual([{ header: 'Idempotency-Key', detail: expect.any(String) }]);
      });
    });

    describe('validation', () => {
      it('names every failing field of the payload and the envelope (422)', async () => {
        const res = await submit(alice, { kind: ECHO, payload: { sleepMs: -1, extra: true } });
        expect(res.status).toBe(422);
        expect(res.body.type).toBe('urn:offload:problem:validation');
        expect(res.body.errors.map((error: { pointer: string }) => error.pointer).sort()).toEqual([
          '#/payload/extra',
          '#/payload/sleepMs',
        ]);

        const envelope = await submit(alice, {
          kind: ECHO,
          payload: { sleepMs: 1 },
          priority: 1.5,
          color: 'red',
        });
        expect(envelope.status).toBe(422);
        expect(envelope.body.errors.map((error: { pointer: string }) => error.pointer).sort()).toEqual([
          '#/color',
          '#/priority',
        ]);
      });

      it('refuses an unknown kind and a bad runAt (422)', async () => {
        const unknown = await submit(alice, { kind: 'system.nope', payload: {} });
        expect(unknown.status).toBe(422);
        expect(unknown.body.errors[0].pointer).toBe('#/kind');
        const runAt = await submit(alice, { kind: ECHO, payload: { sleepMs: 1 }, runAt: 'tomorrow' });
        expect(runAt.status).toBe(422);
        expect(runAt.body.errors[0].pointer).toBe('#/runAt');
      });

      it('refuses malformed JSON (400), a non-JSON body (415) and no body (422)', async () => {
        const malformed = await api.request('POST', '/v1/jobs', {
          key: alice,
          raw: '{"kind": "system.echo",',
          headers: { 'content-type': 'application/json' },
        });
        expect(malformed.status).toBe(400);
        expect(malformed.body).toMatchObject({
          type: 'urn:offload:problem:malformed-json',
          title: 'Bad Request',
          status: 400,
          instance: '/v1/jobs',
        });
        const text = await api.request('POST', '/v1/jobs', {
          key: alice,
          raw: 'kind=system.echo',
          headers: { 'content-type': 'text/plain' },
        });
        expect(text.status).toBe(415);
        const empty = await api.request('POST', '/v1/jobs', { key: alice });
        expect(empty.status).toBe(422);
      });

      it('refuses a body over 1 MB (413)', async () => {
        const big = JSON.stringify({ kind: ECHO, payload: { sleepMs: 1 }, pad: 'x'.repeat(1024 * 1024) });
        const res = await api.request('POST', '/v1/jobs', {
          key: alice,
          raw: big,
          headers: { 'content-type': 'application/json' },
        });
        expect(res.status).toBe(413);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(res.body.status).toBe(413);
      });
    });

    describe('lists', () => {
      let owner: string;
      let ids: string[];

      beforeAll(async () => {
        owner = await api.key('lister', ['submit', 'read']);
        ids = [];
        for (let i = 0; i < 7; i += 1) {
          const res = await submit(owner, { kind: ECHO, payload: { sleepMs: i } });
          ids.push(res.body.id);
        }
      });

      it('pages through an owner’s jobs with nextCursor, each exactly once', async () => {
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
          const res = await api.request('GET', `/v1/jobs?limit=3${query}`, { key: owner });
          expect(res.status).toBe(200);
          expect(res.body.items.length).toBeLessThanOrEqual(3);
          seen.push(...res.body.items.map((job: { id: string }) => job.id));
          cursor = res.body.nextCursor;
          pages += 1;
        } while (cursor !== null && pages < 10);
        expect(pages).toBe(3);
        expect(seen.sort()).toEqual([...ids].sort());
      });

      it('defaults to 50, filters by kind and state', async () => {
        const all = await api.request('GET', `/v1/jobs?kind=${ECHO}&state=queued`, { key: owner });
        expect(all.status).toBe(200);
        expect(all.body.items).toHaveLength(7);
        expect(all.body.nextCursor).toBeNull();
        const none = await api.request('GET', '/v1/jobs?state=completed', { key: owner });
        expect(none.body).toEqual({ items: [], nextCursor: null });
      });

      it('refuses limit 101, 0 and non-numbers with 400 naming the parameter', async () => {
        for (const limit of ['101', '0', 'ten', '1.5']) {
          const res = await api.request('GET', `/v1/jobs?limit=${limit}`, { key: owner });
          expect(res.status, limit).toBe(400);
          expect(res.body.errors[0].parameter).toBe('limit');
        }
        const ok = await api.request('GET', '/v1/jobs?limit=100', { key: owner });
        expect(ok.status).toBe(200);
      });

      it('refuses unknown parameters and states (400)', async () => {
        expect((await api.request('GET', '/v1/jobs?status=queued', { key: owner })).status).toBe(400);
        expect((await api.request('GET', '/v1/jobs?state=sleeping', { key: owner })).status).toBe(400);
      });

      it('refuses a tampered cursor, and a cursor from another list (400)', async () => {
        const first = await api.request('GET', '/v1/jobs?limit=2', { key: owner });
        const cursor: string = first.body.nextCursor;
        expect(cursor).toEqual(expect.any(String));
        const flipped = cursor.slice(0, 3) + (cursor[3] === 'A' ? 'B' : 'A') + cursor.slice(4);
        for (const bad of [flipped, `${cursor}x`, 'garbage', cursor.slice(0, -1)]) {
          const res = await api.request('GET', `/v1/jobs?limit=2&cursor=${encodeURIComponent(bad)}`, {
            key: owner,
          });
          expect(res.status, bad).toBe(400);
          expect(res.body.errors[0].parameter).toBe('cursor');
        }
        const otherList = await api.request(
          'GET',
          `/v1/jobs?limit=2&state=queued&cursor=${encodeURIComponent(cursor)}`,
          {
            key: owner,
          },
        );
        expect(otherList.status).toBe(400);
        const otherOwner = await api.request('GET', `/v1/jobs?limit=2&cursor=${encodeURIComponent(cursor)}`, {
          key: bob,
        });
        expect(otherOwner.status).toBe(400);
      });
    });

    describe('owners', () => {
      it('hides another owner’s job (404, as if absent) from get, cancel, retry and events', async () => {
        const mine = await submit(alice, { kind: ECHO, payload: { sleepMs: 1 } });
        for (const [method, path] of [
          ['GET', `/v1/jobs/${mine.body.id}`],
          ['POST', `/v1/jobs/${mine.body.id}/cancel`],
          ['POST', `/v1/jobs/${mine.body.id}/retry`],
          ['GET', `/v1/jobs/${mine.body.id}/events`],
        ] as const) {
          const res = await api.request(method, path, { key: bob });
          expect(res.status, `${method} ${path}`).toBe(404);
          expect(res.body.status).toBe(404);
        }
        const missing = await api.request('GET', '/v1/jobs/00000000-0000-4000-8000-000000000000', {
          key: bob,
        });
        expect(missing.status).toBe(404);
        expect((await api.request('GET', '/v1/jobs/not-an-id', { key: bob })).status).toBe(404);
      });

      it('lists only the caller’s jobs; an admin sees everyone’s', async () => {
        const bobs = await api.request('GET', '/v1/jobs?limit=100', { key: bob });
        expect(bobs.body.items.length).toBeGreaterThan(0);
        for (const job of bobs.body.items) expect((await api.queue.get(job.id))?.owner).toBe('bob');
        const all = await api.request('GET', '/v1/jobs?limit=100', { key: admin });
        const owners = new Set<string>();
        for (const job of all.body.items) owners.add((await api.queue.get(job.id))!.owner!);
        expect(owners.has('alice') && owners.has('bob')).toBe(true);
      });

      it('lets an admin read and act on any owner’s job', async () => {
        const mine = await submit(alice, { kind: ECHO, payload: { sleepMs: 1 } });
        expect((await api.request('GET', `/v1/jobs/${mine.body.id}`, { key: admin })).status).toBe(200);
      });
    });

    describe('auth', () => {
      it('401 without a key, with a malformed header or an unknown key', async () => {
        const none = await api.request('GET', '/v1/jobs');
        expect(none.status).toBe(401);
        expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(none.body).toMatchObject({ status: 401, title: 'Unauthorized', instance: '/v1/jobs' });
        const basic = await api.request('GET', '/v1/jobs', { headers: { authorization: 'Basic abc' } });
        expect(basic.status).toBe(401);
        const unknown = await api.request('GET', '/v1/jobs', { key: 'ofk_unknown' });
        expect(unknown.status).toBe(401);
      });

      it('403 without the scope', async () => {
        const res = await submit(reader, { kind: ECHO, payload: { sleepMs: 1 } });
        expect(res.status).toBe(403);
        expect(res.body.detail).toMatch(/submit/);
        expect((await api.request('GET', '/v1/jobs', { key: reader })).status).toBe(200);
      });
    });

    describe('cancel and retry', () => {
      it('cancels a queued job; cancelling again is harmless', async () => {
        const job = await submit(alice, { kind: ECHO, payload: { sleepMs: 1 } });
        const cancelled = await api.request('POST', `/v1/jobs/${job.body.id}/cancel`, { key: alice });
        expect(cancelled.status).toBe(200);
        expect(cancelled.body.state).toBe('cancelled');
        const again = await api.request('POST', `/v1/jobs/${job.body.id}/cancel`, { key: alice });
        expect(again.status).toBe(200);
        expect(again.body.state).toBe('cancelled');
      });

      it('answers concurrent cancels of one job (a double-click) both 200, cancelled', async () => {
        for (let round = 0; round < 3; round += 1) {
          const job = await submit(alice, { kind: ECHO, payload: { sleepMs: 1 } });
          const path = `/v1/jobs/${job.body.id}/cancel`;
          const answers = await Promise.all([
            api.request('POST', path, { key: alice }),
            api.request('POST', path, { key: alice }),
          ]);
          expect(answers.map((res) => [res.status, res.body.state])).toEqual([
            [200, 'cancelled'],
            [200, 'cancelled'],
          ]);
        }
      });

      it('retries a cancelled job, and refuses to retry a queued one (409)', async () => {
        const job = await submit(alice, { kind: ECHO, payload: { sleepMs: 1 } });
        const queued = await api.request('POST', `/v1/jobs/${job.body.id}/retry`, { key: alice });
        expect(queued.status).toBe(409);
        expect(queued.body.state).toBe('queued');
        await api.request('POST', `/v1/jobs/${job.body.id}/cancel`, { key: alice });
        const retried = await api.request('POST', `/v1/jobs/${job.body.id}/retry`, { key: alice });
        expect(retried.status).toBe(200);
        expect(retried.body.state).toBe('queued');
      });

      it('retries a failed job, and refuses to cancel a completed one (409)', async () => {
        const failing = await submit(alice, { kind: ECHO, payload: { sleepMs: 0, fail: true } });
        const claim = await claimJob(api.backend, ECHO, failing.body.id);
        await api.backend.jobFail({
          id: claim.job.id,
          leaseToken: claim.leaseToken,
          error: { message: 'asked to fail', kind: 'EchoFailureRequested' },
          final: true,
        });
        const failed = await api.request('GET', `/v1/jobs/${failing.body.id}`, { key: alice });
        expect(failed.body).toMatchObject({
          state: 'failed',
          error: { message: 'asked to fail', kind: 'EchoFailureRequested' },
        });
        expect(failed.body.error.stack).toBeUndefined();
        const retried = await api.request('POST', `/v1/jobs/${failing.body.id}/retry`, { key: alice });
        expect(retried.status).toBe(200);
        expect(retried.body.state).toBe('queued');

        const done = await submit(alice, { kind: ECHO, payload: { sleepMs: 0 } });
        const doneClaim = await claimJob(api.backend, ECHO, done.body.id);
        await api.backend.jobComplete({
          id: done.body.id,
          leaseToken: doneClaim.leaseToken,
          result: { sleepMs: 0 },
        });
        const completed = await api.request('GET', `/v1/jobs/${done.body.id}`, { key: alice });
        expect(completed.body).toMatchObject({ state: 'completed', result: { sleepMs: 0 } });
        const cancel = await api.request('POST', `/v1/jobs/${done.body.id}/cancel`, { key: alice });
        expect(cancel.status).toBe(409);
        expect(cancel.body.state).toBe('completed');
      });

      it('answers a refused cancel or retry from its outcome: 409 with the state found, 404 when gone, one read', async () => {
        const done = await submit(alice, { kind: ECHO, payload: { sleepMs: 0 } });
        const claim = await claimJob(api.backend, ECHO, done.body.id);
        await api.backend.jobComplete({ id: done.body.id, leaseToken: claim.leaseToken, result: null });
        const get = api.queue.get.bind(api.queue);
        let reads = 0;
        let afterRead = async () => {};
        // Counts the route's reads (only its visibility check), and runs `afterRead` between that
        // read and the transition: a job pruned meanwhile.
        api.queue.get = async (id: string) => {
          reads += 1;
          const job = await get(id);
          await afterRead();
          return job;
        };
        try {
          const cancel = await api.request('POST', `/v1/jobs/${done.body.id}/cancel`, { key: alice });
          expect(cancel.status).toBe(409);
          expect(cancel.body.state).toBe('completed');
          expect(reads).toBe(1);

          const queued = await submit(alice, { kind: ECHO, payload: { sleepMs: 1 } });
          const cancelled = await api.request('POST', `/v1/jobs/${queued.body.id}/cancel`, { key: alice });
          expect(cancelled.status).toBe(200);
          const again = await api.request('POST', `/v1/jobs/${queued.body.id}/cancel`, { key: alice });
          expect(again.status).toBe(200);
          expect(again.body.state).toBe('cancelled');
          expect(reads).toBe(3);

          afterRead = async () => {
            const future = new Date(Date.now() + 3_600_000);
            await api.backend.jobPrune({ completedBefore: future, failedBefore: future });
          };
          const gone = await api.request('POST', `/v1/jobs/${done.body.id}/cancel`, { key: alice });
          expect(gone.status).toBe(404);
          const goneRetry = await api.request('POST', `/v1/jobs/${queued.body.id}/retry`, { key: alice });
          expect(goneRetry.status).toBe(404);
          expect(reads).toBe(5);
        } finally {
          api.queue.get = get;
        }
      });

      it('needs the submit scope to cancel', async () => {
        const job = await submit(alice, { kind: ECHO, payload: { sleepMs: 1 } });
        expect((await api.request('POST', `/v1/jobs/${job.body.id}/cancel`, { key: reader })).status).toBe(
          403,
        );
      });
    });
  });
}
