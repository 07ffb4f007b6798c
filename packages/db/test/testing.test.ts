import { existsSync } from 'node:fs';
import { parseDatabaseUrl } from '@offload/config';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { adminUrl } from '../src/test-templates.ts';
import { createEmptyPgDatabase, createTestDb, testDatabases } from '../src/testing.ts';

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  } finally {
    await client.end();
  }
}

function databaseName(url: string): string {
  return new URL(url).pathname.slice(1);
}

it('always runs SQLite, and PostgreSQL when reachable', () => {
  expect(testDatabases()[0]).toBe('sqlite');
});

for (const kind of testDatabases()) {
  describe(kind, () => {
    it('gives each caller its own migrated database', async () => {
      const [a, b] = await Promise.all([createTestDb(kind), createTestDb(kind)]);
      try {
        expect(a.databaseUrl).not.toBe(b.databaseUrl);
        await a.db.knex('regions').insert({ code: 'ONLY_A', name: 'a' });
        expect(await a.db.knex('regions').where({ code: 'ONLY_A' }).first()).toBeDefined();
        expect(await b.db.knex('regions').where({ code: 'ONLY_A' }).first()).toBeUndefined();
      } finally {
        await Promise.all([a.destroy(), b.destroy()]);
      }
    });

    it('gives an empty database with migrate: false', async () => {
      const t = await createTestDb(kind, { migrate: false });
      try {
        const tables =
          kind === 'sqlite'
            ? await t.db.knex('sqlite_master').where('type', 'table')
            : await t.db.knex('pg_tables').where('schemaname', 'public');
        expect(tables).toEqual([]);
      } finally {
        await t.destroy();
      }
    });

    it('deletes the database on destroy', async () => {
      const t = await createTestDb(kind);
      await t.db.knex('regions').count();
      await t.destroy();
      if (kind === 'sqlite') {
        const target = parseDatabaseUrl(t.databaseUrl);
        expect(target.kind === 'sqlite' && existsSync(target.path)).toBe(false);
      } else {
        expect(await databaseExists(databaseName(t.databaseUrl))).toBe(false);
      }
    });

    if (kind === 'postgres') {
      it('creates and drops a blank database for suites with their own schemas', async () => {
        const blank = await createEmptyPgDatabase();
        expect(await databaseExists(blank.name)).toBe(true);
        const client = new pg.Client({ connectionString: blank.databaseUrl });
        client.on('error', () => {}); // it is about to be disconnected by the drop
        await client.connect();
        const { rowCount } = await client.query(`SELECT 1 FROM pg_tables WHERE schemaname = 'public'`);
        expect(rowCount).toBe(0);
        // Left connected, as a crashed suite would: destroy still drops it.
        await blank.destroy();
        await client.end().catch(() => {});
        expect(await databaseExists(blank.name)).toBe(false);
      });
    }
  });
}
