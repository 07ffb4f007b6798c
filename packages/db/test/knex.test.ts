import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, createDb, toDbError } from '../src/index.ts';
import { createTestDb, type TestDb, testDatabases } from '../src/testing.ts';
import { insertInventory } from './fixtures.ts';

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

for (const kind of testDatabases()) {
  describe(kind, () => {
    let t: TestDb;
    beforeAll(async () => {
      t = await createTestDb(kind);
      await insertInventory(t.db.knex);
    });
    afterAll(() => t?.destroy());

    it('reports its dialect', () => {
      expect(t.db.dialect).toBe(kind);
    });

    it('reads calendar dates back as YYYY-MM-DD strings', async () => {
      const row = await t.db.knex('attestation_cycles').first('opens_on', 'closes_on');
      expect(row).toEqual({ opens_on: '2024-01-01', closes_on: '2024-06-30' });
      const validation = await t.db.knex('validations').first('approved_on');
      expect(validation.approved_on).toBe('2024-02-29');
    });

    it('reads instants back as ISO-8601 UTC with milliseconds, defaults included', async () => {
      const [created] = await t.db
        .knex('api_keys')
        .insert({ name: 'k', owner: 'o', key_hash: 'h1', created_at: '2026-11-22T07:35:21.123Z' })
        .returning(['id', 'created_at', 'revoked_at']);
      expect(created).toMatchObject({ created_at: '2026-11-22T07:35:21.123Z', revoked_at: null });
      const model = await t.db.knex('models').first('created_at', 'updated_at');
      expect(model.created_at).toMatch(ISO_MS);
      expect(model.updated_at).toMatch(ISO_MS);
    });

    it('binds a Date as the same instant on both databases', async () => {
      const at = new Date('2026-01-02T03:04:05.678Z');
      await t.db.knex('api_keys').insert({ name: 'k', owner: 'o', key_hash: 'h2', created_at: at });
      const row = await t.db.knex('api_keys').where({ key_hash: 'h2' }).first('created_at');
      expect(row.created_at).toBe('2026-01-02T03:04:05.678Z');
      const found = await t.db.knex('api_keys').where('created_at', '=', at).count({ n: '*' });
      expect(found[0]!.n).toBe(1);
    });

    it('reads counts and bigints as numbers', async () => {
      await t.db.knex('uploads').insert({ id: 'u1', entity: 'models', byte_size: 5_000_000_000 });
      const upload = await t.db.knex('uploads').where({ id: 'u1' }).first('byte_size');
      expect(upload.byte_size).toBe(5_000_000_000);
      const [{ n }] = await t.db.knex('models').count({ n: '*' });
      expect(n).toBe(1);
      const [{ total }] = await t.db.knex('risk_tiers').sum({ total: 'lead_days' });
      expect(total).toBe(30);
    });

    it('writes and reads JSON payloads as text', async () => {
      const payload = JSON.stringify({ activeModels: 3, byBucket: { compliant: 2 } });
      await t.db
        .knex('kpi_snapshots')
        .insert({ key: 'global', payload, computed_at: '2026-11-22T00:00:00.000Z', version: 1 });
      const row = await t.db.knex('kpi_snapshots').where({ key: 'global' }).first('payload');
      expect(typeof row.payload).toBe('string');
      expect(JSON.parse(row.payload)).toEqual(JSON.parse(payload));
    });

    it('stores upload chunks as bytes', async () => {
      await t.db.knex('uploads').insert({ id: 'u2', entity: 'validations' });
      const data = Buffer.from([0, 1, 2, 255]);
      await t.db.knex('upload_chunks').insert({ upload_id: 'u2', seq: 0, data });
      const row = await t.db.knex('upload_chunks').where({ upload_id: 'u2' }).first('data');
      expect(Buffer.compare(row.data, data)).toBe(0);
    });

    it('refuses values outside the enums', async () => {
      const err = toDbError(
        await t.db
          .knex('models')
          .update({ status: 'archived' })
          .catch((e) => e),
      );
      expect(err).toBeInstanceOf(ConflictError);
      expect(err).toMatchObject({ kind: 'check', constraint: 'models_status_check' });
    });

    if (kind === 'sqlite') {
      it('sets the pragmas on its connection', async () => {
        const pragma = async (name: string) => Object.values((await t.db.knex.raw(`PRAGMA ${name}`))[0])[0];
        expect(await pragma('journal_mode')).toBe('wal');
        expect(await pragma('busy_timeout')).toBe(5000);
        expect(await pragma('foreign_keys')).toBe(1);
        expect(await pragma('synchronous')).toBe(1); // NORMAL
      });

      it.each([
        ['calendar date not zero-padded', 'attestation_cycles', { opens_on: '2024-1-5' }],
        ['impossible calendar date', 'attestation_cycles', { opens_on: '2023-02-29' }],
        ['instant without milliseconds', 'models', { updated_at: '2026-11-22T07:35:21Z' }],
        ['instant as epoch milliseconds', 'models', { updated_at: 1_790_000_000_000 }],
        ['instant with an offset', 'models', { updated_at: '2026-11-22T08:35:21.123+01:00' }],
        ['invalid JSON', 'kpi_snapshots', { payload: '{not json' }],
      ])('refuses a non-canonical value: %s', async (_what, table, values) => {
        if (table === 'kpi_snapshots') {
          await t.db.knex(table).insert({ key: 'k', payload: '{}', computed_at: '2026-11-22T00:00:00.000Z' });
        }
        const err = toDbError(
          await t.db
            .knex(table)
            .update(values)
            .catch((e) => e),
        );
        expect(err).toMatchObject({ name: 'ConflictError', kind: 'check' });
        expect((err as ConflictError).constraint).toMatch(/_format_check$/);
      });

      it('creates the folder of its file', async () => {
        const dir = join(tmpdir(), 'offload-test', `nested-${process.pid}-${Date.now()}`);
        const db = createDb({ databaseUrl: `sqlite:${join(dir, 'a', 'b.db')}` });
        try {
          await db.knex.raw('select 1');
          expect(existsSync(join(dir, 'a', 'b.db'))).toBe(true);
        } finally {
          await db.destroy();
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }

    if (kind === 'postgres') {
      it('parses timestamps without a zone as UTC and keeps infinity', async () => {
        const { rows } = await t.db.knex.raw(
          `SELECT '2026-01-02 03:04:05.678'::timestamp AS plain, 'infinity'::timestamptz AS inf,
                  '2026-01-02 04:04:05.678+01'::timestamptz AS zoned, 1.25::numeric AS num`,
        );
        expect(rows[0]).toEqual({
          plain: '2026-01-02T03:04:05.678Z',
          inf: 'infinity',
          zoned: '2026-01-02T03:04:05.678Z',
          num: 1.25,
        });
      });

      it('keeps its type parsers to its own connections', async () => {
        // pg-boss shares the pg module: a plain client must still get pg's own parsing.
        const client = new pg.Client({ connectionString: t.databaseUrl });
        await client.connect();
        try {
          const { rows } = await client.query(`SELECT '2024-01-01'::date AS d, 5::int8 AS n`);
          expect(rows[0].d).toBeInstanceOf(Date);
          expect(rows[0].n).toBe('5');
        } finally {
          await client.end();
        }
      });

      it('sizes its pool by poolMax', async () => {
        const db = createDb({ databaseUrl: t.databaseUrl, poolMax: 3 });
        try {
          expect((db.knex.client as { pool: { max: number } }).pool.max).toBe(3);
        } finally {
          await db.destroy();
        }
      });
    }
  });
}
