// Cursors cannot be forged (docs/security.md): without CURSOR_SECRET the secret is random and
// kept in the database, not derived from anything a caller knows; a cursor we did not issue,
// garbled, or signed with a leaked secret but holding values of the wrong type, is a 400 on
// every list, on both databases.
import { deploymentCursorSecret, encodeCursor, setDefaultCursorSecret } from '@offload/db';
import { createTestDb, testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../harness.ts';

const LISTS = ['/v1/jobs', '/v1/models', '/v1/attestation-cycles', '/v1/metric-sources'];

for (const kind of testDatabases()) {
  describe(`hostile cursors (${kind})`, () => {
    let api: TestApi;
    let admin: string;

    beforeAll(async () => {
      api = await startTestApi(kind);
      admin = await api.key('ops', ['admin']);
    });
    afterAll(() => api?.close());

    it('keeps a random cursor secret in the database when CURSOR_SECRET is unset', async () => {
      const first = await deploymentCursorSecret(api.testDb.db);
      expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(first).not.toContain(kind);
      expect(await deploymentCursorSecret(api.testDb.db)).toBe(first);
      const other = await createTestDb(kind);
      try {
        expect(await deploymentCursorSecret(other.db)).not.toBe(first);
      } finally {
        await other.destroy();
      }
      expect(await deploymentCursorSecret(api.testDb.db, 'configured-secret-0123')).toBe(
        'configured-secret-0123',
      );
    });

    it('answers a garbled or foreign cursor with 400 on every list', async () => {
      const forms = [
        'abc',
        'a.b',
        'a.b.c',
        '.',
        '%ff%fe',
        'WyIxIl0.AAAAAAAAAAAAAAAAAAAAAA',
        `${'A'.repeat(500)}.x`,
      ];
      for (const path of LISTS) {
        for (const cursor of forms) {
          const res = await api.request('GET', `${path}?cursor=${encodeURIComponent(cursor)}`, {
            key: admin,
          });
          expect(res.status, `${path} ${cursor}`).toBe(400);
          expect(res.body.errors, `${path} ${cursor}`).toEqual([
            { parameter: 'cursor', detail: expect.any(String) },
          ]);
        }
      }
    });

    it('answers a cursor signed with a leaked secret but holding mistyped values with 400, never 500', async () => {
      const secret = 'leaked-cursor-secret-0123456789';
      setDefaultCursorSecret(secret);
      const forged = [['abc'], [2 ** 40], [-1.5], ['2026-13-45', 1], ['x', 'y'], [1, 2, 3]];
      for (const path of ['/v1/models', '/v1/attestation-cycles', '/v1/metric-sources']) {
        for (const key of forged) {
          const cursor = encodeCursor(key, { secret });
          const res = await api.request('GET', `${path}?cursor=${cursor}`, { key: admin });
          expect(res.status, `${path} ${JSON.stringify(key)}`).toBe(400);
        }
      }
      // A well-typed cursor signed with that secret is one the process would have issued.
      expect(
        (await api.request('GET', `/v1/models?cursor=${encodeCursor([1], { secret })}`, { key: admin }))
          .status,
      ).toBe(200);
    });
  });
}
