// `db copy` on values that could differ between the dialects (both ways): text with the COPY
// format's own characters, unicode, empty strings beside NULL, booleans, extreme floats, big
// integers, JSON with keys in any order, binary; the source read only; the next id on the target;
// and a verification that notices a changed value, not only a lost row.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyDatabase, formatVerification, verifyDatabases } from '../src/copy/index.ts';
import { createTestDb, type TestDatabaseKind, type TestDb, testDatabases } from '../src/testing.ts';

const AT = '2026-03-29T01:30:00.123Z';

const NAMES = [
  'tab\there',
  'line\nbreak\r\nand return',
  'back\\slash \\N \\t',
  '\\N',
  '',
  'unicode: é ñ 你好 🚀 e\u0301',
  'quote \' " and , comma',
];

const VALUES = [0.1, 1e-300, 1.7976931348623157e308, -2.5, 123456789.12345679, 5e-324, 0];

const PAYLOAD = '{"b": 1, "a": [1, {"d": 2, "c": "x\\ty"}], "big": 12345678901234567890, "u": "\\u00e9"}';

async function populate(source: TestDb): Promise<void> {
  const k = source.db.knex;
  await k('regions').insert({ id: 1, code: 'EU', name: 'Europe' });
  await k('teams').insert({ id: 1, code: 'RISK', name: 'Risk', region_id: 1 });
  await k('risk_tiers').insert({
    id: 1,
    code: 'T1',
    revalidation_months: 12,
    lead_days: 30,
    grace_days: 10,
    interim_validity_days: 90,
  });
  await k('models').insert(
    NAMES.map((name, i) => ({
      external_id: `M-${i + 1}`,
      name,
      region_id: 1,
      team_id: 1,
      risk_tier_id: 1,
      owner_email: i === 4 ? '' : `o${i}@example.com`,
      created_at: AT,
      updated_at: AT,
    })),
  );
  // A model deleted on the source (ids 1 to 7 above, from the key's sequence): its id 8 is never
  // to be handed out again.
  await k('models').insert({
    external_id: 'M-8',
    name: 'gone',
    region_id: 1,
    team_id: 1,
    risk_tier_id: 1,
    owner_email: 'x@example.com',
  });
  await k('models').where({ id: 8 }).delete();
  await k('model_metrics').insert(
    VALUES.map((value, i) => ({ model_id: 1, metric: `m${i}`, observed_at: AT, value })),
  );
  await k('metric_sources').insert([
    { name: 'on', url: 'https://e.example/on', format: 'csv', enabled: true, created_at: AT },
    {
      name: 'off',
      url: 'https://e.example/off',
      format: 'ndjson',
      cron: null,
      enabled: false,
      created_at: AT,
    },
  ]);
  await k('model_health').insert({ model_id: 1, status: 'ok', payload: PAYLOAD, computed_at: AT });
  await k('validations').insert({ model_id: 2, kind: 'full', status: 'approved', approved_on: '2026-03-29' });
  await k('uploads').insert({ id: 'u1', entity: 'models', byte_size: 2 ** 40 + 1, created_at: AT });
  await k('upload_chunks').insert({
    upload_id: 'u1',
    seq: 0,
    data: Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  });
}

/** What a table holds, in a form both dialects give alike. */
async function rows(db: TestDb, table: string, orderBy: string[]): Promise<unknown[]> {
  const all = await db.db.knex(table).select('*').orderBy(orderBy);
  return all.map((row: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(row).map(([key, value]) => [
        key,
        typeof value === 'boolean' ? Number(value) : Buffer.isBuffer(value) ? value.toString('hex') : value,
      ]),
    ),
  );
}

/** Fingerprints of a SQLite database's files, to prove it was not written. */
function fileState(db: TestDb): string[] {
  const path = db.databaseUrl.slice('sqlite:'.length);
  return ['', '-wal'].map((suffix) =>
    existsSync(path + suffix)
      ? createHash('sha256')
          .update(readFileSync(path + suffix))
          .digest('hex')
      : '-',
  );
}

const directions: Array<[TestDatabaseKind, TestDatabaseKind]> = testDatabases().includes('postgres')
  ? [
      ['sqlite', 'postgres'],
      ['postgres', 'sqlite'],
    ]
  : [];

