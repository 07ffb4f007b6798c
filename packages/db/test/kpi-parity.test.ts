// Golden tests of the KPI rebuild (DESIGN §2.1, §2.2): on generated inventories crowded with
// the rule's edge cases, the SQL must give every active model the status the reference
// function gives it, on both databases, and every snapshot must equal a recount in JavaScript.
//
// The generator aims models at the rule's boundaries: F on month ends and leap days (so the
// due date is clamped), F solved back from a chosen asOf so that asOf falls exactly on D - L,
// D or D + G or a day either side, interims before, on and after F and without any full,
// interims whose I + V lands on an asOf, open requests in every branch, rejected and
// duplicated validations, retired models and models without validations, and tiers whose
// windows are zero. The asOf dates checked are fixed ones plus boundaries of the generated
// models, and the test counts how many exact boundary hits it made so that a generator change
// cannot quietly stop covering them.

import {
  addDays,
  addMonthsClamped,
  bucketOf,
  COMPLIANCE_BUCKETS,
  createRng,
  type IsoDate,
  REVALIDATION_STATUSES,
  type RevalidationStatus,
  type Rng,
  revalidationStatus,
  type ValidationKind,
  type ValidationStatus,
} from '@offload/domain';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withQueryStats } from '../src/index.ts';
import {
  computeModelStatuses,
  type KpiSnapshot,
  kpiSnapshotKey,
  readKpiSnapshot,
  rebuildKpiSnapshots,
} from '../src/reports/index.ts';
import { createTestDb, type TestDb, testDatabases } from '../src/testing.ts';

// ---------------------------------------------------------------------------------------------
// The generated inventory

interface TierCase {
  id: number;
  code: string;
  revalidationMonths: number;
  leadDays: number;
  graceDays: number;
  interimValidityDays: number;
}

const TIERS: readonly TierCase[] = [
  { id: 1, code: 'HIGH', revalidationMonths: 12, leadDays: 30, graceDays: 60, interimValidityDays: 90 },
  { id: 2, code: 'MED', revalidationMonths: 24, leadDays: 60, graceDays: 90, interimValidityDays: 180 },
  { id: 3, code: 'LOW', revalidationMonths: 36, leadDays: 90, graceDays: 120, interimValidityDays: 365 },
  // Zero-width windows: D - L, D and D + G coincide, and an interim covers no day at all.
  { id: 4, code: 'ZERO', revalidationMonths: 1, leadDays: 0, graceDays: 0, interimValidityDays: 0 },
  { id: 5, code: 'SEMI', revalidationMonths: 6, leadDays: 14, graceDays: 31, interimValidityDays: 29 },
];

const REGIONS = [
  { id: 1, code: 'EU' },
  { id: 2, code: 'NA' },
  { id: 3, code: 'APAC' },
  { id: 4, code: 'LATAM' }, // no model is placed here
];

const TEAMS = [
  { id: 1, code: 'T01', regionId: 1 },
  { id: 2, code: 'T02', regionId: 1 },
  { id: 3, code: 'T03', regionId: 2 },
  { id: 4, code: 'T04', regionId: 2 },
  { id: 5, code: 'T05', regionId: 3 },
  { id: 6, code: 'T06', regionId: 4 }, // home LATAM, but its models sit in other regions
  { id: 7, code: 'T07', regionId: 3 }, // no model at all
];
const STAFFED_TEAMS = TEAMS.filter((t) => t.code !== 'T07');

// The latest cycle opened on or before asOf is the one reported; FUTURE opens after every asOf.
const CYCLES = [
  { id: 1, name: 'OLD', opensOn: '2023-07-01', closesOn: '2023-08-31' },
  { id: 2, name: 'RECENT', opensOn: '2024-01-01', closesOn: '2024-02-29' },
  { id: 3, name: 'FUTURE', opensOn: '2030-01-01', closesOn: '2030-02-28' },
];

// Dates around which the checks are made: month ends, leap days, the turn of a year.
const FIXED_AS_OF: readonly IsoDate[] = [
  '2024-02-28',
  '2024-02-29',
  '2024-03-01',
  '2024-04-30',
  '2024-08-31',
  '2024-12-31',
  '2025-01-31',
  '2025-02-28',
  '2025-03-01',
  '2025-08-31',
];

