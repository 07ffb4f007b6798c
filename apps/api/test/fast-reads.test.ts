// The hot reads' short path (fast-reads.ts) against the long way, on both databases: with keys
// cached and no version check due, a repeated GET /v1/kpi, /v1/dashboard or /v1/models is
// answered without the authenticator's lookup, with the same status, body and headers (the
// request id and date aside) as the long way gave it, 304 included; and whatever the short path
// cannot answer (a key past its rate limit, a key without the read scope, a query string never
// seen or refused) is answered by the long way exactly as before. The request line is the same.
import { rebuildComplianceReport, rebuildKpiSnapshots } from '@offload/db/reports';
import { seedDatabase } from '@offload/db/seed';
import { testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { capturingLogger, startTestApi, type TestApi, type TestResponse } from './harness.ts';

const BURST = 5;

/**
 * The headers of an answer but those that differ between any two answers, and Server-Timing
 * (the long way's first answer to a key counts the key's lookup).
 */
function stableHeaders(res: TestResponse): Record<string, string> {
  const headers = Object.fromEntries(res.headers.entries());
  delete headers.date;
  delete headers['x-request-id'];
  delete headers['server-timing'];
  return headers;
}

for (const kind of testDatabases()) {
  describe(`the hot reads' short path (${kind})`, () => {
    let api: TestApi;
    let lookups: ReturnType<typeof vi.spyOn>;
    const lines: Array<Record<string, unknown>> = [];

    beforeAll(async () => {
      api = await startTestApi(kind, {
        logger: capturingLogger(lines),
        // Keys cached, a slow refill: each key gets BURST answers, then 429.
        settings: { keyCacheMs: 60_000, rateLimitPerSecond: 0.01, rateLimitBurst: BURST },
        cache: { versionCheckMs: 60_000 },
      });
      const { db } = api.testDb;
      await seedDatabase(db, { models: 60, quiet: true });
      await rebuildKpiSnapshots(db, { asOf: '2026-01-01' });
      await rebuildComplianceReport(db);
      lookups = vi.spyOn(api.services.authenticator, 'authenticate');
    });
    afterAll(() => api?.close());

    const get = (path: string, key: string, headers: Record<string, string> = {}) =>
      api.request('GET', path, { key, headers });

    for (const path of ['/v1/kpi', '/v1/dashboard', '/v1/models?limit=10']) {
      it(`answers a repeated GET ${path} without a lookup, as the long way did`, async () => {
        // Loaded into the cache first, so that the long way too answers from it.
        expect((await get(path, await api.key(`warm ${path}`, ['read']))).status).toBe(200);
        const key = await api.key(`reader ${path}`, ['read']);
        const requestId = `short${path.replace(/[^a-z0-9]+/gi, '-')}`;
        const before = lookups.mock.calls.length;
        const long = await get(path, key);
        expect(long.status).toBe(200);
        expect(lookups.mock.calls.length).toBe(before + 1);
        const short = await get(path, key, { 'x-request-id': requestId });
        expect(lookups.mock.calls.length).toBe(before + 1);
        expect(short.status).toBe(200);
        expect(short.body).toEqual(long.body);
        expect(stableHeaders(short)).toEqual(stableHeaders(long));
        expect(short.headers.get('x-request-id')).toBe(requestId);
        expect(short.headers.get('server-timing')).toBe(
          'db;desc="0 queries";dur=0.0, queue;desc="0 calls";dur=0.0',
        );

        // The same 304 both ways.
        const etag = short.headers.get('etag')!;
        const notModified = await get(path, key, { 'if-none-match': `W/${etag}` });
        expect(notModified.status).toBe(304);
        expect(notModified.body).toBe('');
        expect(lookups.mock.calls.length).toBe(before + 1);
        const fresh = await api.key(`reader ${path} 304`, ['read']);
        const longNotModified = await get(path, fresh, { 'if-none-match': etag });
        expect(longNotModified.status).toBe(304);
        expect(stableHeaders(notModified)).toEqual(stableHeaders(longNotModified));

        // One line per request, as the long way writes it.
        const line = lines.find((l) => l.requestId === requestId);
        expect(line).toMatchObject({
          level: 30,
          msg: 'request',
          method: 'GET',
          path: path.replace(/\?.*$/, ''),
          route: path.replace(/\?.*$/, ''),
          status: 200,
          dbQueries: 0,
          queueCalls: 0,
          owner: `reader ${path}`,
        });
      });
    }

    it('leaves a key past its rate limit to the long way: 429 with Retry-After', async () => {
      const key = await api.key('busy reader', ['read']);
      for (let i = 0; i < BURST; i += 1) expect((await get('/v1/kpi', key)).status).toBe(200);
      const refused = await get('/v1/kpi', key);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    });

    it('leaves a cached key without the read scope to the long way: 403 every time', async () => {
      const key = await api.key('submitter', ['submit']);
      for (let i = 0; i < 2; i += 1) {
        const res = await get('/v1/dashboard', key);
        expect(res.status).toBe(403);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
      }
    });

    it('leaves refused queries, other spellings and other methods to the long way', async () => {
      const key = await api.key('curious reader', ['read']);
      expect((await get('/v1/kpi', key)).status).toBe(200);
      for (let i = 0; i < 2; i += 1) {
        const res = await get('/v1/models?limit=1000', key);
        expect(res.status).toBe(400);
        expect(res.body.errors[0].parameter).toBe('limit');
      }
      expect((await get('/v1/kpi?region=nowhere', key)).status).toBe(404);
      expect((await api.request('POST', '/v1/kpi', { key })).status).toBe(405);
      expect((await api.request('GET', '/v1/kpi')).status).toBe(401);
    });
  });
}