for (const [from, to] of directions) {
  describe(`db copy values ${from} → ${to}`, () => {
    let source: TestDb;
    let target: TestDb;

    beforeAll(async () => {
      source = await createTestDb(from);
      target = await createTestDb(to);
      await populate(source);
    });
    afterAll(async () => {
      await target?.destroy();
      await source?.destroy();
    });

    it('copies every value as it was, without writing the source', async () => {
      const before = from === 'sqlite' ? fileState(source) : [];
      const report = await copyDatabase({ from: source.databaseUrl, to: target.databaseUrl, batchSize: 3 });
      expect(report.verification.ok, formatVerification(report.verification)).toBe(true);
      if (from === 'sqlite') expect(fileState(source)).toEqual(before);
      for (const [table, order] of [
        ['models', ['id']],
        ['model_metrics', ['metric']],
        ['metric_sources', ['id']],
        ['validations', ['id']],
        ['uploads', ['id']],
        ['upload_chunks', ['seq']],
      ] as const) {
        expect(await rows(target, table, [...order]), table).toEqual(await rows(source, table, [...order]));
      }
      const [health] = await target.db.knex('model_health').select('payload');
      // jsonb respaces and reorders, and keeps the big number exactly as SQLite's text does.
      expect(JSON.parse(health.payload)).toEqual(JSON.parse(PAYLOAD));
      expect(health.payload).toContain('12345678901234567890');
    });

    it('hands out new ids past every id the source ever gave', async () => {
      const [row] = await target.db
        .knex('models')
        .insert({
          external_id: 'M-new',
          name: 'new',
          region_id: 1,
          team_id: 1,
          risk_tier_id: 1,
          owner_email: 'n@example.com',
        })
        .returning('id');
      await target.db.knex('models').where({ id: row.id }).delete();
      expect(Number(row.id)).toBe(9);
    });

    it("refuses a target holding another application's rows before writing to it", async () => {
      const other = await createTestDb(to, { migrate: false });
      try {
        await other.db.knex.schema.createTable('invoices', (t) => {
          t.increments('id');
          t.text('number');
        });
        await other.db.knex('invoices').insert({ number: 'F-1' });
        await expect(copyDatabase({ from: source.databaseUrl, to: other.databaseUrl })).rejects.toThrow(
          /^the target already holds data in invoices: copy into an empty database/,
        );
        expect(await other.db.knex.schema.hasTable('knex_migrations')).toBe(false);
      } finally {
        await other.destroy();
      }
    });

    const mismatch = async () => {
      const verification = await verifyDatabases({ from: source.databaseUrl, to: target.databaseUrl });
      return verification.tables.filter((t) => !t.ok).map((t) => t.name);
    };

    it('notices one value changed on the target', async () => {
      await target.db.knex('models').where({ id: 1 }).update({ name: 'tab\there ' });
      const changed = await mismatch();
      await target.db.knex('models').where({ id: 1 }).update({ name: NAMES[0] });
      expect(changed).toEqual(['models']);
      expect(await mismatch()).toEqual([]);
    });

    it('notices two values swapped between rows', async () => {
      const swap = async (a: string, b: string) => {
        await target.db.knex('model_metrics').where({ metric: 'm0' }).update({ metric: 'tmp' });
        await target.db.knex('model_metrics').where({ metric: b }).update({ metric: a });
        await target.db.knex('model_metrics').where({ metric: 'tmp' }).update({ metric: b });
      };
      await swap('m0', 'm1');
      const swapped = await mismatch();
      await swap('m0', 'm1');
      expect(swapped).toEqual(['model_metrics']);
      expect(await mismatch()).toEqual([]);
    });

    it('tells the text \\N from NULL, and an empty string from NULL', async () => {
      const off = target.db.knex('metric_sources').where({ name: 'off' });
      await off.clone().update({ cron: '\\N' });
      const backslashN = await mismatch();
      await off.clone().update({ cron: '' });
      const empty = await mismatch();
      await off.clone().update({ cron: null });
      expect(backslashN).toEqual(['metric_sources']);
      expect(empty).toEqual(['metric_sources']);
      expect(await mismatch()).toEqual([]);
    });

    it('notices a boolean flipped and a JSON value changed', async () => {
      await target.db.knex('metric_sources').where({ name: 'off' }).update({ enabled: true });
      const flipped = await mismatch();
      await target.db.knex('metric_sources').where({ name: 'off' }).update({ enabled: false });
      await target.db.knex('model_health').update({ payload: PAYLOAD.replace('"d": 2', '"d": 3') });
      const changed = await mismatch();
      await target.db.knex('model_health').update({ payload: PAYLOAD });
      expect(flipped).toEqual(['metric_sources']);
      expect(changed).toEqual(['model_health']);
      expect(await mismatch()).toEqual([]);
    });
  });
}