// Full validations on month ends and leap days, so that D = F + M months is often clamped.
const F_POOL: readonly IsoDate[] = [
  '2021-08-31',
  '2022-01-31',
  '2022-02-28',
  '2022-03-31',
  '2022-12-31',
  '2023-01-31',
  '2023-02-28',
  '2023-03-31',
  '2023-05-31',
  '2023-08-31',
  '2023-11-30',
  '2024-01-29',
  '2024-01-30',
  '2024-01-31',
  '2024-02-29',
  '2024-03-31',
  '2024-05-31',
  '2024-08-31',
  '2024-10-31',
  '2024-12-31',
  '2025-01-31',
];

interface ValidationCase {
  kind: ValidationKind;
  status: ValidationStatus;
  approvedOn: IsoDate | null;
}

interface ModelCase {
  id: number;
  regionId: number;
  teamId: number;
  tier: TierCase;
  active: boolean;
  health: 'ok' | 'warn' | 'alert' | null;
  /** The model's record status per cycle id. */
  attestations: Map<number, 'pending' | 'attested' | 'exception'>;
  validations: ValidationCase[];
}

const approved = (kind: ValidationKind, on: IsoDate): ValidationCase => ({
  kind,
  status: 'approved',
  approvedOn: on,
});
const unapproved = (rng: Rng, kind: ValidationKind): ValidationCase => ({
  kind,
  status: rng.pick(['planned', 'in_progress', 'rejected'] as const),
  approvedOn: null,
});
const offset = (rng: Rng): number => rng.pick([-1, 0, 1]);

/** A full date whose due date lands asOf on D - L, D or D + G, or a day either side. */
function fullAimedAtBoundary(rng: Rng, tier: TierCase): IsoDate {
  const asOf = rng.pick(FIXED_AS_OF);
  const shift = rng.pick([tier.leadDays, 0, -tier.graceDays]);
  const due = addDays(asOf, shift + offset(rng));
  let full = addMonthsClamped(due, -tier.revalidationMonths);
  // Back-solving a clamped month can miss (no F + 1 month is 31 March); step to one that hits.
  for (let step = 1; step <= 3 && addMonthsClamped(full, tier.revalidationMonths) < due; step += 1) {
    full = addDays(full, 1);
  }
  return full;
}

/** An interim approved so that I + V lands on a fixed asOf, or a day either side. */
const interimAimedAtExpiry = (rng: Rng, tier: TierCase): IsoDate =>
  addDays(rng.pick(FIXED_AS_OF), -tier.interimValidityDays + offset(rng));

// What a model's validation history looks like, and how often.
const History = { none: 0, openOnly: 1, rejectedOnly: 2, interimsOnly: 3, fulls: 4 } as const;
const HISTORY_WEIGHTS = [6, 5, 3, 12, 74];

