// Authorization per job kind (docs/security.md): the catalog says which scope starts each kind,
// POST /v1/jobs and retry enforce it, and an upload is imported only by the owner who uploaded it.

import { testDatabases } from '@offload/db/testing';
import { JOB_KINDS } from '@offload/jobs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../harness.ts';

const PROBLEM = /^application\/problem\+json/;

for (const kind of testDatabases()) {
  describe(`hostile authorization (${kind})`, () => {
    let api: TestApi;
    let mallory: string;
    let alice: string;
    let admin: string;
    let sourceId: number;

    beforeAll(async () => {
      api = await startTestApi(kind);
      mallory = await api.key('mallory', ['submit', 'read']);
      alice = await api.key('alice', ['submit', 'read']);
      admin = await api.key('ops', ['admin']);
      const source = await api.request('POST', '/v1/metric-sources', {
        key: admin,
        body: { name: 'internal', url: 'http://10.0.0.7:9100/metrics.ndjson', format: 'ndjson' },
      });
      sourceId = source.body.id;
    });
    afterAll(() => api?.close());

    const submit = (key: string, body: unknown) => api.request('POST', '/v1/jobs', { key, body });

    it('lets a submit key start only the kinds the catalog gives the submit scope (403 otherwise)', async () => {
      const attempts = [
        { kind: 'collect.metrics', payload: { sourceId } },
        { kind: 'rebuild.kpi', payload: {} },
        { kind: 'rebuild.compliance', payload: {} },
        { kind: 'analyze.health', payload: {} },
        { kind: 'analyze.health', payload: { modelIds: [1] } },
      ];
      for (const body of attempts) {
        const res = await submit(mallory, body);
        expect(res.status, body.kind).toBe(403);
        expect(res.headers.get('content-type')).toMatch(PROBLEM);
        expect(res.body.detail).toBe(`Starting ${body.kind} jobs needs the admin scope.`);
      }
      const listed = await api.request('GET', '/v1/jobs', { key: admin });
      expect(listed.body.items).toEqual([]);
      // The same submissions are an admin's to make.
      for (const body of attempts.slice(0, 2)) expect((await submit(admin, body)).status).toBe(202);
      expect((await submit(mallory, { kind: 'system.echo', payload: { sleepMs: 0 } })).status).toBe(202);
    });

    it('declares a start scope for every kind of the catalog', () => {
      for (const definition of JOB_KINDS) {
        expect([null, 'submit', 'admin'], definition.name).toContain(definition.startScope);
      }
    });

    it('refuses to retry a job of a kind the key may not start', async () => {
      // A failed rebuild.kpi that happens to carry mallory as its owner (a system follow-up).
      const { job } = await api.queue.send('rebuild.kpi', {}, { owner: 'mallory', maxAttempts: 1 });
      await api.queue.cancel(job.id);
      const res = await api.request('POST', `/v1/jobs/${job.id}/retry`, { key: mallory });
      expect(res.status).toBe(403);
    });

    it("imports an upload only for the owner who uploaded it (another's reads as no upload)", async () => {
      const uploaded = await api.request('POST', '/v1/imports?entity=models', {
        key: alice,
        raw: 'external_id,name,region,team,risk_tier,owner_email,status\n',
        headers: { 'content-type': 'text/csv' },
      });
      expect(uploaded.status).toBe(202);
      const { uploadId } = uploaded.body.payload;
      expect((await api.services.uploads.stat(uploadId)).owner).toBe('alice');
      const stolen = await submit(mallory, { kind: 'import.csv', payload: { uploadId, entity: 'models' } });
      expect(stolen.status).toBe(422);
      expect(stolen.body.errors).toEqual([
        { pointer: '#/payload/uploadId', detail: 'names no upload of yours' },
      ]);
      const missing = await submit(mallory, {
        kind: 'import.csv',
        payload: { uploadId: '00000000-0000-4000-8000-000000000000', entity: 'models' },
      });
      expect(missing.status).toBe(422);
      // Not even an admin imports someone else's file under its own name.
      expect(
        (await submit(admin, { kind: 'import.csv', payload: { uploadId, entity: 'models' } })).status,
      ).toBe(422);
      const own = await submit(alice, { kind: 'import.csv', payload: { uploadId, entity: 'models' } });
      expect(own.status).toBe(202);
    });
  });
}
