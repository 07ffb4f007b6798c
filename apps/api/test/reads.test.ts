// The precomputed read endpoints through HTTP on both databases, against a seeded inventory:
// before and after the first rebuilds, scopes by code, pagination, the dashboard's parts, the
// attestation counts and the dashboard following a KPI rebuild (and not a record written since),
// the models list and a model's detail compared with the database, and the problems they answer.

import { bumpCacheVersion, type Db, queryRows } from '@offload/db';
import {
  listAttestationCycleCounts,
  readComplianceReport,
  readKpiSnapshot,
  rebuildComplianceReport,
  rebuildKpiSnapshots,
} from '@offload/db/reports';
import { seedDatabase } from '@offload/db/seed';
import { testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApi, type TestApi } from './harness.ts';

const MODELS = 300;

type Row = Record<string, unknown>;

function rows(db: Db, sql: string, bindings: Array<string | number> = []): Promise<Row[]> {
  return queryRows<Row>(db.knex, sql, bindings);
}

for (const kind of testDatabases()) {
  describe(`precomputed reads (${kind})`, () => {
    let api: TestApi;
    let reader: string;
    let db: Db;

    beforeAll(async () => {
      // Version checks on every read, so a rebuild is seen by the next request on SQLite too.
      api = await startTestApi(kind, { cache: { versionCheckMs: 0 } });
      db = api.testDb.db;
      reader = await api.key('reader', ['read']);
      await seedDatabase(db, { models: MODELS, quiet: true });
    });
    afterAll(() => api?.close());

    const get = (path: string, key = reader) => api.request('GET', path, { key });

    it('answers 503 snapshot-pending before the first rebuild, and the dashboard with null parts', async () => {
      for (const path of ['/v1/kpi', '/v1/reports/regional-compliance']) {
        const res = await get(path);
        expect(res.status).toBe(503);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(res.headers.get('retry-after')).toBe('30');
        expect(res.body).toMatchObject({ type: 'urn:offload:problem:snapshot-pending', status: 503 });
      }
      const dashboard = await get('/v1/dashboard');
      expect(dashboard.status).toBe(200);
      expect(dashboard.body.kpi).toBeNull();
      expect(dashboard.body.compliance).toBeNull();
      expect(dashboard.body.latestAttestationCycle).toBeNull();
      // The health counts come with the KPI snapshot: none yet.
      expect(dashboard.body.health).toEqual({ ok: 0, warn: 0, alert: 0, unknown: 0 });
      // The attestation counts too are written by the KPI rebuild.
      expect((await get('/v1/attestation-cycles')).body).toEqual({ items: [], nextCursor: null });
    });

    it('serves the KPI snapshots once rebuilt, for every scope by code', async () => {
      await rebuildKpiSnapshots(db, { asOf: '2026-01-01' });
      const global = await eventually('the KPI rebuild', async () => {
        const res = await get('/v1/kpi');
        return res.status === 200 ? res : undefined;
      });
      expect(global.headers.get('content-type')).toContain('application/json');
      const stored = await readKpiSnapshot(db);
      expect(global.body).toEqual(JSON.parse(stored!.payload));
      expect(global.body).toMatchObject({ asOf: '2026-01-01', scope: { region: null, team: null } });
      for (const field of ['computedAt', 'activeModels', 'byStatus', 'byBucket', 'pctCompliant', 'health']) {
        expect(global.body).toHaveProperty(field);
      }

      const [team] = await rows(
        db,
        `SELECT t.code AS team, r.code AS region FROM teams t JOIN regions r ON r.id = t.region_id ORDER BY t.id`,
      );
      const scopes: Array<{ region?: string; team?: string }> = [
        { region: String(team!.region) },
        { team: String(team!.team) },
        { region: String(team!.region), team: String(team!.team) },
      ];
      for (const scope of scopes) {
        const res = await get(`/v1/kpi?${new URLSearchParams(scope as Record<string, string>)}`);
        expect(res.status).toBe(200);
        const snapshot = await readKpiSnapshot(db, scope);
        expect(res.body).toEqual(JSON.parse(snapshot!.payload));
        expect(res.body.scope).toEqual({ region: scope.region ?? null, team: scope.team ?? null });
      }
    });

    it('answers 404 naming an unknown region or team, 400 for an unknown parameter', async () => {
      const region = await get('/v1/kpi?region=NOPE');
      expect(region.status).toBe(404);
      expect(region.body).toMatchObject({ title: 'Unknown region', errors: [{ parameter: 'region' }] });
      const team = await get('/v1/kpi?team=NOPE');
      expect(team.status).toBe(404);
      expect(team.body.errors).toEqual([{ parameter: 'team', detail: 'unknown team code' }]);
      const bad = await get('/v1/kpi?regoin=NAM');
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0].parameter).toBe('regoin');
    });

    it('serves the regional compliance report once rebuilt', async () => {
      await rebuildComplianceReport(db);
      const res = await eventually('the compliance rebuild', async () => {
        const r = await get('/v1/reports/regional-compliance');
        return r.status === 200 ? r : undefined;
      });
      expect(res.body).toEqual(await readComplianceReport(db));
      expect(res.body.regions.length).toBeGreaterThan(0);
    });

    it('pages through the attestation cycles, newest first, and refuses a bad limit or cursor', async () => {
      const seen: Row[] = [];
      let cursor: string | null = null;
      do {
        const path: string = `/v1/attestation-cycles?limit=2${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
        const res = await get(path);
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...res.body.items);
        cursor = res.body.nextCursor;
      } while (cursor !== null);
      const all = await listAttestationCycleCounts(db, { limit: 100 });
      expect(seen).toEqual(all.items);
      expect(seen.length).toBeGreaterThan(2);
      const [records] = await rows(db, 'SELECT count(*) AS n FROM attestation_records');
      expect(seen.reduce((sum, c) => sum + Number(c.total), 0)).toBe(Number(records!.n));

      expect((await get('/v1/attestation-cycles?limit=101')).status).toBe(400);
      const forged = await get('/v1/attestation-cycles?cursor=abc.def');
      expect(forged.status).toBe(400);
      expect(forged.body.errors[0].parameter).toBe('cursor');
    });

    it('composes the dashboard from the same numbers', async () => {
      const res = await eventually('a dashboard with both rebuilds', async () => {
        const r = await get('/v1/dashboard');
        return r.body.kpi !== null && r.body.compliance !== null ? r : undefined;
      });
      const kpi = (await get('/v1/kpi')).body;
      const compliance = (await get('/v1/reports/regional-compliance')).body;
      const cycles = (await get('/v1/attestation-cycles?limit=1')).body;
      expect(res.body.kpi).toEqual({
        asOf: kpi.asOf,
        computedAt: kpi.computedAt,
        activeModels: kpi.activeModels,
        byBucket: kpi.byBucket,
        pctCompliant: kpi.pctCompliant,
      });
      expect(res.body.compliance).toEqual({ computedAt: compliance.computedAt, totals: compliance.totals });
      expect(res.body.latestAttestationCycle).toEqual(cycles.items[0]);
      expect(res.body.health).toEqual(kpi.health);
      const [active] = await rows(db, `SELECT count(*) AS n FROM models WHERE status = 'active'`);
      // No health analysis yet: every active model is unknown.
      expect(res.body.health).toEqual({ ok: 0, warn: 0, alert: 0, unknown: Number(active!.n) });
    });

    it('shows attestation counts as of the last KPI rebuild, in the list and on the dashboard', async () => {
      const before = (await get('/v1/attestation-cycles?limit=1')).body.items[0];
      const [model] = await rows(
        db,
        `SELECT id FROM models WHERE id NOT IN (SELECT model_id FROM attestation_records WHERE cycle_id = ?)
          ORDER BY id LIMIT 1`,
        [before.id],
      );
      await db
        .knex('attestation_records')
        .insert({ cycle_id: before.id, model_id: model!.id, status: 'attested' });
      // Served from the counts the rebuild stored, so the new record is not counted yet…
      expect((await get('/v1/attestation-cycles?limit=1')).body.items[0]).toEqual(before);
      expect((await get('/v1/dashboard')).body.latestAttestationCycle).toEqual(before);
      // …until the next rebuild, whose version bump drops the cached pages and the dashboard.
      await rebuildKpiSnapshots(db, { asOf: '2026-01-01' });
      const after = await eventually('the rebuilt attestation counts', async () => {
        const r = await get('/v1/attestation-cycles?limit=1');
        return r.body.items[0].total === before.total + 1 ? r.body.items[0] : undefined;
      });
      expect(after).toMatchObject({ id: before.id, attested: before.attested + 1 });
      const dashboard = await eventually('the dashboard with the rebuilt counts', async () => {
        const r = await get('/v1/dashboard');
        return r.body.latestAttestationCycle.total === after.total ? r : undefined;
      });
      expect(dashboard.body.latestAttestationCycle).toEqual(after);
      expect(dashboard.body.kpi.computedAt).toBe((await get('/v1/kpi')).body.computedAt);
    });

    it('lists models by region, team and status in id order, across pages', async () => {
      const [pick] = await rows(
        db,
        `SELECT r.code AS region, t.code AS team FROM models m
           JOIN regions r ON r.id = m.region_id JOIN teams t ON t.id = m.team_id
          GROUP BY r.code, t.code ORDER BY count(*) DESC, r.code LIMIT 1`,
      );
      const filters: Array<Record<string, string>> = [
        {},
        { status: 'retired' },
        { region: String(pick!.region), status: 'active' },
        { team: String(pick!.team) },
        { region: String(pick!.region), team: String(pick!.team), status: 'active' },
      ];
      for (const filter of filters) {
        const ids: number[] = [];
        let cursor: string | null = null;
        let first: Row | undefined;
        do {
          const params = new URLSearchParams({
            ...filter,
            limit: '40',
            ...(cursor === null ? {} : { cursor }),
          });
          const res = await get(`/v1/models?${params}`);
          expect(res.status).toBe(200);
          first ??= res.body.items[0];
          for (const item of res.body.items as Row[]) {
            ids.push(Number(item.id));
            if ('region' in filter) expect(item.region).toBe(filter.region);
            if ('team' in filter) expect(item.team).toBe(filter.team);
            if ('status' in filter) expect(item.status).toBe(filter.status);
          }
          cursor = res.body.nextCursor;
        } while (cursor !== null);
        const where: string[] = [];
        const bindings: string[] = [];
        if ('region' in filter) {
          where.push('r.code = ?');
          bindings.push(filter.region!);
        }
        if ('team' in filter) {
          where.push('t.code = ?');
          bindings.push(filter.team!);
        }
        if ('status' in filter) {
          where.push('m.status = ?');
          bindings.push(filter.status!);
        }
        const expected = await rows(
          db,
          `SELECT m.id FROM models m JOIN regions r ON r.id = m.region_id JOIN teams t ON t.id = m.team_id
            ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY m.id`,
          bindings,
        );
        expect(ids).toEqual(expected.map((row) => Number(row.id)));
        expect(ids.length).toBeGreaterThan(0);
        expect(Object.keys(first!).sort()).toEqual(
          [
            'createdAt',
            'externalId',
            'id',
            'name',
            'ownerEmail',
            'region',
            'riskTier',
            'status',
            'team',
            'updatedAt',
          ].sort(),
        );
      }
    });

    it('refuses unknown filter codes, statuses and limits with 400 naming the parameter', async () => {
      for (const [query, parameter] of [
        ['region=NOPE', 'region'],
        ['team=NOPE', 'team'],
        ['status=deleted', 'status'],
        ['limit=500', 'limit'],
        ['cursor=xyz', 'cursor'],
      ] as const) {
        const res = await get(`/v1/models?${query}`);
        expect(res.status, query).toBe(400);
        expect(res.body.errors[0].parameter, query).toBe(parameter);
      }
    });

    it('shows a model with its validations, their approvals and its health', async () => {
      const [busiest] = await rows(
        db,
        `SELECT v.model_id, count(*) AS n FROM validations v JOIN approvals a ON a.validation_id = v.id
          GROUP BY v.model_id ORDER BY count(*) DESC, v.model_id LIMIT 1`,
      );
      const id = Number(busiest!.model_id);
      const res = await get(`/v1/models/${id}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id, health: null });
      const validations = await rows(
        db,
        'SELECT id, kind, status FROM validations WHERE model_id = ? ORDER BY id',
        [id],
      );
      expect(res.body.validations.map((v: Row) => [v.id, v.kind, v.status])).toEqual(
        validations.map((v) => [Number(v.id), v.kind, v.status]),
      );
      const approvals = res.body.validations.flatMap((v: { approvals: Row[] }) => v.approvals);
      expect(approvals.length).toBe(Number(busiest!.n));

      // The analyzer lands a health row and bumps 'health': the cached detail follows.
      await db.knex.transaction(async (trx) => {
        await trx('model_health').insert({
          model_id: id,
          status: 'warn',
          payload: JSON.stringify({ psi: 0.2 }),
          details: '{}',
          computed_at: '2026-01-02T00:00:00.000Z',
          version: 1,
        });
        await bumpCacheVersion(trx, db.dialect, 'health');
      });
      const after = await eventually('the health bump', async () => {
        const r = await get(`/v1/models/${id}`);
        return r.body.health !== null ? r : undefined;
      });
      expect(after.body.health).toEqual({
        status: 'warn',
        computedAt: '2026-01-02T00:00:00.000Z',
        payload: { psi: 0.2 },
      });
      // The dashboard counts health from the KPI snapshot: the next rebuild (which the analyzer
      // requests) brings the new status.
      expect((await get('/v1/dashboard')).body.health.warn).toBe(0);
      await rebuildKpiSnapshots(db, { asOf: '2026-01-01' });
      const dashboard = await eventually('the dashboard health', async () => {
        const r = await get('/v1/dashboard');
        return r.body.health.warn === 1 ? r : undefined;
      });
      expect(dashboard.body.health).toEqual((await get('/v1/kpi')).body.health);

      expect((await get('/v1/models/999999999')).status).toBe(404);
      const bad = await get('/v1/models/abc');
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0].parameter).toBe('id');
    });

    it('needs an API key with the read scope', async () => {
      const submitter = await api.key('submitter', ['submit']);
      for (const path of [
        '/v1/kpi',
        '/v1/dashboard',
        '/v1/models',
        '/v1/models/1',
        '/v1/attestation-cycles',
      ]) {
        expect((await api.request('GET', path)).status, path).toBe(401);
        expect((await get(path, submitter)).status, path).toBe(403);
      }
    });

    it('documents every read endpoint in the OpenAPI document', async () => {
      const res = await api.request('GET', '/v1/openapi.json');
      for (const path of [
        '/v1/kpi',
        '/v1/reports/regional-compliance',
        '/v1/attestation-cycles',
        '/v1/dashboard',
        '/v1/models',
        '/v1/models/{id}',
        '/v1/cache/stats',
        '/v1/cache/invalidate',
      ]) {
        expect(res.body.paths, path).toHaveProperty([path]);
      }
      expect(res.body.components.schemas).toHaveProperty('Kpi');
      expect(res.body.components.schemas.Kpi.properties).toHaveProperty('byStatus');
    });
  });
}
