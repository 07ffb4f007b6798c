// The two-tier cache on both databases: one load per key in flight, TTLs, versions moved by
// another Db handle (as a worker process would) seen by polling on SQLite and by NOTIFY on
// PostgreSQL, and the LISTEN connection coming back after it is killed.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { bumpCacheVersion, createDb, type Db } from '@offload/db';
import { createTestDb, eventually, type TestDb, testDatabases } from '@offload/db/testing';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CACHE_LISTENER_APPLICATION_NAME,
  cacheLookupCounts,
  ReadCache,
  type ReadCacheOptions,
  UnknownCacheFamilyError,
} from '../src/index.ts';

for (const kind of testDatabases()) {
  describe(`ReadCache (${kind})`, () => {
    let t: TestDb;
    /** A second handle on the same database, standing in for the worker process. */
    let other: Db;
    const caches: ReadCache[] = [];

    beforeAll(async () => {
      t = await createTestDb(kind);
      other = createDb({ databaseUrl: t.databaseUrl, poolMax: 2 });
      await t.db.knex.schema.createTable('cache_test_items', (table) => {
        table.text('key').primary();
        table.integer('value').notNullable();
      });
      await t.db.knex('cache_test_items').insert([
        { key: 'a', value: 1 },
        { key: 'b', value: 2 },
      ]);
    });
    afterEach(async () => {
      vi.useRealTimers();
      await Promise.all(caches.splice(0).map((cache) => cache.close()));
    });
    afterAll(async () => {
      await other?.destroy();
      await t?.destroy();
    });

    const cacheOf = (options: Partial<ReadCacheOptions> = {}): ReadCache => {
      const cache = new ReadCache({
        db: t.db,
        families: [
          { name: 'items', ttlSeconds: 60 },
          { name: 'nocache', ttlSeconds: 0 },
        ],
        ...options,
      });
      caches.push(cache);
      return cache;
    };

    /** A loader reading the table, counting its calls. */
    const loader = (key: string, db: () => Db = () => t.db) => {
      const calls = { n: 0 };
      const load = async () => {
        calls.n += 1;
        const row = await db().knex('cache_test_items').where({ key }).first('value');
        return Number(row?.value);
      };
      return { calls, load };
    };

    const setValue = (key: string, value: number) =>
      other.knex('cache_test_items').where({ key }).update({ value });

    /** A rebuild landing in another process: new rows and the version bump in one transaction. */
    const rebuild = (family: string, key: string, value: number) =>
      other.knex.transaction(async (trx) => {
        await trx('cache_test_items').where({ key }).update({ value });
        await bumpCacheVersion(trx, other.dialect, family);
      });

    it('serves concurrent misses of a key with one load, then hits', async () => {
      const cache = cacheOf();
      await cache.start();
      const { calls, load } = loader('a');
      const values = await Promise.all(Array.from({ length: 20 }, () => cache.get('items', 'a', load)));
      expect(values).toEqual(Array(20).fill(1));
      expect(calls.n).toBe(1);
      expect(await cache.get('items', 'a', load)).toBe(1);
      expect(calls.n).toBe(1);
      const stats = cache.stats().families.find((f) => f.family === 'items')!;
      expect(stats).toMatchObject({ hits: 1, misses: 20, loads: 1, keys: 1 });
      expect(stats.hitRate).toBeCloseTo(1 / 21);
    });

    it('counts lookups by result: hit, miss, and stale after a version change', async () => {
      const cache = cacheOf();
      await cache.start();
      const { load } = loader('a');
      await cache.get('items', 'a', load); // miss
      await cache.get('items', 'a', load); // hit
      await cache.invalidate('items');
      await cache.get('items', 'a', load); // stale: its entry was dropped by the new version
      await cache.get('items', 'a', load); // hit
      await cache.get('items', 'b', loader('b').load); // miss
      const counts = cacheLookupCounts(cache.stats()).filter((c) => c.family === 'items');
      expect(counts).toEqual([
        { family: 'items', result: 'hit', count: 2 },
        { family: 'items', result: 'miss', count: 2 },
        { family: 'items', result: 'stale', count: 1 },
      ]);
      expect(cache.stats().families.find((f) => f.family === 'items')).toMatchObject({ misses: 3, stale: 1 });
    });

    it('still counts a read stale when a second drop follows the first before it', async () => {
      // On PostgreSQL our own bump's notification can drop L1 just before invalidate() drops it
      // again; two invalidations in a row make the same sequence on both databases.
      const cache = cacheOf();
      await cache.start();
      const { load } = loader('a');
      await cache.get('items', 'a', load); // miss
      await cache.invalidate('items');
      await cache.invalidate('items');
      await cache.get('items', 'a', load); // stale
      expect(cache.stats().families.find((f) => f.family === 'items')).toMatchObject({ misses: 2, stale: 1 });
    });

    it('does not keep a failed load: the next read loads again', async () => {
      const cache = cacheOf();
      let fail = true;
      const load = async () => {
        if (fail) throw new Error('boom');
        return 7;
      };
      const failures = await Promise.allSettled([
        cache.get('items', 'x', load),
        cache.get('items', 'x', load),
      ]);
      expect(failures.map((f) => f.status)).toEqual(['rejected', 'rejected']);
      fail = false;
      expect(await cache.get('items', 'x', load)).toBe(7);
      expect(cache.stats().families.find((f) => f.family === 'items')).toMatchObject({
        loads: 1,
        loadErrors: 1,
      });
    });

    it('expires entries after the family TTL', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const cache = cacheOf({ versionCheckMs: 3_600_000 });
      await cache.start();
      const { calls, load } = loader('b');
      expect(await cache.get('items', 'b', load)).toBe(2);
      await setValue('b', 20);
      vi.setSystemTime(Date.now() + 59_000);
      expect(await cache.get('items', 'b', load)).toBe(2);
      vi.setSystemTime(Date.now() + 2_000);
      expect(await cache.get('items', 'b', load)).toBe(20);
      expect(calls.n).toBe(2);
      await setValue('b', 2);
    });

    it('keeps nothing in a family with TTL 0, still one load in flight per key', async () => {
      const cache = cacheOf();
      const { calls, load } = loader('a');
      await Promise.all([cache.get('nocache', 'a', load), cache.get('nocache', 'a', load)]);
      expect(calls.n).toBe(1);
      await cache.get('nocache', 'a', load);
      expect(calls.n).toBe(2);
      expect(cache.stats().families.find((f) => f.family === 'nocache')!.keys).toBe(0);
    });

    it('drops a family when a family it depends on moves', async () => {
      const cache = new ReadCache({
        db: t.db,
        families: [
          { name: 'items', ttlSeconds: 60 },
          { name: 'view', ttlSeconds: 60, dependsOn: ['items'] },
        ],
        versionCheckMs: 0,
      });
      caches.push(cache);
      await cache.start();
      const { calls, load } = loader('a');
      await cache.get('view', 'a', load);
      await cache.get('view', 'a', load);
      expect(calls.n).toBe(1);
      await rebuild('items', 'a', 1);
      await eventually('the dependent drop', async () => {
        await cache.get('view', 'a', load);
        return calls.n === 2;
      });
      expect(cache.stats().families.find((f) => f.family === 'view')!.invalidations).toBe(1);
      expect(
        () => new ReadCache({ db: t.db, families: [{ name: 'v', ttlSeconds: 1, dependsOn: ['x'] }] }),
      ).toThrow(RangeError);
    });

    it('refuses an unknown family', async () => {
      const cache = cacheOf();
      await expect(cache.get('nope', 'a', async () => 1)).rejects.toBeInstanceOf(UnknownCacheFamilyError);
      await expect(cache.invalidate('nope')).rejects.toBeInstanceOf(UnknownCacheFamilyError);
    });

    it('sees a version bumped by another handle through a version check (polling)', async () => {
      let now = 1_000_000;
      const cache = cacheOf({ versionCheckMs: 1000, listen: false, now: () => now });
      await cache.start();
      const { calls, load } = loader('a');
      expect(await cache.get('items', 'a', load)).toBe(1);
      await rebuild('items', 'a', 10);
      // Within the check interval the entry is served as it is: the check is throttled.
      now += 500;
      expect(await cache.get('items', 'a', load)).toBe(1);
      now += 500;
      expect(await cache.get('items', 'a', load)).toBe(10);
      expect(calls.n).toBe(2);
      const stats = cache.stats();
      expect(stats.invalidation).toBe('poll');
      expect(stats.families.find((f) => f.family === 'items')).toMatchObject({ invalidations: 1, keys: 1 });
      await setValue('a', 1);
    });

    it('peeks at a fresh entry without loading or counting, else undefined (nothing held, a check due, a new version, TTL 0)', async () => {
      let now = 2_000_000;
      const cache = cacheOf({ versionCheckMs: 1000, listen: false, now: () => now });
      await cache.start();
      const { calls, load } = loader('a');
      expect(cache.peek('items', 'a')).toBeUndefined();
      expect(await cache.get('items', 'a', load)).toBe(1);
      expect(cache.peek('items', 'a')).toBe(1);
      // Counted only when the caller answered with it.
      expect(cache.stats().families.find((f) => f.family === 'items')).toMatchObject({ hits: 0, misses: 1 });
      cache.countHit('items');
      expect(cache.stats().families.find((f) => f.family === 'items')).toMatchObject({ hits: 1, misses: 1 });
      // A version check due: peek leaves it to get.
      now += 1000;
      expect(cache.peek('items', 'a')).toBeUndefined();
      await rebuild('items', 'a', 10);
      expect(await cache.get('items', 'a', load)).toBe(10);
      expect(cache.peek('items', 'a')).toBe(10);
      expect(calls.n).toBe(2);
      await cache.get('nocache', 'a', load);
      expect(cache.peek('nocache', 'a')).toBeUndefined();
      expect(() => cache.peek('nope', 'a')).toThrow(UnknownCacheFamilyError);
      await setValue('a', 1);
    });

    it('sees a rebuild landed by another process', async () => {
      const cache = cacheOf({ versionCheckMs: 0 });
      await cache.start();
      const { calls, load } = loader('b');
      expect(await cache.get('items', 'b', load)).toBe(2);
      const child = spawnSync(
        process.execPath,
        [join(import.meta.dirname, 'fixtures', 'bump-version.ts'), t.databaseUrl, 'items', 'b', '33'],
        { encoding: 'utf8' },
      );
      expect(child.status, child.stderr).toBe(0);
      // On PostgreSQL the notification may take a moment; on SQLite the next read checks.
      await eventually(
        'the other process’s rebuild',
        async () => (await cache.get('items', 'b', load)) === 33,
      );
      expect(calls.n).toBe(2);
      await setValue('b', 2);
    });

    it('drops a family in every instance on invalidate()', async () => {
      const a = cacheOf({ versionCheckMs: 0 });
      const b = new ReadCache({
        db: other,
        families: [{ name: 'items', ttlSeconds: 60 }],
        versionCheckMs: 0,
      });
      caches.push(b);
      await Promise.all([a.start(), b.start()]);
      const first = loader('b');
      const second = loader('b', () => other);
      expect(await a.get('items', 'b', first.load)).toBe(2);
      expect(await b.get('items', 'b', second.load)).toBe(2);
      const before = a.stats().families.find((f) => f.family === 'items')!.version;
      const bumped = await a.invalidate('items');
      expect(bumped.items).toBe(before + 1);
      // The invalidating instance drops at once; the other on its next version check (SQLite)
      // or when the notification arrives (PostgreSQL).
      await a.get('items', 'b', first.load);
      expect(first.calls.n).toBe(2);
      await eventually('the other instance', async () => {
        await b.get('items', 'b', second.load);
        return second.calls.n === 2;
      });
      const all = await a.invalidate();
      expect(Object.keys(all).sort()).toEqual(['items', 'nocache']);
    });

    if (kind === 'postgres') {
      it('drops entries in another cache instance on its invalidate(), by NOTIFY alone', async () => {
        const a = cacheOf({ versionCheckMs: 3_600_000 });
        const b = new ReadCache({
          db: other,
          families: [{ name: 'items', ttlSeconds: 60 }],
          versionCheckMs: 3_600_000,
        });
        caches.push(b);
        await Promise.all([a.start(), b.start()]);
        const { calls, load } = loader('a');
        await a.get('items', 'a', load);
        await a.get('items', 'a', load);
        expect(calls.n).toBe(1);
        await b.invalidate('items');
        await eventually('the notification', async () => {
          await a.get('items', 'a', load);
          return calls.n === 2;
        });
        expect(a.stats().families[0]!.invalidations).toBe(1);
      });

      it('drops entries in another instance on NOTIFY, without polling', async () => {
        // A version check interval of an hour: only the notification can tell this cache.
        const cache = cacheOf({ versionCheckMs: 3_600_000 });
        await cache.start();
        expect(cache.stats().invalidation).toBe('listen');
        const { calls, load } = loader('a');
        expect(await cache.get('items', 'a', load)).toBe(1);
        await rebuild('items', 'a', 11);
        await eventually(
          'the notification',
          () => cache.stats().families.find((f) => f.family === 'items')!.invalidations === 1,
        );
        expect(await cache.get('items', 'a', load)).toBe(11);
        expect(calls.n).toBe(2);
        await setValue('a', 1);
      });

      it('reconnects its LISTEN connection after losing it, and catches up on missed bumps', async () => {
        const cache = cacheOf({ versionCheckMs: 3_600_000 });
        await cache.start();
        const { calls, load } = loader('b');
        expect(await cache.get('items', 'b', load)).toBe(2);
        const admin = new pg.Client({ connectionString: t.databaseUrl });
        await admin.connect();
        try {
          const { rows } = await admin.query(
            `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
              WHERE datname = current_database() AND application_name = $1`,
            [CACHE_LISTENER_APPLICATION_NAME],
          );
          expect(rows.length).toBeGreaterThanOrEqual(1);
        } finally {
          await admin.end();
        }
        // Bumped while nobody may be listening: the reconnect must re-read the versions.
        await rebuild('items', 'b', 22);
        await eventually('the reconnect', () => cache.stats().listenerReconnects >= 1);
        await eventually('the missed bump', () => cache.stats().families[0]!.invalidations >= 1);
        expect(cache.stats().invalidation).toBe('listen');
        expect(await cache.get('items', 'b', load)).toBe(22);
        expect(calls.n).toBe(2);
        // And it listens again: a later bump arrives by notification.
        await rebuild('items', 'b', 2);
        await eventually(
          'a notification after the reconnect',
          async () => (await cache.get('items', 'b', load)) === 2,
        );
      });
    }
  });
}
