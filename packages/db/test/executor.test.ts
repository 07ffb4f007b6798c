import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlExecutor } from '../src/index.ts';
import { createTestDb, type TestDb, testDatabases } from '../src/testing.ts';

for (const kind of testDatabases()) {
  describe(kind, () => {
    let t: TestDb;
    beforeAll(async () => {
      t = await createTestDb(kind);
    });
    afterAll(() => t?.destroy());

    const p = (n: number) => (kind === 'postgres' ? `$${n}` : '?');

    it('runs SQL with the dialect’s placeholders and returns rows', async () => {
      const exec = sqlExecutor(t.db.knex, t.db.dialect);
      expect(exec.dialect).toBe(kind);
      const inserted = await exec.query(
        `INSERT INTO regions (code, name) VALUES (${p(1)}, ${p(2)}) RETURNING id, code`,
        ['X1', 'Ex'],
      );
      expect(inserted.rows).toEqual([{ id: expect.any(Number), code: 'X1' }]);
      const updated = await exec.query(`UPDATE regions SET name = ${p(1)} WHERE code = ${p(2)}`, [
        'Ex2',
        'X1',
      ]);
      expect(updated.rows).toEqual([]);
      const read = await exec.query(`SELECT name FROM regions WHERE code = ${p(1)}`, ['X1']);
      expect(read.rows).toEqual([{ name: 'Ex2' }]);
    });

    it('writes inside the caller’s transaction, and rolls back with it', async () => {
      await t.db.knex
        .transaction(async (trx) => {
          await sqlExecutor(trx, t.db.dialect).query(
            `INSERT INTO regions (code, name) VALUES (${p(1)}, ${p(2)})`,
            ['TX', 'in trx'],
          );
          expect(await trx('regions').where({ code: 'TX' }).first()).toBeDefined();
          throw new Error('roll back');
        })
        .catch(() => {});
      expect(await t.db.knex('regions').where({ code: 'TX' }).first()).toBeUndefined();
    });

    if (kind === 'postgres') {
      it('maps reordered and repeated $n placeholders, and leaves ? operators alone', async () => {
        const exec = sqlExecutor(t.db.knex, 'postgres');
        const { rows } = await exec.query(
          `SELECT $2::text AS b, $1::text AS a, $2::text AS b2, '{"k":1}'::jsonb ? 'k' AS has_k`,
          ['first', 'second'],
        );
        expect(rows).toEqual([{ b: 'second', a: 'first', b2: 'second', has_k: true }]);
        await expect(exec.query('SELECT $2::text', ['only one'])).rejects.toThrow(RangeError);
      });
    }
  });
}
