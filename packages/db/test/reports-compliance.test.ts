// The regional compliance report on both databases: on a seeded inventory, extended with the
// cases the seed does not make (several approval types of one region on one validation, decided
// differently; a region nobody asks), the stored report equals a plain per-row recount in
// TypeScript; the rebuild bumps the 'compliance' family in the same transaction as the report,
// notifies on PostgreSQL, and the read side sees null before the first rebuild.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CACHE_CHANNEL, readCacheVersions } from '../src/index.ts';
import {
  type ComplianceReport,
  type RegionCompliance,
  readComplianceReport,
  rebuildComplianceReport,
} from '../src/reports/index.ts';
import { seedDatabase } from '../src/seed/index.ts';
import { createTestDb, type TestDb, testDatabases } from '../src/testing.ts';

type Figures = Omit<RegionCompliance, 'region' | 'regionName'>;

const DAY_MS = 86_400_000;

/** One validation's approvals from one region. */
interface Pair {
  regionId: number;
  validationId: number;
  statuses: string[];
  dates: string[];
}

/** The report as a reader would compute it by hand: one approval, one validation at a time. */
async function recount(t: TestDb): Promise<Pick<ComplianceReport, 'regions' | 'totals'>> {
  const { knex } = t.db;
  const regions: Array<{ id: number; code: string; name: string }> = await knex('regions').select(
    'id',
    'code',
    'name',
  );
  const approvedOn = new Map<number, string | null>();
  for (const v of await knex('validations').select('id', 'approved_on')) {
    approvedOn.set(Number(v.id), v.approved_on === null ? null : String(v.approved_on));
  }
  // (validation, region) → its approvals' statuses and decision dates
  const pairs = new Map<string, Pair>();
  for (const a of await knex('approvals').select('validation_id', 'region_id', 'status', 'decided_on')) {
    const key = `${a.validation_id}/${a.region_id}`;
    let pair = pairs.get(key);
    if (pair === undefined) {
      pair = {
        regionId: Number(a.region_id),
        validationId: Number(a.validation_id),
        statuses: [],
        dates: [],
      };
      pairs.set(key, pair);
    }
    pair.statuses.push(String(a.status));
    if (a.decided_on !== null) pair.dates.push(String(a.decided_on));
  }
  const figures = (rows: Pair[]): Figures => {
    let approved = 0;
    let pending = 0;
    let rejected = 0;
    const lags: number[] = [];
    for (const pair of rows) {
      const outcome = pair.statuses.includes('rejected')
        ? 'rejected'
        : pair.statuses.includes('pending')
          ? 'pending'
          : 'approved';
      if (outcome === 'approved') approved += 1;
      if (outcome === 'pending') pending += 1;
      if (outcome === 'rejected') rejected += 1;
      const validated = approvedOn.get(pair.validationId) ?? null;
      if (outcome !== 'pending' && validated !== null) {
        const decided = [...pair.dates].sort().at(-1)!;
        lags.push((Date.parse(decided) - Date.parse(validated)) / DAY_MS);
      }
    }
    const decided = approved + rejected;
    return {
      required: rows.length,
      approved,
      pending,
      rejected,
      approvalRate: decided === 0 ? null : Math.round((approved / decided) * 10_000) / 10_000,
      avgLagDays:
        lags.length === 0 ? null : Math.round((lags.reduce((s, l) => s + l, 0) / lags.length) * 100) / 100,
      maxLagDays: lags.length === 0 ? null : Math.max(...lags),
    };
  };
  const all = [...pairs.values()];
  return {
    regions: regions
      .sort((a, b) => (a.code < b.code ? -1 : 1))
      .map((r) => ({
        region: r.code,
        regionName: r.name,
        ...figures(all.filter((p) => p.regionId === Number(r.id))),
      })),
    totals: figures(all),
  };
}