function generateModel(seed: number, id: number): ModelCase {
  const rng = createRng(seed, id);
  const team = rng.pick(STAFFED_TEAMS);
  // Mostly the team's home region; sometimes another one, so (region, team) pairs cross.
  const regionId = team.code === 'T06' || rng.chance(0.1) ? rng.pick(REGIONS.slice(0, 3)).id : team.regionId;
  const tier = rng.pick(TIERS);
  const validations: ValidationCase[] = [];
  const attestations = new Map<number, 'pending' | 'attested' | 'exception'>();
  for (const cycle of CYCLES) {
    if (rng.chance(0.8)) attestations.set(cycle.id, rng.pick(['pending', 'attested', 'exception'] as const));
  }

  const history = rng.weighted(HISTORY_WEIGHTS);
  if (history === History.openOnly) {
    // Only open requests (and maybe a rejected one): in progress, never validated.
    validations.push({ kind: rng.pick(['full', 'interim'] as const), status: 'planned', approvedOn: null });
    if (rng.chance(0.5)) validations.push(unapproved(rng, 'full'));
  } else if (history === History.rejectedOnly) {
    validations.push({ kind: 'full', status: 'rejected', approvedOn: null });
  } else if (history === History.interimsOnly) {
    // Interims without any full.
    const count = rng.int(1, 2);
    for (let i = 0; i < count; i += 1) {
      validations.push(
        approved(
          'interim',
          rng.chance(0.6) ? interimAimedAtExpiry(rng, tier) : addDays(rng.pick(F_POOL), rng.int(0, 400)),
        ),
      );
    }
    if (rng.chance(0.4)) validations.push(unapproved(rng, rng.pick(['full', 'interim'] as const)));
  } else if (history === History.fulls) {
    const full = rng.chance(0.5) ? rng.pick(F_POOL) : fullAimedAtBoundary(rng, tier);
    validations.push(approved('full', full));
    // Earlier fulls, about a cycle apart; sometimes the same day twice.
    const earlier = rng.weighted([5, 3, 1]);
    let previous = full;
    for (let i = 0; i < earlier; i += 1) {
      previous = rng.chance(0.15)
        ? previous
        : addDays(addMonthsClamped(previous, -tier.revalidationMonths), rng.int(-20, 20));
      validations.push(approved('full', previous));
    }
    // Interims: before F (ignored), on F (not after it, ignored), after F, aimed at I + V.
    const interims = rng.weighted([4, 3, 2]);
    for (let i = 0; i < interims; i += 1) {
      const where = rng.weighted([2, 1, 3, 3]);
      const on =
        where === 0
          ? addDays(full, -rng.int(1, 200))
          : where === 1
            ? full
            : where === 2
              ? addDays(full, rng.int(1, tier.revalidationMonths * 31 + tier.graceDays + 60))
              : interimAimedAtExpiry(rng, tier);
      validations.push(approved('interim', on));
    }
    // Open requests in every branch, and rejections that must not count.
    if (rng.chance(0.45)) {
      const status = rng.pick(['planned', 'in_progress'] as const);
      validations.push({ kind: rng.pick(['full', 'interim'] as const), status, approvedOn: null });
    }
    if (rng.chance(0.25)) {
      validations.push({
        kind: rng.pick(['full', 'interim'] as const),
        status: 'rejected',
        approvedOn: null,
      });
    }
  }
  // History.none: no validations at all.

  return {
    id,
    regionId,
    teamId: team.id,
    tier,
    active: !rng.chance(0.12),
    health: rng.pick([null, 'ok', 'ok', 'warn', 'alert'] as const),
    attestations,
    validations: rng.chance(0.5) ? validations : validations.reverse(),
  };
}

function generateModels(seed: number, fromId: number, count: number): ModelCase[] {
  return Array.from({ length: count }, (_, i) => generateModel(seed, fromId + i));
}

const referenceStatus = (model: ModelCase, asOf: IsoDate): RevalidationStatus =>
  revalidationStatus({ ...model.tier, validations: model.validations }, asOf);

// ---------------------------------------------------------------------------------------------
// Writing it

const CHUNK = 500;

async function insertReferenceData(knex: Knex): Promise<void> {
  await knex('regions').insert(REGIONS.map((r) => ({ id: r.id, code: r.code, name: `Region ${r.code}` })));
  await knex('teams').insert(
    TEAMS.map((t) => ({ id: t.id, code: t.code, name: `Team ${t.code}`, region_id: t.regionId })),
  );
  await knex('risk_tiers').insert(
    TIERS.map((t) => ({
      id: t.id,
      code: t.code,
      revalidation_months: t.revalidationMonths,
      lead_days: t.leadDays,
      grace_days: t.graceDays,
      interim_validity_days: t.interimValidityDays,
    })),
  );
  await knex('attestation_cycles').insert(
    CYCLES.map((c) => ({ id: c.id, name: c.name, opens_on: c.opensOn, closes_on: c.closesOn })),
  );
}

async function insertModels(knex: Knex, models: readonly ModelCase[]): Promise<void> {
  const rows = models.map((m) => ({
    id: m.id,
    external_id: `M-${m.id}`,
    name: `Model ${m.id}`,
    region_id: m.regionId,
    team_id: m.teamId,
    risk_tier_id: m.tier.id,
    owner_email: `owner${m.id}@example.com`,
    status: m.active ? 'active' : 'retired',
  }));
  const validations = models.flatMap((m) =>
    m.validations.map((v) => ({ model_id: m.id, kind: v.kind, status: v.status, approved_on: v.approvedOn })),
  );
  const health = models.flatMap((m) =>
    m.health === null
      ? []
      : [{ model_id: m.id, status: m.health, payload: '{}', computed_at: '2025-01-01T00:00:00.000Z' }],
  );
  const records = models.flatMap((m) =>
    [...m.attestations].map(([cycleId, status]) => ({
      cycle_id: cycleId,
      model_id: m.id,
      status,
      attested_at: status === 'attested' ? '2024-01-15T10:00:00.000Z' : null,
    })),
  );
  await knex.transaction(async (trx) => {
    await trx.batchInsert('models', rows, CHUNK);
    await trx.batchInsert('validations', validations, CHUNK);
    await trx.batchInsert('model_health', health, CHUNK);
    await trx.batchInsert('attestation_records', records, CHUNK);
  });
}

