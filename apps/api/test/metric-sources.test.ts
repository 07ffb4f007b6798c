// /v1/metric-sources through HTTP, on both databases: create, read, list by pages, change and
// delete a source; each enabled source with a cron has its own queue schedule, which follows
// every change and goes with the source; validation failures name their fields; only admins
// may do any of it; a collection is enqueued on demand.
import { testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './harness.ts';

const SOURCE = {
  name: 'warehouse',
  url: 'https://warehouse.example.com/metrics.csv',
  format: 'csv',
  cron: '15 2 * * *',
};

for (const kind of testDatabases()) {
  describe(`metric sources (${kind})`, () => {
    let api: TestApi;
    let admin: string;
    let user: string;

    beforeAll(async () => {
      api = await startTestApi(kind);
      admin = await api.key('ops', ['admin']);
      user = await api.key('carol', ['submit', 'read']);
    });
    afterAll(() => api?.close());

    const schedules = async () =>
      (await api.queue.scheduleList()).filter((schedule) => schedule.kind === 'collect.metrics');

    it('creates, reads, changes and deletes a source, its schedule following it', async () => {
      const created = await api.request('POST', '/v1/metric-sources', { key: admin, body: SOURCE });
      expect(created.status).toBe(201);
      const id = created.body.id;
      expect(created.headers.get('location')).toBe(`/v1/metric-sources/${id}`);
      expect(created.body).toEqual({
        id: expect.any(Number),
        ...SOURCE,
        enabled: true,
        createdAt: expect.any(String),
        schedule: `collect.metrics.source-${id}`,
      });
      expect(await schedules()).toEqual([
        {
          name: `collect.metrics.source-${id}`,
          cron: '15 2 * * *',
          timezone: 'UTC',
          kind: 'collect.metrics',
          payload: { sourceId: id },
          options: {},
        },
      ]);
      // The schedule is an ordinary one: the schedules API shows it.
      const viaSchedules = await api.request('GET', `/v1/schedules/collect.metrics.source-${id}`, {
        key: admin,
      });
      expect(viaSchedules.status).toBe(200);

      const got = await api.request('GET', `/v1/metric-sources/${id}`, { key: admin });
      expect(got.status).toBe(200);
      expect(got.body).toEqual(created.body);

      const recron = await api.request('PATCH', `/v1/metric-sources/${id}`, {
        key: admin,
        body: { cron: '0  * * * *', url: 'http://scoring.example.com/m.ndjson', format: 'ndjson' },
      });
      expect(recron.status).toBe(200);
      expect(recron.body).toMatchObject({
        cron: '0 * * * *',
        format: 'ndjson',
        url: 'http://scoring.example.com/m.ndjson',
      });
      expect((await schedules()).map((s) => s.cron)).toEqual(['0 * * * *']);

      const disabled = await api.request('PATCH', `/v1/metric-sources/${id}`, {
        key: admin,
        body: { enabled: false },
      });
      expect(disabled.body).toMatchObject({ enabled: false, schedule: null });
      expect(await schedules()).toEqual([]);

      const enabled = await api.request('PATCH', `/v1/metric-sources/${id}`, {
        key: admin,
        body: { enabled: true },
      });
      expect(enabled.body.schedule).toBe(`collect.metrics.source-${id}`);
      expect(await schedules()).toHaveLength(1);

      const onDemand = await api.request('PATCH', `/v1/metric-sources/${id}`, {
        key: admin,
        body: { cron: null },
      });
      expect(onDemand.body).toMatchObject({ cron: null, schedule: null });
      expect(await schedules()).toEqual([]);
      await api.request('PATCH', `/v1/metric-sources/${id}`, { key: admin, body: { cron: '*/10 * * * *' } });
      expect(await schedules()).toHaveLength(1);

      expect((await api.request('DELETE', `/v1/metric-sources/${id}`, { key: admin })).status).toBe(204);
      expect(await schedules()).toEqual([]);
      expect((await api.request('GET', `/v1/metric-sources/${id}`, { key: admin })).status).toBe(404);
      expect((await api.request('DELETE', `/v1/metric-sources/${id}`, { key: admin })).status).toBe(404);
      expect(
        (await api.request('PATCH', `/v1/metric-sources/${id}`, { key: admin, body: { enabled: false } }))
          .status,
      ).toBe(404);
    });

    it('creates an on-demand source (no cron) without a schedule, enabled by default', async () => {
      const res = await api.request('POST', '/v1/metric-sources', {
        key: admin,
        body: { name: 'adhoc', url: 'https://adhoc.example.com/x.ndjson', format: 'ndjson' },
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ cron: null, enabled: true, schedule: null });
      expect(await schedules()).toEqual([]);
      await api.request('DELETE', `/v1/metric-sources/${res.body.id}`, { key: admin });
    });

    it('lists sources page by page, refusing a limit over 100 and a forged cursor', async () => {
      const ids: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        const res = await api.request('POST', '/v1/metric-sources', {
          key: admin,
          body: { ...SOURCE, name: `page-${i}`, enabled: i % 2 === 0 },
        });
        ids.push(res.body.id);
      }
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor === null ? '?limit=2' : `?limit=2&cursor=${encodeURIComponent(cursor)}`;
        const page = await api.request('GET', `/v1/metric-sources${query}`, { key: admin });
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.items.map((item: { id: number }) => item.id));
        cursor = page.body.nextCursor;
      } while (cursor !== null);
      expect(seen).toEqual(ids);
      expect(await schedules()).toHaveLength(3);

      const tooMany = await api.request('GET', '/v1/metric-sources?limit=101', { key: admin });
      expect(tooMany.status).toBe(400);
      expect(tooMany.headers.get('content-type')).toContain('application/problem+json');
      expect(tooMany.body.errors[0].parameter).toBe('limit');
      const forged = await api.request('GET', '/v1/metric-sources?cursor=abc.def', { key: admin });
      expect(forged.status).toBe(400);
      expect(forged.body.errors[0].parameter).toBe('cursor');

      for (const id of ids) await api.request('DELETE', `/v1/metric-sources/${id}`, { key: admin });
      expect(await schedules()).toEqual([]);
    });

    it('refuses invalid bodies with 422 naming every field, and a taken name with 409', async () => {
      const bad = await api.request('POST', '/v1/metric-sources', {
        key: admin,
        body: {
          name: '',
          url: 'ftp://files.example.com/m.csv',
          format: 'xml',
          cron: '61 * * * *',
          enabled: 'yes',
          extra: 1,
        },
      });
      expect(bad.status).toBe(422);
      expect(bad.headers.get('content-type')).toContain('application/problem+json');
      expect(bad.body.errors.map((error: { pointer: string }) => error.pointer).sort()).toEqual([
        '#/cron',
        '#/enabled',
        '#/extra',
        '#/format',
        '#/name',
        '#/url',
      ]);
      // No database stores the NUL character alike: refused on both, pointing at the field.
      const nul = await api.request('POST', '/v1/metric-sources', {
        key: admin,
        body: { ...SOURCE, name: 'bad\u0000name' },
      });
      expect(nul.status).toBe(422);
      expect(nul.body.errors).toEqual([
        { pointer: '#/name', detail: 'must not contain the NUL character (U+0000)' },
      ]);
      const missing = await api.request('POST', '/v1/metric-sources', { key: admin, body: {} });
      expect(missing.status).toBe(422);
      expect(missing.body.errors.map((error: { pointer: string }) => error.pointer).sort()).toEqual([
        '#/format',
        '#/name',
        '#/url',
      ]);
      const notUrl = await api.request('POST', '/v1/metric-sources', {
        key: admin,
        body: { ...SOURCE, url: 'warehouse' },
      });
      expect(notUrl.body.errors).toEqual([
        { pointer: '#/url', detail: 'must be an absolute http or https URL' },
      ]);

      const first = await api.request('POST', '/v1/metric-sources', {
        key: admin,
        body: { ...SOURCE, name: 'dup' },
      });
      const taken = await api.request('POST', '/v1/metric-sources', {
        key: admin,
        body: { ...SOURCE, name: 'dup' },
      });
      expect(taken.status).toBe(409);
      expect(taken.body.errors).toEqual([{ pointer: '#/name', detail: 'is taken by another metric source' }]);
      const patchBad = await api.request('PATCH', `/v1/metric-sources/${first.body.id}`, {
        key: admin,
        body: { cron: 'every day' },
      });
      expect(patchBad.status).toBe(422);
      expect(patchBad.body.errors[0].pointer).toBe('#/cron');
      expect((await api.request('GET', '/v1/metric-sources/abc', { key: admin })).status).toBe(400);
      // Exactly one schedule: the refused requests left none behind.
      expect(await schedules()).toHaveLength(1);
      await api.request('DELETE', `/v1/metric-sources/${first.body.id}`, { key: admin });
    });

    it('enqueues a collection on demand (202 with the job)', async () => {
      const { body: source } = await api.request('POST', '/v1/metric-sources', {
        key: admin,
        body: { ...SOURCE, name: 'now' },
      });
      const res = await api.request('POST', `/v1/metric-sources/${source.id}/collect`, { key: admin });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({
        kind: 'collect.metrics',
        state: 'queued',
        payload: { sourceId: source.id },
      });
      expect(res.headers.get('location')).toBe(`/v1/jobs/${res.body.id}`);
      const job = await api.request('GET', `/v1/jobs/${res.body.id}`, { key: admin });
      expect(job.body.payload).toEqual({ sourceId: source.id });
      expect((await api.request('POST', '/v1/metric-sources/999999/collect', { key: admin })).status).toBe(
        404,
      );
      await api.request('DELETE', `/v1/metric-sources/${source.id}`, { key: admin });
    });

    it('documents the endpoints in the OpenAPI document', async () => {
      const doc = (await api.request('GET', '/v1/openapi.json')).body;
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          '/v1/metric-sources',
          '/v1/metric-sources/{id}',
          '/v1/metric-sources/{id}/collect',
        ]),
      );
      expect(Object.keys(doc.paths['/v1/metric-sources/{id}'])).toEqual(['get', 'patch', 'delete']);
      expect(doc.components.schemas.CreateMetricSource.required.sort()).toEqual(['format', 'name', 'url']);
      expect(doc.components.schemas.MetricSource.properties.format.enum).toEqual(['ndjson', 'csv']);
      expect(doc.paths['/v1/metric-sources'].get.parameters.map((p: { name: string }) => p.name)).toEqual([
        'cursor',
        'limit',
      ]);
    });

    it('answers 403 to keys without admin and 401 without a key', async () => {
      const { body: source } = await api.request('POST', '/v1/metric-sources', {
        key: admin,
        body: { ...SOURCE, name: 'guarded' },
      });
      const calls: Array<[string, string, unknown?]> = [
        ['GET', '/v1/metric-sources'],
        ['POST', '/v1/metric-sources', { ...SOURCE, name: 'mine' }],
        ['GET', `/v1/metric-sources/${source.id}`],
        ['PATCH', `/v1/metric-sources/${source.id}`, { enabled: false }],
        ['DELETE', `/v1/metric-sources/${source.id}`],
        ['POST', `/v1/metric-sources/${source.id}/collect`],
      ];
      for (const [method, path, body] of calls) {
        const res = await api.request(method, path, { key: user, body });
        expect(res.status, `${method} ${path}`).toBe(403);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect((await api.request(method, path, { body })).status).toBe(401);
      }
      expect((await api.request('GET', `/v1/metric-sources/${source.id}`, { key: admin })).body.enabled).toBe(
        true,
      );
      await api.request('DELETE', `/v1/metric-sources/${source.id}`, { key: admin });
    });
  });
}
