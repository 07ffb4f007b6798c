// The read cache as the API uses it, on both databases: a hit costs no query, the stats per
// family, POST /v1/cache/invalidate (admin) dropping a family in another API process (two
// processes on the same database, each with its own connection), a rebuild by "the worker"
// reaching both, and the CACHE_* configuration.
import { ConfigError, loadConfig } from '@offload/config';
import { createDb, type Db } from '@offload/db';
import { rebuildKpiSnapshots } from '@offload/db/reports';
import { seedDatabase } from '@offload/db/seed';
import { testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READ_FAMILIES } from '../src/read-cache.ts';
import { eventually, startTestApi, type TestApi, type TestResponse } from './harness.ts';

/** The number of database queries the request issued, from its Server-Timing header. */
function queryCount(res: TestResponse): number {
  const match = /db;desc="(\d+) quer/.exec(res.headers.get('server-timing') ?? '');
  if (match === null) throw new Error(`no db count in Server-Timing: ${res.headers.get('server-timing')}`);
  return Number(match[1]);
}

describe('CACHE_* configuration', () => {
  it('reads CACHE_TTL_<FAMILY>_SECONDS overrides and CACHE_VERSION_CHECK_MS', () => {
    const config = loadConfig({
      CACHE_TTL_SECONDS: '15',
      CACHE_TTL_KPI_SECONDS: '120',
      CACHE_TTL_MODELS_SECONDS: '0',
      CACHE_VERSION_CHECK_MS: '1000',
    });
    expect(config.cacheTtlSeconds).toBe(15);
    expect(config.cacheTtlByFamily).toEqual({ kpi: 120, models: 0 });
    expect(config.cacheVersionCheckMs).toBe(1000);
    expect(loadConfig({}).cacheVersionCheckMs).toBe(250);
  });

  it('names every bad variable', () => {
    let error: unknown;
    try {
      loadConfig({
        CACHE_TTL_KPI_SECONDS: 'soon',
        CACHE_VERSION_CHECK_MS: '-1',
        CACHE_TTL_DASHBOARD_SECONDS: '1e9',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const variables = (error as ConfigError).issues.map((issue) => issue.variable).sort();
    expect(variables).toEqual([
      'CACHE_TTL_DASHBOARD_SECONDS',
      'CACHE_TTL_KPI_SECONDS',
      'CACHE_VERSION_CHECK_MS',
    ]);
    expect((error as ConfigError).message).toContain(
      'CACHE_TTL_KPI_SECONDS must be an integer from 0 to 604800',
    );
  });
});

for (const kind of testDatabases()) {
  describe(`read cache through the API (${kind})`, () => {
    let a: TestApi;
    let b: TestApi;
    /** The worker process's own connection. */
    let worker: Db;
    let reader: string;
    let admin: string;

    beforeAll(async () => {
      // A: checks versions on every read. B: a long TTL and, on PostgreSQL, no version checks
      // worth the name (an hour), so only NOTIFY can tell it; on SQLite it checks every 50 ms.
      a = await startTestApi(kind, { cache: { versionCheckMs: 0 }, settings: { keyCacheMs: 60_000 } });
      b = await startTestApi(kind, {
        testDb: a.testDb,
        databaseUrl: a.testDb.databaseUrl,
        cache: {
          ttlSeconds: 600,
          ttlByFamily: { kpi: 600 },
          versionCheckMs: kind === 'postgres' ? 3_600_000 : 50,
        },
        settings: { keyCacheMs: 60_000 },
      });
      await Promise.all([a.services.cache.ready(), b.services.cache.ready()]);
      worker = createDb({ databaseUrl: a.testDb.databaseUrl, poolMax: 2 });
      await seedDatabase(worker, { models: 50, quiet: true });
      await rebuildKpiSnapshots(worker, { asOf: '2026-01-01', now: new Date('2026-01-01T01:00:00.000Z') });
      reader = await a.key('reader', ['read']);
      admin = await a.key('ops', ['admin']);
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
      await worker?.destroy();
    });

    const kpiOn = (api: TestApi) => api.request('GET', '/v1/kpi', { key: reader });

    it('serves a hit without a database query', async () => {
      // Warm the key and the entry; the version check of every read is the only query left.
      await eventually('the first snapshot', async () => (await kpiOn(a)).status === 200);
      const miss = await kpiOn(a);
      const hit = await kpiOn(a);
      expect(hit.status).toBe(200);
      expect(hit.body).toEqual(miss.body);
      // No load: on SQLite the version check of every read (CACHE_VERSION_CHECK_MS=0) is the
      // only query; on PostgreSQL the LISTEN connection replaces it.
      expect(queryCount(hit)).toBe(kind === 'postgres' ? 0 : 1);
      await eventually('b', async () => (await kpiOn(b)).status === 200);
      const hitOnB = await kpiOn(b);
      // B on PostgreSQL listens instead of checking: a hit is no query at all.
      if (kind === 'postgres') expect(queryCount(hitOnB)).toBe(0);
      else expect(queryCount(hitOnB)).toBeLessThanOrEqual(1);
    });

    it('reports per-family statistics', async () => {
      const res = await a.request('GET', '/v1/cache/stats', { key: reader });
      expect(res.status).toBe(200);
      expect(res.body.invalidation).toBe(kind === 'postgres' ? 'listen' : 'poll');
      expect(res.body.families.map((f: { family: string }) => f.family)).toEqual([...READ_FAMILIES]);
      const kpi = res.body.families.find((f: { family: string }) => f.family === 'kpi');
      expect(kpi).toMatchObject({ ttlSeconds: 30, keys: 1 });
      expect(kpi.hits).toBeGreaterThanOrEqual(1);
      expect(kpi.misses).toBeGreaterThanOrEqual(1);
      expect(kpi.loads).toBeGreaterThanOrEqual(1);
      expect(kpi.hitRate).toBeCloseTo(kpi.hits / (kpi.hits + kpi.misses));
      // The same counts on /metrics, for the hit ratio per family (ops/prometheus/rules.yml).
      const metrics = (await a.request('GET', '/metrics')).body as string;
      expect(metrics).toContain(`offload_cache_lookups_total{family="kpi",result="hit"} ${kpi.hits}`);
      expect(metrics).toContain(
        `offload_cache_lookups_total{family="kpi",result="miss"} ${kpi.misses - kpi.stale}`,
      );
      expect(metrics).toMatch(/offload_cache_lookups_total\{family="dashboard",result="stale"\} \d+/);
      const onB = (await b.request('GET', '/v1/cache/stats', { key: reader })).body;
      expect(onB.families.find((f: { family: string }) => f.family === 'kpi').ttlSeconds).toBe(600);
    });

    it('sees a rebuild by the worker in every API process', async () => {
      const before = (await kpiOn(b)).body.computedAt;
      await rebuildKpiSnapshots(worker, { asOf: '2026-01-01', now: new Date('2026-01-01T02:00:00.000Z') });
      for (const api of [a, b]) {
        await eventually('the new snapshot', async () => (await kpiOn(api)).body.computedAt !== before);
        expect((await kpiOn(api)).body.computedAt).toBe('2026-01-01T02:00:00.000Z');
      }
    });

    it('invalidates a family in every process (admin only)', async () => {
      expect(
        (await a.request('POST', '/v1/cache/invalidate', { key: reader, body: { family: 'kpi' } })).status,
      ).toBe(403);
      await kpiOn(b);
      const statsOf = async () =>
        (await b.request('GET', '/v1/cache/stats', { key: reader })).body.families.find(
          (f: { family: string }) => f.family === 'kpi',
        );
      const before = await statsOf();
      const res = await a.request('POST', '/v1/cache/invalidate', { key: admin, body: { family: 'kpi' } });
      expect(res.status).toBe(200);
      expect(res.body.versions.kpi).toBe(before.version + 1);
      await eventually('B to drop kpi', async () => {
        // On SQLite the version check runs on a read (of any family; not kpi, to keep it empty).
        await b.request('GET', '/v1/attestation-cycles?limit=1', { key: reader });
        return (await statsOf()).version === before.version + 1;
      });
      const after = await statsOf();
      expect(after.invalidations).toBeGreaterThan(before.invalidations);
      expect(after.keys).toBe(0);
      // The next read on B loads again.
      const loads = after.loads;
      await kpiOn(b);
      expect((await statsOf()).loads).toBe(loads + 1);
    });

    it('invalidates every family without a body, and refuses an unknown family', async () => {
      const all = await a.request('POST', '/v1/cache/invalidate', { key: admin });
      expect(all.status).toBe(200);
      expect(Object.keys(all.body.versions).sort()).toEqual([...READ_FAMILIES].sort());
      const unknown = await a.request('POST', '/v1/cache/invalidate', {
        key: admin,
        body: { family: 'nope' },
      });
      expect(unknown.status).toBe(422);
      expect(unknown.body.errors[0].pointer).toBe('#/family');
      const extra = await a.request('POST', '/v1/cache/invalidate', { key: admin, body: { famliy: 'kpi' } });
      expect(extra.status).toBe(422);
    });
  });
}
