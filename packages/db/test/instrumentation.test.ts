import { setImmediate as tick } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentQueryStats, onQuery, withQueryStats } from '../src/index.ts';
import { createTestDb, type TestDb, testDatabases } from '../src/testing.ts';

for (const kind of testDatabases()) {
  describe(kind, () => {
    let t: TestDb;
    beforeAll(async () => {
      t = await createTestDb(kind);
    });
    afterAll(() => t?.destroy());

    const select = () => t.db.knex('regions').select('id');

    it('counts and times every query issued in the context', async () => {
      const { result, stats } = await withQueryStats(async () => {
        await t.db.knex('regions').insert({ code: 'I1', name: 'one' });
        await select();
        await t.db.knex.raw('select 1');
        await t.db.knex.transaction(async (trx) => {
          await trx('regions').insert({ code: 'I2', name: 'two' });
          await trx('regions').where({ code: 'I2' }).update({ name: 'deux' });
        });
        await t.db.knex('regions').count({ n: '*' });
        return 'done';
      });
      expect(result).toBe('done');
      // BEGIN/COMMIT are not counted: 6 statements the code issued.
      expect(stats.count).toBe(6);
      expect(stats.totalMs).toBeGreaterThan(0);
    });

    it('counts N queries exactly', async () => {
      for (const n of [0, 1, 25]) {
        const { stats } = await withQueryStats(async () => {
          for (let i = 0; i < n; i += 1) await select();
        });
        expect(stats.count).toBe(n);
      }
    });

    it('counts failed queries too', async () => {
      const { stats } = await withQueryStats(async () => {
        await t.db.knex.raw('select * from missing_table').catch(() => {});
        await select();
      });
      expect(stats.count).toBe(2);
    });

    it('exposes the live stats inside, and none outside', async () => {
      expect(currentQueryStats()).toBeUndefined();
      await withQueryStats(async () => {
        await select();
        await select();
        expect(currentQueryStats()?.count).toBe(2);
      });
      await select();
      expect(currentQueryStats()).toBeUndefined();
    });

    it('keeps nested contexts apart', async () => {
      const { result: inner, stats: outer } = await withQueryStats(async () => {
        await select();
        const { stats } = await withQueryStats(async () => {
          await select();
          await select();
          await select();
        });
        await select();
        return stats;
      });
      expect(inner.count).toBe(3);
      expect(outer.count).toBe(2);
    });

    it('keeps parallel contexts apart while they share the pool', async () => {
      const runs = await Promise.all(
        [1, 2, 3, 4, 5, 6].map((n) =>
          withQueryStats(async () => {
            for (let i = 0; i < n; i += 1) {
              await select();
              await tick(); // interleave with the other contexts
            }
            return n;
          }),
        ),
      );
      for (const { result, stats } of runs) expect(stats.count).toBe(result);
    });

    it('calls onQuery listeners for every query, in a context or not', async () => {
      const seen: Array<[number, string]> = [];
      const off = onQuery((ms, sql) => seen.push([ms, sql]));
      try {
        await select();
        await withQueryStats(() => t.db.knex.raw('select 2'));
      } finally {
        off();
      }
      await select();
      expect(seen.map(([, sql]) => sql)).toEqual([expect.stringMatching(/^select .*regions/), 'select 2']);
      expect(seen.every(([ms]) => ms >= 0)).toBe(true);
    });

    it('survives a listener that throws', async () => {
      const off = onQuery(() => {
        throw new Error('metrics down');
      });
      try {
        await expect(select()).resolves.toBeDefined();
      } finally {
        off();
      }
    });
  });
}
