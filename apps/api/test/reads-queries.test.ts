// No N+1 on the read endpoints, on both databases: every list, detail and report endpoint issues
// the same number of queries (read from the request's Server-Timing) against an inventory of 10
// models and one of 10,000, with the cache's L1 off so that every request does its real loads;
// and the query plans of the hot inventory reads use their indexes.
import { type Db, inventory, queryRows } from '@offload/db';
import { rebuildComplianceReport, rebuildKpiSnapshots } from '@offload/db/reports';
import { seedDatabase } from '@offload/db/seed';
import { testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi, type TestResponse } from './harness.ts';

const SIZES = [10, 10_000] as const;

/** The number of database queries the request issued, from its Server-Timing header. */
function queryCount(res: TestResponse): number {
  const match = /db;desc="(\d+) quer/.exec(res.headers.get('server-timing') ?? '');
  if (match === null) throw new Error(`no db count in Server-Timing: ${res.headers.get('server-timing')}`);
  return Number(match[1]);
}

type Row = Record<string, unknown>;

function rows(db: Db, sql: string, bindings: readonly unknown[] = []): Promise<Row[]> {
  return queryRows<Row>(db.knex, sql, bindings);
}

/** The plan of `sql` as text: SQLite's EXPLAIN QUERY PLAN details, PostgreSQL's EXPLAIN lines. */
async function planOf(db: Db, sql: string, bindings: readonly unknown[]): Promise<string> {
  if (db.dialect === 'sqlite') {
    const plan = await rows(db, `EXPLAIN QUERY PLAN ${sql}`, bindings);
    return plan.map((row) => String(row.detail)).join('\n');
  }
  const plan = await rows(db, `EXPLAIN ${sql}`, bindings);
  return plan.map((row) => String(row['QUERY PLAN'])).join('\n');
}

/**
 * The page is found through one of `indexes`, never a full scan of models (the planner may
 * pick the index of the more selective filter, and sort a handful of rows rather than walk more).
 */
function expectIndexedPage(dialect: Db['dialect'], plan: string, indexes: readonly string[]): void {
  expect(
    indexes.some((index) => plan.includes(index)),
    plan,
  ).toBe(true);
  if (dialect === 'sqlite') {
    expect(plan).not.toMatch(/SCAN m\b/);
  } else {
    expect(plan).not.toMatch(/Seq Scan on models/);
  }
}

interface Sized {
  models: number;
  api: TestApi;
  key: string;
  region: string;
  team: string;
  modelId: number;
}

