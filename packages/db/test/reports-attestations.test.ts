// Attestation cycle counts on both databases: after a KPI rebuild every cycle's counts equal a
// recount of its records, pages walk newest first (opens_on, then id, descending) without gaps
// or repeats, a page is one query whatever the number of records and never reads a record
// (a record added after the rebuild shows from the next one), and bad page parameters throw
// the typed errors of pagination.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidCursorError, InvalidPageError, onQuery, withQueryStats } from '../src/index.ts';
import {
  type AttestationCycleCounts,
  listAttestationCycleCounts,
  rebuildKpiSnapshots,
} from '../src/reports/index.ts';
import { seedDatabase } from '../src/seed/index.ts';
import { createTestDb, type TestDb, testDatabases } from '../src/testing.ts';

/** Every cycle's counts from its records, one record at a time, newest cycle first. */
async function recount(t: TestDb): Promise<AttestationCycleCounts[]> {
  const { knex } = t.db;
  const cycles = await knex('attestation_cycles').select('id', 'name', 'opens_on', 'closes_on');
  const records = await knex('attestation_records').select('cycle_id', 'status');
  return cycles
    .map((c) => {
      const mine = records.filter((r) => Number(r.cycle_id) === Number(c.id));
      const count = (status: string) => mine.filter((r) => r.status === status).length;
      const total = mine.length;
      return {
        id: Number(c.id),
        name: String(c.name),
        opensOn: String(c.opens_on),
        closesOn: String(c.closes_on),
        total,
        attested: count('attested'),
        pending: count('pending'),
        exception: count('exception'),
        completionPct: total === 0 ? 0 : Math.round((count('attested') / total) * 10_000) / 100,
      };
    })
    .sort((a, b) => (a.opensOn !== b.opensOn ? (a.opensOn < b.opensOn ? 1 : -1) : b.id - a.id));
}

