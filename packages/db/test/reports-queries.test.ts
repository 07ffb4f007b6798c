// The report rebuilds' cost does not grow with the inventory, on both databases: the KPI and the
// compliance rebuilds issue the same number of statements for 10 and for 10,000 seeded models,
// and the plans of the compliance report's approvals read, of the rebuild's attestation cycle
// counts and of their pages use their indexes (SQLite: EXPLAIN QUERY PLAN names the index; PostgreSQL: EXPLAIN (FORMAT
// JSON) with sequential scans disabled, which proves the index can serve the query).
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, withQueryStats } from '../src/index.ts';
import {
  attestationCycleCountsQuery,
  COMPLIANCE_BY_REGION,
  COUNT_ATTESTATION_CYCLES,
  rebuildComplianceReport,
  rebuildKpiSnapshots,
} from '../src/reports/index.ts';
import { seedDatabase } from '../src/seed/index.ts';
import { createTestDb, type TestDb, testDatabases } from '../src/testing.ts';

const APPROVALS_INDEX = 'approvals_validation_region_type_unique';
const ATTESTATION_INDEX = 'attestation_records_cycle_status_idx';
const CYCLE_COUNTS_INDEX = 'attestation_cycle_counts_opens_on_cycle_idx';

/** The statement counts of one KPI and one compliance rebuild. */
async function rebuildCounts(db: Db): Promise<{ kpi: number; compliance: number; activeModels: number }> {
  const kpi = await withQueryStats(() => rebuildKpiSnapshots(db, { asOf: '2026-01-01' }));
  const compliance = await withQueryStats(() => rebuildComplianceReport(db));
  return { kpi: kpi.stats.count, compliance: compliance.stats.count, activeModels: kpi.result.activeModels };
}

/** Every index name a plan mentions. */
async function planIndexes(db: Db, sql: string, bindings: readonly unknown[] = []): Promise<string> {
  if (db.dialect === 'sqlite') {
    const rows: Array<{ detail: string }> = await db.knex.raw(
      `EXPLAIN QUERY PLAN ${sql}`,
      bindings as Knex.RawBinding[],
    );
    return rows.map((row) => row.detail).join('\n');
  }
  return db.knex.transaction(async (trx) => {
    await trx.raw('SET LOCAL enable_seqscan = off');
    const { rows } = await trx.raw(`EXPLAIN (FORMAT JSON) ${sql}`, bindings as Knex.RawBinding[]);
    const names: string[] = [];
    const walk = (node: Record<string, unknown>): void => {
      if (typeof node['Index Name'] === 'string') names.push(`${node['Node Type']} on ${node['Index Name']}`);
      for (const child of (node.Plans as Array<Record<string, unknown>> | undefined) ?? []) walk(child);
    };
    // knex's pg client leaves the json column as text.
    const raw: unknown = rows[0]['QUERY PLAN'];
    const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Array<{
      Plan: Record<string, unknown>;
    }>;
    walk(plan[0]!.Plan);
    return names.join('\n');
  });
}

for (const kind of testDatabases()) {
  describe(`${kind}: report rebuild queries and plans`, () => {
    let t: TestDb;
    beforeAll(async () => {
      t = await createTestDb(kind);
    });
    afterAll(() => t?.destroy());

    it('rebuilds KPI and compliance in the same number of statements for 10 and 10,000 models', async () => {
      await seedDatabase(t.db, { models: 10, quiet: true });
      const small = await rebuildCounts(t.db);
      await seedDatabase(t.db, { models: 10_000, quiet: true, reset: true });
      const large = await rebuildCounts(t.db);
      expect(large.activeModels).toBeGreaterThan(500 * small.activeModels);
      // KPI: cycle, counts, scopes, cycle counts, bump, delete, insert, and the cycle counts'
      // delete and insert (+ SET LOCAL and pg_notify on PostgreSQL).
      expect(small.kpi).toBe(kind === 'postgres' ? 11 : 9);
      // Compliance: report rows, bump, upsert (+ pg_notify on PostgreSQL).
      expect(small.compliance).toBe(kind === 'postgres' ? 4 : 3);
      expect(large.kpi).toBe(small.kpi);
      expect(large.compliance).toBe(small.compliance);
    }, 300_000);

    it(`reads approvals for the compliance report through ${APPROVALS_INDEX}`, async () => {
      const plan = await planIndexes(t.db, COMPLIANCE_BY_REGION[t.db.dialect]);
      expect(plan).toContain(APPROVALS_INDEX);
    });

    it(`counts attestation records per cycle through ${ATTESTATION_INDEX}`, async () => {
      const plan = await planIndexes(t.db, COUNT_ATTESTATION_CYCLES[t.db.dialect]);
      expect(plan).toContain(ATTESTATION_INDEX);
    });

    it(`pages the stored counts through ${CYCLE_COUNTS_INDEX}`, async () => {
      const page = attestationCycleCountsQuery(t.db.knex)
        .where('c.opens_on', '<', '2026-01-01')
        .orderBy([
          { column: 'c.opens_on', order: 'desc' },
          { column: 'c.cycle_id', order: 'desc' },
        ])
        .limit(51)
        .toSQL();
      const plan = await planIndexes(t.db, page.sql, page.bindings);
      expect(plan).toContain(CYCLE_COUNTS_INDEX);
    });
  });
}
