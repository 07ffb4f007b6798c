// The seed on both backends: it writes exactly the inventory the generator describes (so the
// two databases hold the same rows), the same every time, covering every §2.1 status, and
// leaves the schema as the migrations made it.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  createRng,
  fromEpochDay,
  REVALIDATION_STATUSES,
  type RevalidationStatus,
  revalidationStatus,
  toEpochDay,
  type ValidationFacts,
} from '@offload/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/index.ts';
import {
  DEFAULT_ANCHOR,
  DEFAULT_SEED,
  SeedRefusedError,
  type SeedReport,
  seedDatabase,
} from '../src/seed/index.ts';
import { SEED_TABLES, type SeedTable } from '../src/seed/tables.ts';
import { dateText, instantText } from '../src/seed/values.ts';
import { createTestDb, type TestDatabaseKind, type TestDb, testDatabases } from '../src/testing.ts';

const MODELS = 500;
const plan = { seed: DEFAULT_SEED, models: MODELS, anchorDay: toEpochDay(DEFAULT_ANCHOR) };

type Row = Array<string | number | boolean | null>;

// One form for a row whichever side it comes from: dates and instants as text, booleans as
// booleans (SQLite stores 1/0), numbers as numbers.
function normalize(table: SeedTable, values: readonly unknown[], fromGenerator: boolean): Row {
  return table.columns.map(([, type], i) => {
    const v = values[i];
    if (v === null || v === undefined) return null;
    if (type === 'bool') return Boolean(v);
    if (type === 'int' || type === 'real') return Number(v);
    if (fromGenerator && type === 'date') return dateText(v as number);
    if (fromGenerator && type === 'instant') return instantText(v as number);
    return v as string;
  });
}

const orderOf = (table: SeedTable): string[] =>
  table.columns.some(([name]) => name === 'id') ? ['id'] : ['model_id', 'metric', 'observed_at'];

async function tableRows(db: Db, table: SeedTable): Promise<Row[]> {
  const names = table.columns.map(([name]) => name);
  const rows = await db.knex(table.name).select(names).orderBy(orderOf(table));
  return rows.map((r: Record<string, unknown>) =>
    normalize(
      table,
      names.map((n) => r[n]),
      false,
    ),
  );
}

const generated = new Map(
  SEED_TABLES.map((table) => [table.name, [...table.rows(plan)].map((row) => normalize(table, row, true))]),
);

const digest = (rows: Row[]): string => createHash('sha256').update(JSON.stringify(rows)).digest('hex');

// A few rows from the start, the middle and the end: what a failure message shows.
function samples(rows: Row[]): Row[] {
  const middle = Math.floor(rows.length / 2);
  return [...rows.slice(0, 3), ...rows.slice(middle, middle + 3), ...rows.slice(-3)];
}

async function inventoryDigests(db: Db): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of SEED_TABLES) out[table.name] = digest(await tableRows(db, table));
  return out;
}

async function schemaObjects(t: TestDb): Promise<string[]> {
  if (t.kind === 'sqlite') {
    // ANALYZE adds its statistics tables; they are not schema.
    const rows = await t.db.knex.raw(
      `SELECT type || ' ' || name || ' ' || sql AS o FROM sqlite_master WHERE name NOT LIKE 'sqlite_stat%' ORDER BY name`,
    );
    return rows.map((r: { o: string }) => r.o);
  }
  const result = await t.db.knex.raw(`
    SELECT indexdef AS o FROM pg_indexes WHERE schemaname = current_schema()
    UNION ALL
    SELECT conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated
      FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
    ORDER BY 1`);
  return result.rows.map((r: { o: string }) => r.o);
}

const kinds = testDatabases();
const seeded = new Map<TestDatabaseKind, { t: TestDb; report: SeedReport; schemaBefore: string[] }>();

beforeAll(async () => {
  for (const kind of kinds) {
    const t = await createTestDb(kind);
    const schemaBefore = await schemaObjects(t);
    const report = await seedDatabase(t.db, { models: MODELS, quiet: true });
    seeded.set(kind, { t, report, schemaBefore });
  }
});