// ---------------------------------------------------------------------------------------------
// The recount the snapshots are held to

const BOUNDARIES = ['D-L', 'D', 'D+G', 'I+V'] as const;

/** The dates §2.1 compares asOf with, for one model (the ones it has). */
function boundariesOf(model: ModelCase): Array<[(typeof BOUNDARIES)[number], IsoDate]> {
  const approvedOn = (kind: ValidationKind) =>
    model.validations
      .filter((v) => v.kind === kind && v.status === 'approved')
      .map((v) => v.approvedOn!)
      .sort();
  const full = approvedOn('full').at(-1) ?? null;
  const interim =
    approvedOn('interim')
      .filter((on) => full === null || on > full)
      .at(-1) ?? null;
  const found: Array<[(typeof BOUNDARIES)[number], IsoDate]> = [];
  if (full !== null) {
    const due = addMonthsClamped(full, model.tier.revalidationMonths);
    found.push(
      ['D-L', addDays(due, -model.tier.leadDays)],
      ['D', due],
      ['D+G', addDays(due, model.tier.graceDays)],
    );
  }
  if (interim !== null) found.push(['I+V', addDays(interim, model.tier.interimValidityDays)]);
  return found;
}

function expectedSnapshots(
  models: readonly ModelCase[],
  asOf: IsoDate,
  computedAt: string,
): Map<string, KpiSnapshot> {
  const regionCode = new Map(REGIONS.map((r) => [r.id, r.code]));
  const teamCode = new Map(TEAMS.map((t) => [t.id, t.code]));
  const cycle = CYCLES.filter((c) => c.opensOn <= asOf).at(-1) ?? null;
  const scopes = new Map<string, KpiSnapshot['scope']>([['kpi:global', { region: null, team: null }]]);
  for (const r of REGIONS) scopes.set(kpiSnapshotKey({ region: r.code }), { region: r.code, team: null });
  for (const t of TEAMS) {
    scopes.set(kpiSnapshotKey({ team: t.code }), { region: null, team: t.code });
    const home = regionCode.get(t.regionId)!;
    scopes.set(kpiSnapshotKey({ region: home, team: t.code }), { region: home, team: t.code });
  }
  for (const m of models) {
    if (!m.active) continue;
    const scope = { region: regionCode.get(m.regionId)!, team: teamCode.get(m.teamId)! };
    scopes.set(kpiSnapshotKey(scope), scope);
  }

  const percent = (part: number, whole: number) =>
    whole === 0 ? 0 : Math.round((part * 10_000) / whole) / 100;
  const result = new Map<string, KpiSnapshot>();
  for (const [key, scope] of scopes) {
    const inScope = models.filter(
      (m) =>
        m.active &&
        (scope.region === null || regionCode.get(m.regionId) === scope.region) &&
        (scope.team === null || teamCode.get(m.teamId) === scope.team),
    );
    const byStatus = Object.fromEntries(REVALIDATION_STATUSES.map((s) => [s, 0])) as KpiSnapshot['byStatus'];
    const byBucket = Object.fromEntries(COMPLIANCE_BUCKETS.map((b) => [b, 0])) as KpiSnapshot['byBucket'];
    const health = { ok: 0, warn: 0, alert: 0, unknown: 0 };
    let total = 0;
    let attested = 0;
    for (const m of inScope) {
      const status = referenceStatus(m, asOf);
      byStatus[status] += 1;
      byBucket[bucketOf(status)] += 1;
      health[m.health ?? 'unknown'] += 1;
      const record = cycle === null ? undefined : m.attestations.get(cycle.id);
      if (record !== undefined) total += 1;
      if (record === 'attested') attested += 1;
    }
    result.set(key, {
      scope,
      asOf,
      computedAt,
      activeModels: inScope.length,
      byStatus,
      byBucket,
      pctCompliant: percent(byBucket.compliant, inScope.length),
      health,
      attestation: {
        cycle: cycle === null ? null : { name: cycle.name, opensOn: cycle.opensOn, closesOn: cycle.closesOn },
        total,
        attested,
        completionPct: percent(attested, total),
      },
    });
  }
  return result;
}