for (const kind of testDatabases()) {
  describe(`read endpoints' queries (${kind})`, () => {
    const sized: Sized[] = [];

    beforeAll(async () => {
      for (const models of SIZES) {
        // L1 off (TTL 0): each request loads; keys cached so auth costs no query once warm.
        const api = await startTestApi(kind, { cache: { ttlSeconds: 0 }, settings: { keyCacheMs: 600_000 } });
        sized.push({ models, api, key: '', region: '', team: '', modelId: 0 });
        const { db } = api.testDb;
        await seedDatabase(db, { models, quiet: true });
        await rebuildKpiSnapshots(db, { asOf: '2026-01-01' });
        await rebuildComplianceReport(db);
        const [pick] = await rows(
          db,
          `SELECT r.code AS region, t.code AS team, m.id FROM models m
             JOIN regions r ON r.id = m.region_id JOIN teams t ON t.id = m.team_id
            WHERE m.status = 'active' AND EXISTS (SELECT 1 FROM validations v WHERE v.model_id = m.id)
            ORDER BY m.id LIMIT 1`,
        );
        const entry = sized[sized.length - 1]!;
        entry.key = await api.key('reader', ['read']);
        entry.region = String(pick!.region);
        entry.team = String(pick!.team);
        entry.modelId = Number(pick!.id);
        // Warm the key (its lookup and first last-used write are not the endpoint's).
        await api.request('GET', '/v1/dashboard', { key: entry.key });
      }
    });
    afterAll(async () => {
      for (const { api } of sized) await api.close();
    });

    /** Each endpoint with the exact number of statements it may issue on a miss. */
    const endpoints = (s: Sized): Array<[string, number]> => [
      ['/v1/kpi', 1],
      [`/v1/kpi?region=${s.region}&team=${s.team}`, 1],
      ['/v1/reports/regional-compliance', 1],
      ['/v1/attestation-cycles?limit=100', 1],
      // KPI snapshot, compliance report, first page of the precomputed attestation cycle counts.
      ['/v1/dashboard', 3],
      ['/v1/models?limit=100', 1],
      [`/v1/models?region=${s.region}&team=${s.team}&status=active&limit=100`, 2],
      [`/v1/models?team=${s.team}&limit=100`, 2],
      [`/v1/models/${s.modelId}`, 3],
    ];

    it('issues the same, constant number of queries for 10 and for 10,000 models', async () => {
      const counts: number[][] = [];
      for (const s of sized) {
        const found: number[] = [];
        for (const [path, expected] of endpoints(s)) {
          const res = await s.api.request('GET', path, { key: s.key });
          expect(res.status, `${path} on ${s.models} models`).toBe(200);
          found.push(queryCount(res));
          expect(queryCount(res), `${path} on ${s.models} models`).toBe(expected);
        }
        // The second page of the big list: the keyset costs what the first page did.
        const first = await s.api.request('GET', '/v1/models?limit=5', { key: s.key });
        expect(first.body.nextCursor).not.toBeNull();
        const second = await s.api.request(
          'GET',
          `/v1/models?limit=5&cursor=${encodeURIComponent(first.body.nextCursor)}`,
          { key: s.key },
        );
        expect(second.status).toBe(200);
        expect(queryCount(second)).toBe(1);
        const rowsReturned = (await s.api.request('GET', '/v1/models?limit=100', { key: s.key })).body.items
          .length;
        expect(rowsReturned).toBe(Math.min(100, s.models));
        counts.push(found);
      }
      expect(counts[0]).toEqual(counts[1]);
    });

    describe('plans of the hot inventory reads (10,000 models)', () => {
      const big = () => sized.find((s) => s.models === 10_000)!;

      const listPlan = async (filter: { region?: string; team?: string; status?: 'active' | 'retired' }) => {
        const { db } = big().api.testDb;
        const ids = await inventory.resolveFilterCodes(db, filter);
        const query = inventory
          .modelListQuery(db, { ...ids, ...(filter.status === undefined ? {} : { status: filter.status }) })
          .where('m.id', '>', 100)
          .orderBy('m.id')
          .limit(51)
          .toSQL();
        return planOf(db, query.sql, query.bindings);
      };

      it('lists by region, team and status through models_region_team_status_id_idx', async () => {
        const plan = await listPlan({ region: big().region, team: big().team, status: 'active' });
        expectIndexedPage(kind, plan, ['models_region_team_status_id_idx']);
      });

      it('lists by region and status through an index, in id order', async () => {
        // Region 1 holds a third of the inventory: PostgreSQL rightly prefers (status, id) then.
        expectIndexedPage(kind, await listPlan({ region: big().region, status: 'retired' }), [
          'models_region_status_id_idx',
          'models_status_id_idx',
        ]);
      });

      it('lists by team and status through models_team_status_id_idx', async () => {
        expectIndexedPage(kind, await listPlan({ team: big().team, status: 'retired' }), [
          'models_team_status_id_idx',
        ]);
      });

      it('lists by status through models_status_id_idx', async () => {
        expectIndexedPage(kind, await listPlan({ status: 'retired' }), ['models_status_id_idx']);
      });

      it("reads a model's validations and approvals through their indexes", async () => {
        const { db } = big().api.testDb;
        const id = big().modelId;
        const validations = await planOf(db, inventory.INVENTORY_SQL.MODEL_VALIDATIONS, [id]);
        expect(validations).toContain('validations_model_kind_status_approved_on_idx');
        const approvals = await planOf(db, inventory.INVENTORY_SQL.MODEL_APPROVALS, [id]);
        expect(approvals).toContain('validations_model_kind_status_approved_on_idx');
        expect(approvals).toContain('approvals_validation_region_type_unique');
        const model = await planOf(db, inventory.INVENTORY_SQL.MODEL_WITH_HEALTH, [id]);
        expect(model).toMatch(db.dialect === 'sqlite' ? /SEARCH m USING INTEGER PRIMARY KEY/ : /models_pkey/);
        expect(model).toMatch(db.dialect === 'sqlite' ? /SEARCH h USING/ : /model_health_pkey/);
        for (const plan of [validations, approvals, model]) {
          expect(plan).not.toMatch(
            db.dialect === 'sqlite' ? /SCAN (v|a|m)\b/ : /Seq Scan on (validations|approvals|models)/,
          );
        }
      });
    });
  });
}