afterAll(async () => {
  for (const { t } of seeded.values()) await t.destroy();
});

for (const kind of kinds) {
  describe(kind, () => {
    const the = () => seeded.get(kind)!;

    it('writes exactly the rows the generator describes, table by table', async () => {
      for (const table of SEED_TABLES) {
        const rows = await tableRows(the().t.db, table);
        const expected = generated.get(table.name)!;
        expect(rows.length, table.name).toBe(expected.length);
        expect(samples(rows), table.name).toEqual(samples(expected));
        expect(digest(rows), table.name).toBe(digest(expected));
      }
    });

    it('reports the rows it wrote', () => {
      const { report } = the();
      expect(report.tables.map((t) => [t.table, t.rows])).toEqual(
        SEED_TABLES.map((t) => [t.name, generated.get(t.name)!.length]),
      );
      expect(report.totalRows).toBe([...generated.values()].reduce((sum, rows) => sum + rows.length, 0));
      expect(report).toMatchObject({ models: MODELS, seed: DEFAULT_SEED, anchor: DEFAULT_ANCHOR });
    });

    it('is a realistic inventory: about five validations a model, ~5% retired, every §2.1 status', async () => {
      const { knex } = the().t.db;
      const tiers = new Map(
        (await knex('risk_tiers').select('*')).map((t: Record<string, number>) => [
          t.id,
          {
            revalidationMonths: t.revalidation_months!,
            leadDays: t.lead_days!,
            graceDays: t.grace_days!,
            interimValidityDays: t.interim_validity_days!,
          },
        ]),
      );
      const models = await knex('models').select('id', 'risk_tier_id', 'status');
      const byModel = new Map<number, ValidationFacts[]>();
      for (const v of await knex('validations').select('model_id', 'kind', 'status', 'approved_on')) {
        const list = byModel.get(v.model_id) ?? [];
        list.push({ kind: v.kind, status: v.status, approvedOn: v.approved_on });
        byModel.set(v.model_id, list);
      }
      const counts = new Map<RevalidationStatus, number>();
      let active = 0;
      for (const m of models) {
        if (m.status !== 'active') continue;
        active++;
        const input = { ...tiers.get(m.risk_tier_id)!, validations: byModel.get(m.id) ?? [] };
        const status = revalidationStatus(input, DEFAULT_ANCHOR);
        counts.set(status, (counts.get(status) ?? 0) + 1);
      }
      expect([...counts.keys()].sort()).toEqual([...REVALIDATION_STATUSES].sort());
      expect(counts.get('current')! / active).toBeGreaterThan(0.4);
      expect(1 - active / MODELS).toBeGreaterThan(0.02);
      expect(1 - active / MODELS).toBeLessThan(0.09);
      const validations = generated.get('validations')!.length;
      expect(validations / MODELS).toBeGreaterThan(4);
      expect(validations / MODELS).toBeLessThan(6.5);
      // No history runs past the anchor date.
      const [{ latest }] = await knex('validations').max({ latest: 'approved_on' });
      expect(latest <= DEFAULT_ANCHOR).toBe(true);
    });

    it('leaves the schema as migrated, foreign keys enforced and ids moving on', async () => {
      const { t, schemaBefore } = the();
      expect(await schemaObjects(t)).toEqual(schemaBefore);
      const { knex } = t.db;
      // The seed borrowed the connection SQLite's pool holds: it must have given it back as it was.
      if (kind === 'sqlite') expect(await knex.raw('PRAGMA foreign_keys')).toEqual([{ foreign_keys: 1 }]);
      await expect(
        knex('validations').insert({ model_id: MODELS + 1, kind: 'full', status: 'planned' }),
      ).rejects.toThrow(/foreign key/i);
      // Rolled back, so the inventory stays as seeded for the other tests.
      await knex
        .transaction(async (trx) => {
          const [region] = await trx('regions').insert({ code: 'XX', name: 'New' }).returning('id');
          expect(region.id).toBe(generated.get('regions')!.length + 1);
          const [validation] = await trx('validations')
            .insert({ model_id: 1, kind: 'full', status: 'planned' })
            .returning('id');
          // Greater, not equal: PostgreSQL spent a sequence value on the refused insert above.
          expect(validation.id).toBeGreaterThan(generated.get('validations')!.length);
          throw new Error('roll back');
        })
        .catch((err: Error) => {
          if (err.message !== 'roll back') throw err;
        });
    });

    it('refuses to seed over an inventory, reseeds identically with reset, differently with another seed', async () => {
      const t = await createTestDb(kind);
      try {
        await seedDatabase(t.db, { models: 60, quiet: true });
        const first = await inventoryDigests(t.db);
        const schema = await schemaObjects(t);
        await expect(seedDatabase(t.db, { models: 60, quiet: true })).rejects.toThrow(SeedRefusedError);
        expect(await inventoryDigests(t.db)).toEqual(first);

        await seedDatabase(t.db, { models: 60, reset: true, quiet: true });
        expect(await inventoryDigests(t.db)).toEqual(first);
        expect(await schemaObjects(t)).toEqual(schema);

        await seedDatabase(t.db, { models: 60, seed: 7, anchor: '2027-06-30', reset: true, quiet: true });
        const other = await inventoryDigests(t.db);
        expect(other.models).not.toBe(first.models);
        expect(other.validations).not.toBe(first.validations);
        expect(other.regions).toBe(first.regions);
      } finally {
        await t.destroy();
      }
    });

    it('refuses bad options before touching the database', async () => {
      const { db } = the().t;
      await expect(seedDatabase(db, { models: 0 })).rejects.toThrow(/models must be an integer/);
      await expect(seedDatabase(db, { models: 1.5 })).rejects.toThrow(RangeError);
      await expect(seedDatabase(db, { models: 5, anchor: '2026-02-30' })).rejects.toThrow(/anchor/);
    });
  });
}

