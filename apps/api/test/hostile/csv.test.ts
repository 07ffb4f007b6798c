// Bytes no database can hold, in a CSV (docs/security.md): a NUL in any field of an uploaded file
// is a line-numbered rejection on both databases; every other row lands, in one pass, and the
// job's result names no SQL.
import { seedDatabase } from '@offload/db/seed';
import { testDatabases } from '@offload/db/testing';
import { importCsv } from '@offload/imports';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../harness.ts';

const HEADER = 'external_id,name,region,team,risk_tier,owner_email,status';
const row = (i: number, name = `Model ${i}`) => `H-${i},${name},NAM,NAM-CRD,tier1,owner@example.com,active`;

for (const kind of testDatabases()) {
  describe(`hostile CSV (${kind})`, () => {
    let api: TestApi;
    let key: string;

    beforeAll(async () => {
      api = await startTestApi(kind);
      await seedDatabase(api.testDb.db, { models: 1, quiet: true });
      key = await api.key('mallory', ['submit', 'read']);
    });
    afterAll(() => api?.close());

    it('rejects the row holding a NUL by its line and imports the 1,300 others', async () => {
      const lines = [HEADER];
      for (let i = 1; i <= 1301; i += 1) lines.push(i === 1100 ? row(i, 'Nul\u0000Name') : row(i));
      lines[700] = `H-699,Model 699,NAM,NAM-CRD,tier1,own\u0000er@example.com,active`;
      const uploaded = await api.request('POST', '/v1/imports?entity=models', {
        key,
        raw: lines.join('\n'),
        headers: { 'content-type': 'text/csv' },
      });
      expect(uploaded.status).toBe(202);
      const result = await importCsv(api.testDb.db, {
        entity: 'models',
        source: api.services.uploads.open(uploaded.body.payload.uploadId),
      });
      expect(result).toMatchObject({ read: 1301, inserted: 1299, rejected: 2 });
      expect(result.errors).toEqual([
        { line: 701, reason: 'owner_email holds the NUL character (U+0000), which cannot be stored' },
        { line: 1101, reason: 'name holds the NUL character (U+0000), which cannot be stored' },
      ]);
      const [stored] = await api.testDb.db
        .knex('models')
        .where('external_id', 'like', 'H-%')
        .count({ n: '*' });
      expect(Number(stored!.n)).toBe(1299);
    });
  });
}
