// The README's example files (examples/models.csv, examples/validations.csv) import cleanly on
// both databases, into the demo inventory's region, team and tier codes: no row rejected.
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { seedDatabase } from '@offload/db/seed';
import { createTestDb, type TestDb, testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importCsv } from '../src/import.ts';

const example = (name: string) => fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url));

for (const kind of testDatabases()) {
  describe(`the example CSVs (${kind})`, () => {
    let t: TestDb;

    beforeAll(async () => {
      t = await createTestDb(kind);
      await seedDatabase(t.db, { models: 5, quiet: true });
    });
    afterAll(() => t?.destroy());

    it('imports examples/models.csv, then examples/validations.csv, rejecting nothing', async () => {
      const models = await importCsv(t.db, {
        entity: 'models',
        source: createReadStream(example('models.csv')),
      });
      expect(models).toMatchObject({ read: 8, inserted: 8, rejected: 0, errors: [] });
      const validations = await importCsv(t.db, {
        entity: 'validations',
        source: createReadStream(example('validations.csv')),
      });
      expect(validations).toMatchObject({ read: 9, rejected: 0, errors: [] });
    });
  });
}