/** Cases the seed does not make, on validations it made. */
async function addEdgeCases(t: TestDb): Promise<void> {
  const { knex } = t.db;
  const [quiet] = await knex('regions').insert({ code: 'ZZ-QUIET', name: 'Nobody asks' }).returning('id');
  const [other] = await knex('regions').insert({ code: 'AA-EXTRA', name: 'Extra approvals' }).returning('id');
  expect(quiet).toBeDefined();
  const approved = await knex('validations')
    .where('status', 'approved')
    .orderBy('id')
    .limit(4)
    .select('id', 'approved_on');
  const [a, b, c, d] = approved.map((v) => ({ id: Number(v.id), on: String(v.approved_on) }));
  const plus = (date: string, days: number) =>
    new Date(Date.parse(date) + days * DAY_MS).toISOString().slice(0, 10);
  await knex('approvals').insert([
    // approved by one type, still pending for the other: pending, no lag
    {
      validation_id: a!.id,
      region_id: other.id,
      approval_type: 'legal',
      status: 'approved',
      decided_on: plus(a!.on, 3),
    },
    { validation_id: a!.id, region_id: other.id, approval_type: 'risk', status: 'pending', decided_on: null },
    // approved by one type, rejected by the other: rejected, lag to the later decision
    {
      validation_id: b!.id,
      region_id: other.id,
      approval_type: 'legal',
      status: 'approved',
      decided_on: plus(b!.on, 2),
    },
    {
      validation_id: b!.id,
      region_id: other.id,
      approval_type: 'risk',
      status: 'rejected',
      decided_on: plus(b!.on, 40),
    },
    // both approved: approved, lag to the later one
    {
      validation_id: c!.id,
      region_id: other.id,
      approval_type: 'legal',
      status: 'approved',
      decided_on: plus(c!.on, 7),
    },
    {
      validation_id: c!.id,
      region_id: other.id,
      approval_type: 'risk',
      status: 'approved',
      decided_on: plus(c!.on, 11),
    },
    // decided the same day as the validation: a zero lag counts
    {
      validation_id: d!.id,
      region_id: other.id,
      approval_type: 'legal',
      status: 'approved',
      decided_on: d!.on,
    },
  ]);
}

for (const kind of testDatabases()) {
  describe(`${kind}: regional compliance report`, () => {
    let t: TestDb;
    beforeAll(async () => {
      t = await createTestDb(kind);
    });
    afterAll(() => t?.destroy());

    it('reads null before the first rebuild', async () => {
      expect(await readComplianceReport(t.db)).toBeNull();
    });

    it('equals a per-row recount on a seeded inventory with edge cases', async () => {
      await seedDatabase(t.db, { models: 400, quiet: true });
      await addEdgeCases(t);
      const now = new Date('2026-01-02T03:04:05.678Z');
      const result = await rebuildComplianceReport(t.db, { now });
      const report = await readComplianceReport(t.db);
      const expected = await recount(t);
      expect(report).not.toBeNull();
      expect(report!.regions).toEqual(expected.regions);
      expect(report!.totals).toEqual(expected.totals);
      expect(report!.computedAt).toBe(now.toISOString());
      expect(result).toEqual({
        version: report!.version,
        regions: expected.regions.length,
        computedAt: now.toISOString(),
      });
      // The data exercises every branch of the outcome and lag rules.
      const totals = report!.totals;
      expect(totals.approved).toBeGreaterThan(0);
      expect(totals.pending).toBeGreaterThan(0);
      expect(totals.rejected).toBeGreaterThan(0);
      const extra = report!.regions.find((r) => r.region === 'AA-EXTRA')!;
      expect(extra).toMatchObject({ required: 4, approved: 2, pending: 1, rejected: 1, maxLagDays: 40 });
      expect(extra.avgLagDays).toBe(Math.round(((40 + 11 + 0) / 3) * 100) / 100);
      expect(report!.regions.find((r) => r.region === 'ZZ-QUIET')).toEqual({
        region: 'ZZ-QUIET',
        regionName: 'Nobody asks',
        required: 0,
        approved: 0,
        pending: 0,
        rejected: 0,
        approvalRate: null,
        avgLagDays: null,
        maxLagDays: null,
      });
    });

    it("bumps the 'compliance' family with the report, and a rebuild sees new approvals", async () => {
      const before = (await readCacheVersions(t.db.knex)).get('compliance') ?? 0;
      const [validation] = await t.db
        .knex('validations')
        .where('status', 'approved')
        .orderBy('id', 'desc')
        .limit(1);
      const [region] = await t.db.knex('regions').where('code', 'ZZ-QUIET').select('id');
      await t.db.knex('approvals').insert({
        validation_id: validation.id,
        region_id: region.id,
        approval_type: 'late',
        status: 'pending',
        decided_on: null,
      });
      const result = await rebuildComplianceReport(t.db);
      expect(result.version).toBe(before + 1);
      expect((await readCacheVersions(t.db.knex)).get('compliance')).toBe(before + 1);
      const report = await readComplianceReport(t.db);
      expect(report!.version).toBe(before + 1);
      expect(report!.regions.find((r) => r.region === 'ZZ-QUIET')).toMatchObject({ required: 1, pending: 1 });
      expect(report!.regions).toEqual((await recount(t)).regions);
    });

    if (kind === 'postgres') {
      it('notifies the caches when a rebuild lands', async () => {
        const client = new pg.Client({ connectionString: t.databaseUrl });
        await client.connect();
        try {
          await client.query(`LISTEN ${CACHE_CHANNEL}`);
          const received = new Promise<string>((resolve) => {
            client.on('notification', (message) => {
              if (message.payload?.startsWith('compliance:')) resolve(message.payload);
            });
          });
          const { version } = await rebuildComplianceReport(t.db);
          expect(await received).toBe(`compliance:${version}`);
        } finally {
          await client.end();
        }
      });
    }
  });
}