async function allPages(
  t: TestDb,
  limit: number,
): Promise<{ items: AttestationCycleCounts[]; pages: number }> {
  const items: AttestationCycleCounts[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await listAttestationCycleCounts(t.db, { cursor, limit });
    pages += 1;
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return { items, pages };
}

/** Cycles the seed does not make: two without records, two opening the same day. */
async function addCycles(t: TestDb): Promise<void> {
  const { knex } = t.db;
  const ids = await knex('attestation_cycles')
    .insert([
      { name: 'Empty 2024', opens_on: '2024-01-01', closes_on: '2024-02-29' },
      { name: 'Twin A', opens_on: '2023-06-01', closes_on: '2023-07-31' },
      { name: 'Twin B', opens_on: '2023-06-01', closes_on: '2023-07-31' },
      { name: 'Old 2020', opens_on: '2020-03-01', closes_on: '2020-04-30' },
    ])
    .returning('id');
  const models = await knex('models').orderBy('id').limit(7).select('id');
  const [, twinA, twinB] = ids.map((row) => Number(row.id));
  const statuses = ['attested', 'pending', 'exception', 'attested', 'attested', 'pending', 'exception'];
  await knex('attestation_records').insert([
    ...models.map((m, i) => ({ cycle_id: twinA, model_id: m.id, status: statuses[i] })),
    ...models.slice(0, 3).map((m) => ({ cycle_id: twinB, model_id: m.id, status: 'attested' })),
  ]);
}

for (const kind of testDatabases()) {
  describe(`${kind}: attestation cycle counts`, () => {
    let t: TestDb;
    const rebuild = () => rebuildKpiSnapshots(t.db, { asOf: '2026-01-01' });
    beforeAll(async () => {
      t = await createTestDb(kind);
      await seedDatabase(t.db, { models: 60, quiet: true });
      await addCycles(t);
    });
    afterAll(() => t?.destroy());

    it('lists no cycle before the first rebuild', async () => {
      expect(await listAttestationCycleCounts(t.db, {})).toEqual({ items: [], nextCursor: null });
    });

    it('equals a recount of the records, newest cycle first, across pages of 2', async () => {
      await rebuild();
      const expected = await recount(t);
      expect(expected.length).toBe(7);
      expect(expected.filter((c) => c.total === 0).map((c) => c.name)).toEqual(['Empty 2024', 'Old 2020']);
      expect(expected.some((c) => c.attested > 0 && c.pending > 0 && c.exception > 0)).toBe(true);
      const { items, pages } = await allPages(t, 2);
      expect(pages).toBe(4);
      expect(items).toEqual(expected);
      // Twins share opens_on: the larger id comes first.
      const twins = items.filter((c) => c.opensOn === '2023-06-01');
      expect(twins.map((c) => c.name)).toEqual(['Twin B', 'Twin A']);
      expect(twins[0]).toMatchObject({ total: 3, attested: 3, completionPct: 100 });
      expect(twins[1]).toMatchObject({
        total: 7,
        attested: 3,
        pending: 2,
        exception: 2,
        completionPct: 42.86,
      });
      expect(items.find((c) => c.name === 'Empty 2024')).toMatchObject({ total: 0, completionPct: 0 });
    });

    it('serves one page in one query, at 60 and at 2,000 models', async () => {
      const small = await withQueryStats(() => listAttestationCycleCounts(t.db, { limit: 3 }));
      expect(small.stats.count).toBe(1);
      const second = await withQueryStats(() =>
        listAttestationCycleCounts(t.db, { limit: 3, cursor: small.result.nextCursor! }),
      );
      expect(second.stats.count).toBe(1);

      await seedDatabase(t.db, { models: 2_000, quiet: true, reset: true });
      await rebuild();
      const large = await withQueryStats(() => listAttestationCycleCounts(t.db, { limit: 3 }));
      expect(large.stats.count).toBe(1);
      const seeded = large.result.items.reduce((sum, c) => sum + c.total, 0);
      expect(seeded).toBeGreaterThan(10 * small.result.items.reduce((sum, c) => sum + c.total, 0));
      expect(large.result.items).toEqual((await recount(t)).slice(0, 3));
    });

    it('reads the counts of the last rebuild, never the records', async () => {
      await rebuild();
      const [cycle] = (await listAttestationCycleCounts(t.db, { limit: 1 })).items;
      const sql: string[] = [];
      const stop = onQuery((_ms, text) => sql.push(text));
      try {
        const { knex } = t.db;
        const [extra] = await knex('models')
          .whereNotIn('id', knex('attestation_records').where({ cycle_id: cycle!.id }).select('model_id'))
          .orderBy('id')
          .limit(1)
          .select('id');
        await knex('attestation_records').insert({
          cycle_id: cycle!.id,
          model_id: extra.id,
          status: 'attested',
        });
        sql.length = 0;
        // The record is not seen until the next rebuild counts it…
        expect((await listAttestationCycleCounts(t.db, { limit: 1 })).items[0]).toEqual(cycle);
        expect(sql).toHaveLength(1);
        expect(sql[0]).toContain('attestation_cycle_counts');
        expect(sql[0]).not.toContain('attestation_records');
        // …which does.
        await rebuild();
        expect((await listAttestationCycleCounts(t.db, { limit: 1 })).items[0]).toMatchObject({
          id: cycle!.id,
          total: cycle!.total + 1,
          attested: cycle!.attested + 1,
        });
        expect((await listAttestationCycleCounts(t.db, { limit: 100 })).items).toEqual(await recount(t));
      } finally {
        stop();
      }
    });

    it('refuses a limit above 100 and a cursor it did not issue', async () => {
      await expect(listAttestationCycleCounts(t.db, { limit: 101 })).rejects.toBeInstanceOf(InvalidPageError);
      await expect(listAttestationCycleCounts(t.db, { limit: 0 })).rejects.toBeInstanceOf(InvalidPageError);
      const { nextCursor } = await listAttestationCycleCounts(t.db, { limit: 1 });
      // The key's JSON, then a 16-byte tag (cursor-signer.ts): another key under the same tag.
      const bytes = Buffer.from(nextCursor!, 'base64url');
      const tag = bytes.subarray(bytes.length - 16);
      const forged = Buffer.concat([Buffer.from(JSON.stringify(['2099-01-01', 1])), tag]).toString(
        'base64url',
      );
      await expect(listAttestationCycleCounts(t.db, { cursor: forged })).rejects.toBeInstanceOf(
        InvalidCursorError,
      );
      await expect(listAttestationCycleCounts(t.db, { cursor: `x${nextCursor}` })).rejects.toBeInstanceOf(
        InvalidCursorError,
      );
    });
  });
}
