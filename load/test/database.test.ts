// The database a load run makes for itself, on both backends: created, migrated and seeded
// once, reused when it already has an inventory, and deleted afterwards.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '@offload/config';
import { createDb } from '@offload/db';
import { describe, expect, it } from 'vitest';
import { DATABASE_CHOICES, openLoadDatabase, prepareInventory } from '../src/database.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const { testDatabaseUrl } = loadConfig({ TEST_DATABASE_URL: process.env.TEST_DATABASE_URL });

async function pgDatabaseExists(name: string): Promise<boolean> {
  const admin = new URL(testDatabaseUrl);
  admin.pathname = '/postgres';
  const db = createDb({ databaseUrl: admin.href, poolMax: 1 });
  try {
    const rows = await db.knex('pg_database').where({ datname: name }).select('datname');
    return rows.length === 1;
  } finally {
    await db.destroy();
  }
}

for (const choice of DATABASE_CHOICES) {
  describe(choice, () => {
    it('seeds an empty database once, reuses it, and deletes it afterwards', async () => {
      const database = await openLoadDatabase({ givenUrl: undefined, choice, root, testDatabaseUrl });
      try {
        expect(database.dialect).toBe(choice);
        expect(await prepareInventory(database.url, 30)).toMatchObject({ models: 30, seeded: true });
        // A second run on it (DATABASE_URL given) finds the inventory and leaves it as it is.
        expect(await prepareInventory(database.url, 500)).toEqual({ models: 30, seeded: false, seedMs: 0 });
        const given = await openLoadDatabase({
          givenUrl: database.url,
          choice: 'sqlite',
          root,
          testDatabaseUrl,
        });
        expect(given.url).toBe(database.url);
        await given.dispose(); // a database the run was given is never deleted
        expect(await prepareInventory(database.url, 500)).toMatchObject({ models: 30 });
      } finally {
        await database.dispose();
      }
      if (choice === 'sqlite') {
        expect(existsSync(database.url.slice('sqlite:'.length))).toBe(false);
      } else {
        expect(await pgDatabaseExists(new URL(database.url).pathname.slice(1))).toBe(false);
      }
    });
  });
}