describe.skipIf(kinds.length < 2)('across backends', () => {
  it('holds the same rows in SQLite and PostgreSQL', async () => {
    const [sqlite, postgres] = [seeded.get('sqlite')!, seeded.get('postgres')!];
    for (const table of SEED_TABLES) {
      const [a, b] = [await tableRows(sqlite.t.db, table), await tableRows(postgres.t.db, table)];
      expect(b.length, table.name).toBe(a.length);
      expect(samples(b), table.name).toEqual(samples(a));
      expect(digest(b), table.name).toBe(digest(a));
    }
  });
});

describe('instant text', () => {
  it('is what Date#toISOString writes', () => {
    const rng = createRng(11);
    const mismatches: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const ms = rng.int(0, 2 ** 31) * 1000 + rng.int(0, 999) + (i % 2) * 86_399_999;
      if (instantText(ms) !== new Date(ms).toISOString()) mismatches.push(ms);
    }
    expect(mismatches).toEqual([]);
    expect(dateText(toEpochDay('2028-02-29'))).toBe('2028-02-29');
    expect(fromEpochDay(toEpochDay(DEFAULT_ANCHOR))).toBe(DEFAULT_ANCHOR);
  });
});

describe('seed CLI', () => {
  const cli = join(import.meta.dirname, '../src/seed/cli.ts');
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [cli, ...args], {
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: 'sqlite::memory:' },
    });

  it.each([
    [[], /--models N is required/],
    [['--models', 'abc'], /--models must be an integer of at least 1, got "abc"/],
    [['--models', '0'], /--models must be an integer of at least 1/],
    [['--models', '10', '--seed', 'x'], /--seed must be an integer/],
    [['--models', '10', '--anchor', '2026-02-30'], /--anchor must be a date as YYYY-MM-DD, got "2026-02-30"/],
    [['--models', '10', '--bogus'], /Unknown option '--bogus'/],
  ])('refuses %j with a usage message', (args, message) => {
    const result = run(...args);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/usage: npm run seed -- --models N/);
  });

  it('seeds an in-memory database end to end', () => {
    const result = run('--models', '20', '--anchor', '2025-06-30');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/seeding 20 models \(seed 42, anchor 2025-06-30\) into sqlite/);
    expect(result.stdout).toMatch(/total\s+[\d,]+ rows/);
  });
});
