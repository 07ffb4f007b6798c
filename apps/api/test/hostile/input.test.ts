// Hostile input (docs/security.md): bodies built to stall or crash the API, text no database can
// store, ids beyond a column's range and undecodable Content-Encoding. Each answer is a 4xx
// problem document, the same on both databases, and the process keeps serving.
import { gzipSync } from 'node:zlib';
import { testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../src/validation.ts';
import { startTestApi, type TestApi } from '../harness.ts';

const PROBLEM = /^application\/problem\+json/;
const ECHO = 'system.echo';

/** `{"payload":{"a":{"a":…}}}` nested `levels` deep: 14 KB at 7,000 levels. */
function deepBody(levels: number): string {
  return `{"kind":"${ECHO}","payload":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}`;
}

for (const kind of testDatabases()) {
  describe(`hostile input (${kind})`, () => {
    let api: TestApi;
    let key: string;
    let admin: string;

    beforeAll(async () => {
      api = await startTestApi(kind);
      key = await api.key('mallory', ['submit', 'read']);
      admin = await api.key('ops', ['admin']);
    });
    afterAll(() => api?.close());

    const post = (raw: string | Uint8Array, headers: Record<string, string> = {}, path = '/v1/jobs') =>
      api.request('POST', path, { key, raw, headers: { 'content-type': 'application/json', ...headers } });

    it('refuses JSON nested 9,000 levels deep with 422 before walking it (no stack overflow)', async () => {
      for (const levels of [MAX_JSON_DEPTH + 1, 7_000, 9_000, 100_000]) {
        const res = await post(deepBody(levels));
        expect(res.status, `${levels} levels`).toBe(422);
        expect(res.headers.get('content-type')).toMatch(PROBLEM);
        expect(res.body.errors).toEqual([
          { pointer: '#', detail: `must not nest deeper than ${MAX_JSON_DEPTH} levels` },
        ]);
      }
      // Arrays count as levels too, and a bracket inside a string does not.
      expect(
        (await post(`{"kind":"${ECHO}","payload":${'['.repeat(9_000)}${']'.repeat(9_000)}}`)).status,
      ).toBe(422);
      const quoted = await post(
        JSON.stringify({ kind: ECHO, payload: { sleepMs: 0 }, x: '{['.repeat(5_000) }),
      );
      expect(quoted.body.errors).toEqual([{ pointer: '#/x', detail: 'unknown field' }]);
    });

    it('refuses a JSON body in a charset other than UTF-8 (415), so the depth bound cannot be walked round', async () => {
      // In UTF-16 the escaped quote's bytes end the "string" the guard thinks it is in: the
      // nesting after the real closing quote would go uncounted.
      const levels = 100_000;
      const text = `{"kind":"${ECHO}","payload":{"sleepMs":0},"x":["\\"",${'['.repeat(levels)}${']'.repeat(levels)}]}`;
      for (const charset of ['utf-16le', 'UTF-16BE', 'utf-16']) {
        const bytes = Buffer.from(text, 'utf16le');
        if (charset === 'UTF-16BE') bytes.swap16();
        const res = await post(bytes, { 'content-type': `application/json; charset=${charset}` });
        expect(res.status, charset).toBe(415);
        expect(res.headers.get('content-type')).toMatch(PROBLEM);
      }
      expect(
        (
          await post(JSON.stringify({ kind: ECHO, payload: { sleepMs: 0 } }), {
            'content-type': 'application/json; charset=UTF-8',
          })
        ).status,
      ).toBe(202);
    });

    it('keeps /healthz answering while deep bodies arrive', async () => {
      const body = deepBody(7_000);
      const flood = Promise.all(Array.from({ length: 20 }, () => post(body)));
      const health = await api.request('GET', '/healthz');
      expect(health.status).toBe(200);
      expect((await flood).map((r) => r.status)).toEqual(Array(20).fill(422));
    });

    it('refuses a body with too many keys with 422', async () => {
      const payload: Record<string, number> = {};
      for (let i = 0; i < 10_001; i += 1) payload[`k${i}`] = i;
      const res = await post(JSON.stringify({ kind: ECHO, payload }));
      expect(res.status).toBe(422);
      expect(res.body.errors[0].detail).toMatch(/more than 10000 keys/);
    });

    it('refuses a NUL or a lone surrogate anywhere in a body with 422 naming the field', async () => {
      const nested = await post('{"kind":"system.echo","payload":{"sleepMs":0},"x":[1,{"y":"a\\u0000b"}]}');
      expect(nested.status).toBe(422);
      expect(nested.body.errors[0].pointer).toBe('#/x/1/y');
      // A lone surrogate: PostgreSQL's text would store it altered (U+FFFD) and its jsonb refuses it.
      const surrogate = await api.request('POST', '/v1/metric-sources', {
        key: admin,
        raw: '{"name":"half \\ud800 a pair","url":"http://example.com/m.ndjson","format":"ndjson"}',
        headers: { 'content-type': 'application/json' },
      });
      expect(surrogate.status).toBe(422);
      expect(surrogate.body.errors).toEqual([
        { pointer: '#/name', detail: 'must not contain a lone UTF-16 surrogate' },
      ]);
      const inKey = await post('{"kind":"system.echo","payload":{"a\\u0000":1}}');
      expect(inKey.body.errors[0].pointer).toBe('#/payload/a\u0000');
    });

    it('refuses a NUL in a query parameter or the path with 400 naming it, never 500', async () => {
      const cases: Array<[string, string, string]> = [
        ['/v1/jobs?kind=%00', key, 'kind'],
        ['/v1/jobs?state=queued&kind=a%00b', key, 'kind'],
        ['/v1/kpi?region=%00', key, 'region'],
        ['/v1/kpi?team=x%00', key, 'team'],
        ['/v1/models?region=%00', key, 'region'],
        ['/v1/models?cursor=%00', key, 'cursor'],
        ['/v1/attestation-cycles?cursor=%00', key, 'cursor'],
        ['/v1/metric-sources?cursor=%00', admin, 'cursor'],
        ['/v1/jobs/%00', key, 'path'],
        ['/v1/imports/a%00', key, 'path'],
        ['/v1/schedules/%00', admin, 'path'],
      ];
      for (const [path, who, parameter] of cases) {
        const res = await api.request('GET', path, { key: who });
        expect(res.status, path).toBe(400);
        expect(res.headers.get('content-type')).toMatch(PROBLEM);
        expect(res.body.errors, path).toEqual([{ parameter, detail: expect.stringMatching(/NUL/) }]);
      }
    });

    it('refuses ids beyond the column range with 400, never 500', async () => {
      for (const [path, who] of [
        ['/v1/models/2147483648', key],
        ['/v1/models/9007199254740991', key],
        ['/v1/metric-sources/2147483648', admin],
        ['/v1/metric-sources/99999999999', admin],
      ] as const) {
        const res = await api.request('GET', path, { key: who });
        expect(res.status, path).toBe(400);
        expect(res.body.errors, path).toEqual([
          { parameter: 'id', detail: expect.stringMatching(/2147483647/) },
        ]);
      }
      for (const method of ['PATCH', 'DELETE', 'POST'] as const) {
        const path =
          method === 'POST' ? '/v1/metric-sources/2147483648/collect' : '/v1/metric-sources/2147483648';
        const res = await api.request(method, path, {
          key: admin,
          ...(method === 'PATCH' ? { body: {} } : {}),
        });
        expect(res.status, `${method} ${path}`).toBe(400);
      }
      // The largest id the column holds is an ordinary miss.
      expect((await api.request('GET', '/v1/models/2147483647', { key })).status).toBe(404);
    });

    it('never answers 500 to odd ids and parameters on any read', async () => {
      const odd = [
        '0',
        '-1',
        '1.5',
        '1e9',
        'abc',
        '2147483648',
        '99999999999999999999999',
        '%E2%80%AE',
        '%E0',
        '%ED%A0%80',
        'x'.repeat(300),
      ];
      const paths = odd.flatMap((id) => [
        `/v1/jobs/${id}`,
        `/v1/imports/${id}`,
        `/v1/models/${id}`,
        `/v1/metric-sources/${id}`,
        `/v1/schedules/${id}`,
        `/v1/jobs?kind=${id}&state=queued`,
        `/v1/jobs?limit=${id}`,
        `/v1/models?region=${id}&team=${id}`,
        `/v1/kpi?region=${id}`,
      ]);
      for (const path of paths) {
        const res = await api.request('GET', path, { key: admin });
        expect(res.status, path).toBeLessThan(500);
      }
      for (const id of odd) {
        for (const action of ['cancel', 'retry']) {
          const res = await api.request('POST', `/v1/jobs/${id}/${action}`, { key });
          expect(res.status, `${action} ${id}`).toBeLessThan(500);
        }
      }
    });

    it('refuses analyze.health and collect.metrics payload ids beyond the column range (422)', async () => {
      const health = await api.request('POST', '/v1/jobs', {
        key: admin,
        body: { kind: 'analyze.health', payload: { modelIds: [1, 2147483648] } },
      });
      expect(health.status).toBe(422);
      expect(health.body.errors[0].pointer).toBe('#/payload/modelIds/1');
      const collect = await api.request('POST', '/v1/jobs', {
        key: admin,
        body: { kind: 'collect.metrics', payload: { sourceId: 2 ** 40 } },
      });
      expect(collect.status).toBe(422);
      expect(collect.body.errors[0].pointer).toBe('#/payload/sourceId');
    });

    it('refuses a runAt beyond the horizon (one year by default) or before the epoch with 422', async () => {
      const day = 86_400_000;
      const far = await post(
        JSON.stringify({
          kind: ECHO,
          payload: { sleepMs: 0 },
          runAt: new Date(Date.now() + 366 * day).toISOString(),
        }),
      );
      expect(far.status).toBe(422);
      expect(far.body.errors).toEqual([{ pointer: '#/runAt', detail: expect.stringMatching(/365 days/) }]);
      const year3000 = await post(
        JSON.stringify({ kind: ECHO, payload: { sleepMs: 0 }, runAt: '3000-01-01T00:00:00Z' }),
      );
      expect(year3000.status).toBe(422);
      // The year 0 is ISO-8601 but no PostgreSQL timestamp (500 there): nothing before the epoch.
      for (const past of ['0000-01-01T00:00:00Z', '1969-12-31T23:59:59Z']) {
        const early = await post(JSON.stringify({ kind: ECHO, payload: { sleepMs: 0 }, runAt: past }));
        expect(early.status, past).toBe(422);
        expect(early.body.errors).toEqual([{ pointer: '#/runAt', detail: expect.stringMatching(/1970/) }]);
      }
      const epoch = await post(
        JSON.stringify({ kind: ECHO, payload: { sleepMs: 0 }, runAt: '1970-01-01T00:00:00Z' }),
      );
      expect(epoch.status).toBe(202);
      const near = await post(
        JSON.stringify({
          kind: ECHO,
          payload: { sleepMs: 0 },
          runAt: new Date(Date.now() + 364 * day).toISOString(),
        }),
      );
      expect(near.status).toBe(202);
    });

    it('answers an undecodable Content-Encoding with 400 on every path, authenticated or not', async () => {
      const garbage = Buffer.from('this is not compressed at all, not even a little');
      const truncated = gzipSync(
        Buffer.from(JSON.stringify({ kind: ECHO, payload: { sleepMs: 0 } })),
      ).subarray(0, 12);
      for (const encoding of ['gzip', 'br', 'deflate']) {
        for (const body of [garbage, truncated]) {
          for (const [path, who] of [
            ['/v1/jobs', key],
            ['/v1/jobs', undefined],
            ['/v1/nope', undefined],
            ['/v1/metric-sources', admin],
            ['/v1/jobs/x/cancel', key],
          ] as const) {
            const res = await api.request('POST', path, {
              ...(who === undefined ? {} : { key: who }),
              raw: body,
              headers: { 'content-type': 'application/json', 'content-encoding': encoding },
            });
            const where = `${encoding} ${path} ${who === undefined ? 'anonymous' : 'keyed'}`;
            expect(res.status, where).toBeGreaterThanOrEqual(400);
            expect(res.status, where).toBeLessThan(500);
            expect(res.headers.get('content-type'), where).toMatch(PROBLEM);
          }
        }
      }
      // Where a body is read as JSON, the answer names the cause.
      const res = await post(garbage, { 'content-encoding': 'gzip' });
      expect(res.status).toBe(400);
      expect(res.body.detail).toMatch(/Content-Encoding/);
      // A CSV import with an undecodable body is no 500 either.
      const upload = await api.request('POST', '/v1/imports?entity=models', {
        key,
        raw: garbage,
        headers: { 'content-type': 'text/csv', 'content-encoding': 'gzip' },
      });
      expect(upload.status).toBeLessThan(500);
      expect((await api.request('GET', '/healthz')).status).toBe(200);
    });
  });
}
