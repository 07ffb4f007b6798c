// Idempotency-Key claims on both databases: the first fingerprint holds the key, the claim
// records its job for replays, expired claims are taken over (job forgotten) and purged, and
// concurrent claims agree on one holder.
import { createTestDb, type TestDb, testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyKeys } from '../src/idempotency.ts';

const HOUR = 60 * 60 * 1000;

for (const kind of testDatabases()) {
  describe(`IdempotencyKeys (${kind})`, () => {
    let t: TestDb;
    let keys: IdempotencyKeys;

    beforeAll(async () => {
      t = await createTestDb(kind);
      keys = new IdempotencyKeys(t.db, 24 * HOUR);
    });
    afterAll(async () => {
      await t?.destroy();
    });

    it('lets the first fingerprint hold a key and reports it to later ones', async () => {
      const now = new Date('2026-12-04T10:00:00.000Z');
      expect(await keys.claim('alice', 'k1', 'fp-a', now)).toEqual({ fingerprint: 'fp-a', jobId: null });
      expect(await keys.claim('alice', 'k1', 'fp-a', now)).toEqual({ fingerprint: 'fp-a', jobId: null });
      expect((await keys.claim('alice', 'k1', 'fp-b', now)).fingerprint).toBe('fp-a');
      // Another owner's key of the same name is another key.
      expect((await keys.claim('bob', 'k1', 'fp-b', now)).fingerprint).toBe('fp-b');
    });

    it('records the job a claim sent, for its owner only, and forgets it when the claim expires', async () => {
      const now = new Date('2026-12-04T12:00:00.000Z');
      expect(await keys.find('erin', 'k2', now)).toBeNull();
      await keys.claim('erin', 'k2', 'fp-a', now);
      expect(await keys.find('erin', 'k2', now)).toEqual({ fingerprint: 'fp-a', jobId: null });
      // Another fingerprint cannot record its job on the claim; the holder can, once.
      await keys.recordJob('erin', 'k2', 'fp-b', 'job-b');
      await keys.recordJob('erin', 'k2', 'fp-a', 'job-a');
      await keys.recordJob('erin', 'k2', 'fp-a', 'job-later');
      expect(await keys.find('erin', 'k2', now)).toEqual({ fingerprint: 'fp-a', jobId: 'job-a' });
      expect(await keys.claim('erin', 'k2', 'fp-a', now)).toEqual({ fingerprint: 'fp-a', jobId: 'job-a' });
      expect(await keys.find('frank', 'k2', now)).toBeNull();
      expect(await keys.claim('frank', 'k2', 'fp-a', now)).toEqual({ fingerprint: 'fp-a', jobId: null });

      const dayLater = new Date(now.getTime() + 24 * HOUR + 1);
      expect(await keys.find('erin', 'k2', dayLater)).toBeNull();
      expect(await keys.claim('erin', 'k2', 'fp-a', dayLater)).toEqual({ fingerprint: 'fp-a', jobId: null });
    });

    it('hands an expired key to the next request and purges expired claims', async () => {
      const first = new Date('2026-12-01T10:00:00.000Z');
      expect((await keys.claim('carol', 'old', 'fp-1', first)).fingerprint).toBe('fp-1');
      expect((await keys.claim('carol', 'gone', 'fp-1', first)).fingerprint).toBe('fp-1');
      const dayLater = new Date(first.getTime() + 24 * HOUR + 1);
      expect((await keys.claim('carol', 'old', 'fp-2', dayLater)).fingerprint).toBe('fp-2');
      expect(await keys.purgeExpired(dayLater)).toBeGreaterThanOrEqual(1);
      const left = await t.db.knex('idempotency_keys').where({ owner: 'carol' }).select('key', 'fingerprint');
      expect(left).toEqual([{ key: 'old', fingerprint: 'fp-2' }]);
    });

    it('gives concurrent claims of one key a single holder', async () => {
      const now = new Date('2026-12-04T11:00:00.000Z');
      const held = await Promise.all(
        Array.from({ length: 8 }, (_, i) => keys.claim('dave', 'race', `fp-${i}`, now)),
      );
      expect(new Set(held.map((claim) => claim.fingerprint)).size).toBe(1);
    });
  });
}