async function storedSnapshots(t: TestDb): Promise<Map<string, { payload: KpiSnapshot; version: number }>> {
  const rows = await t.db.knex('kpi_snapshots').select('key', 'payload', 'version');
  return new Map(rows.map((r) => [r.key as string, { payload: JSON.parse(r.payload), version: r.version }]));
}

// ---------------------------------------------------------------------------------------------

const SEED = 20_260_101;
const MODELS = generateModels(SEED, 1, 1_500);

/** Fixed dates, then boundaries of the generated models and the days either side of them. */
function asOfDates(): IsoDate[] {
  const rng = createRng(SEED, 0);
  const boundaries = [
    ...new Set(MODELS.filter((m) => m.active).flatMap((m) => boundariesOf(m).map(([, d]) => d))),
  ].sort();
  const picked = new Set<IsoDate>(FIXED_AS_OF);
  while (picked.size < FIXED_AS_OF.length + 45) picked.add(addDays(rng.pick(boundaries), offset(rng)));
  return [...picked].sort();
}

for (const kind of testDatabases()) {
  describe(kind, () => {
    let t: TestDb;
    beforeAll(async () => {
      t = await createTestDb(kind);
      await insertReferenceData(t.db.knex);
      await insertModels(t.db.knex, MODELS);
    });
    afterAll(() => t?.destroy());

    it('gives every active model the reference status, on every asOf checked', async () => {
      const active = MODELS.filter((m) => m.active);
      const seen = new Map<RevalidationStatus, number>();
      const hits = new Map<string, number>();
      const boundaries = active.map(boundariesOf);
      for (const asOf of asOfDates()) {
        const rows = await computeModelStatuses(t.db, asOf);
        expect(rows.map((r) => r.modelId)).toEqual(active.map((m) => m.id));
        const expected = active.map((m) => ({ modelId: m.id, status: referenceStatus(m, asOf) }));
        const wrong = rows.filter((row, i) => row.status !== expected[i]!.status);
        expect(
          wrong.map((row) => ({
            ...row,
            asOf,
            expected: referenceStatus(active.find((m) => m.id === row.modelId)!, asOf),
          })),
        ).toEqual([]);
        for (const { status } of expected) seen.set(status, (seen.get(status) ?? 0) + 1);
        for (const found of boundaries) {
          for (const [boundary, date] of found) {
            for (const [delta, label] of [
              [-1, 'before'],
              [0, 'on'],
              [1, 'after'],
            ] as const) {
              if (addDays(date, delta) === asOf)
                hits.set(`${label} ${boundary}`, (hits.get(`${label} ${boundary}`) ?? 0) + 1);
            }
          }
        }
      }
      // The generator really exercised the rule: every status, every boundary exactly and on
      // the day either side of it.
      for (const status of REVALIDATION_STATUSES) expect(seen.get(status) ?? 0, status).toBeGreaterThan(20);
      for (const boundary of BOUNDARIES) {
        for (const label of ['before', 'on', 'after']) {
          expect(hits.get(`${label} ${boundary}`) ?? 0, `${label} ${boundary}`).toBeGreaterThan(5);
        }
      }
    });

    it('covers the clamped month ends it claims to', () => {
      const clamped = MODELS.filter((m) =>
        m.validations.some(
          (v) =>
            v.kind === 'full' &&
            v.approvedOn !== null &&
            addMonthsClamped(v.approvedOn, m.tier.revalidationMonths).slice(8) !== v.approvedOn.slice(8),
        ),
      );
      expect(clamped.length).toBeGreaterThan(50);
      expect(MODELS.some((m) => m.validations.some((v) => v.approvedOn?.endsWith('-02-29')))).toBe(true);
    });

    for (const asOf of ['2024-02-29', '2025-03-01', '2023-06-30']) {
      it(`stores every scope's snapshot equal to a per-model recount (asOf ${asOf})`, async () => {
        const now = new Date(`${asOf}T06:30:00.123Z`);
        const result = await rebuildKpiSnapshots(t.db, { asOf, now });
        const expected = expectedSnapshots(MODELS, asOf, now.toISOString());
        const stored = await storedSnapshots(t);
        expect(new Set(stored.keys())).toEqual(new Set(expected.keys()));
        for (const [key, snapshot] of expected) expect(stored.get(key)?.payload, key).toEqual(snapshot);
        for (const { version } of stored.values()) expect(version).toBe(result.version);
        expect(result).toEqual({
          asOf,
          computedAt: now.toISOString(),
          version: result.version,
          snapshots: expected.size,
          activeModels: MODELS.filter((m) => m.active).length,
        });
      });
    }

    it('replaces the previous set in one go and bumps the version', async () => {
      const first = await rebuildKpiSnapshots(t.db, {
        asOf: '2025-01-31',
        now: new Date('2025-01-31T01:00:00.000Z'),
      });
      // A snapshot that is no longer a scope disappears with the previous set.
      await t.db.knex('kpi_snapshots').insert({
        key: 'kpi:team:GONE',
        payload: '{}',
        computed_at: '2025-01-31T01:00:00.000Z',
        version: first.version,
      });
      const second = await rebuildKpiSnapshots(t.db, {
        asOf: '2025-02-01',
        now: new Date('2025-02-01T01:00:00.000Z'),
      });
      expect(second.version).toBe(first.version + 1);
      const stored = await storedSnapshots(t);
      expect(stored.size).toBe(second.snapshots);
      expect(stored.has('kpi:team:GONE')).toBe(false);
      expect(
        [...stored.values()].every((s) => s.version === second.version && s.payload.asOf === '2025-02-01'),
      ).toBe(true);
      const [family] = await t.db.knex('cache_versions').where({ family: 'kpi' }).select('version');
      expect(family.version).toBe(second.version);
    });

    it('reads a stored snapshot by scope', async () => {
      const now = new Date('2025-03-01T00:00:00.000Z');
      const { version } = await rebuildKpiSnapshots(t.db, { asOf: '2025-03-01', now });
      const expected = expectedSnapshots(MODELS, '2025-03-01', now.toISOString());
      for (const scope of [
        {},
        { region: 'EU' },
        { team: 'T03' },
        { region: 'EU', team: 'T01' },
        { region: 'LATAM' },
        { team: 'T07' },
      ]) {
        const stored = await readKpiSnapshot(t.db, scope);
        expect(stored).toMatchObject({ key: kpiSnapshotKey(scope), version, computedAt: now.toISOString() });
        expect(JSON.parse(stored!.payload)).toEqual(expected.get(kpiSnapshotKey(scope)));
      }
      // Empty scopes are zeros, not missing.
      expect(JSON.parse((await readKpiSnapshot(t.db, { region: 'LATAM' }))!.payload)).toMatchObject({
        activeModels: 0,
        pctCompliant: 0,
        health: { ok: 0, warn: 0, alert: 0, unknown: 0 },
      });
      expect(await readKpiSnapshot(t.db, { region: 'NOPE' })).toBeNull();
      expect(await readKpiSnapshot(t.db, { region: 'LATAM', team: 'T01' })).toBeNull();
    });

    it('refuses an asOf that is not a calendar date', async () => {
      await expect(rebuildKpiSnapshots(t.db, { asOf: '2025-02-30' })).rejects.toThrow(RangeError);
      await expect(computeModelStatuses(t.db, '2025-1-5')).rejects.toThrow(RangeError);
    });
  });

  describe(`${kind}: query count`, () => {
    let t: TestDb;
    beforeAll(async () => {
      t = await createTestDb(kind);
      await insertReferenceData(t.db.knex);
    });
    afterAll(() => t?.destroy());

    it('issues the same statements for 10 and for 2,000 models', async () => {
      const rebuild = () =>
        rebuildKpiSnapshots(t.db, { asOf: '2025-02-28', now: new Date('2025-02-28T00:00:00.000Z') });
      await insertModels(t.db.knex, generateModels(SEED + 1, 1, 10));
      const small = await withQueryStats(rebuild);
      await insertModels(t.db.knex, generateModels(SEED + 1, 11, 1_990));
      const large = await withQueryStats(rebuild);
      expect(large.result.activeModels).toBeGreaterThan(10 * small.result.activeModels);
      expect(small.stats.count).toBe(kind === 'postgres' ? 11 : 9);
      expect(large.stats.count).toBe(small.stats.count);
    });
  });
}
