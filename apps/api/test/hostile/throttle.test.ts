// Throttle before authentication (docs/security.md): a flood of random keys from one address
// stops costing key lookups after a small burst; it is answered 429 with Retry-After, and the
// keys of other callers (and known keys from the same address) keep working. The budget is
// spent before the lookup, so requests arriving together cannot all pass it.
import { onQuery } from '@offload/db';
import { testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Authentication, Authenticator } from '../../src/auth.ts';
import { RateLimiter } from '../../src/rate-limit.ts';
import { silentLogger, startTestApi, type TestApi } from '../harness.ts';

const BURST = 5;

for (const kind of testDatabases()) {
  describe(`hostile: unknown keys are throttled before any lookup (${kind})`, () => {
    let api: TestApi;
    let flooded: TestApi;
    let key: string;

    beforeAll(async () => {
      const settings = { unknownKeyPerSecond: 0.01, unknownKeyBurst: BURST, keyCacheMs: 600_000 };
      api = await startTestApi(kind, { settings });
      flooded = await startTestApi(kind, { settings });
      key = await api.key('alice', ['read']);
      // Known and recently seen: served from the process's key cache.
      expect((await api.request('GET', '/v1/jobs', { key })).status).toBe(200);
    });
    afterAll(() => Promise.all([api?.close(), flooded?.close()]));

    it('turns 200 random keys into at most a burst of key lookups', async () => {
      let lookups = 0;
      const stop = onQuery((_ms, sql) => {
        if (/api_keys/.test(sql) && /select/i.test(sql)) lookups += 1;
      });
      const statuses: number[] = [];
      try {
        for (let i = 0; i < 200; i += 1) {
          const res = await api.request('GET', '/v1/jobs', { key: `ofk_random-${i}-${Math.random()}` });
          statuses.push(res.status);
          if (res.status === 429) {
            expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
            expect(res.body.type).toBe('urn:offload:problem:rate-limited');
          }
        }
      } finally {
        stop();
      }
      expect(statuses.slice(0, BURST)).toEqual(Array(BURST).fill(401));
      expect(statuses.slice(BURST)).toEqual(Array(200 - BURST).fill(429));
      expect(lookups).toBeLessThanOrEqual(BURST);
      // A key this process knows still works from the same address: it spends no unknown-key budget.
      expect((await api.request('GET', '/v1/jobs', { key })).status).toBe(200);
    });

    it('holds the burst when the random keys arrive all at once', async () => {
      let lookups = 0;
      const stop = onQuery((_ms, sql) => {
        if (/api_keys/.test(sql) && /select/i.test(sql)) lookups += 1;
      });
      let statuses: number[];
      try {
        const responses = await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            flooded.request('GET', '/v1/jobs', { key: `ofk_together-${i}-${Math.random()}` }),
          ),
        );
        statuses = responses.map((res) => res.status);
      } finally {
        stop();
      }
      expect(lookups).toBeLessThanOrEqual(BURST);
      expect(statuses.filter((status) => status === 401)).toHaveLength(BURST);
      expect(statuses.filter((status) => status === 429)).toHaveLength(200 - BURST);
    });

    it('lets many requests with one known key arrive at once, uncached, without spending the budget', async () => {
      const known = await api.key('bob', ['read']);
      const authenticator = new Authenticator({
        db: api.testDb.db,
        logger: silentLogger,
        cacheTtlMs: 0,
        unknownKeys: new RateLimiter({ perSecond: 0.01, burst: 2 }),
      });
      let lookups = 0;
      const stop = onQuery((_ms, sql) => {
        if (/api_keys/.test(sql) && /select/i.test(sql)) lookups += 1;
      });
      let answers: Authentication[];
      try {
        answers = await Promise.all(
          Array.from({ length: 100 }, () => authenticator.authenticate(known, '192.0.2.1')),
        );
      } finally {
        stop();
      }
      // One lookup served them all (a hot key's cache running out costs one query, not a stampede).
      expect(answers.map((answer) => answer !== null && 'owner' in answer && answer.owner)).toEqual(
        Array(100).fill('bob'),
      );
      expect(lookups).toBe(1);
      // The budget is whole again: two unknown keys are still looked up, the third is refused.
      expect(await authenticator.authenticate('ofk_nope-1', '192.0.2.1')).toBeNull();
      expect(await authenticator.authenticate('ofk_nope-2', '192.0.2.1')).toBeNull();
      expect(await authenticator.authenticate('ofk_nope-3', '192.0.2.1')).toHaveProperty(
        'throttledForSeconds',
      );
    });
  });
}
