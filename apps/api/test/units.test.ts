// Unit tests of the API's in-process parts: the token bucket, the queue statistics (throughput
// from count deltas) and the memo of parsed query strings. The cursor signer's are @offload/db's
// (cursor-signer.test.ts).
import type { KindCounts, Queue } from '@offload/queue';
import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { QueueStats } from '../src/queue-stats.ts';
import { RateLimiter } from '../src/rate-limit.ts';
import { parseQuery } from '../src/validation.ts';

describe('parseQuery', () => {
  const schema = z.strictObject({
    limit: z.coerce.number().int().default(50),
    state: z.array(z.string()).optional(),
  });
  const request = (url: string, query: Record<string, unknown>) => ({ url, query }) as unknown as Request;

  it('answers a query string it parsed before the same, a copy each time', () => {
    const first = parseQuery(
      schema,
      request('/x?limit=5&state=a&state=b', { limit: '5', state: ['a', 'b'] }),
    );
    // The second request's parsed query is not read: the raw text decides.
    const again = parseQuery(schema, request('/x?limit=5&state=a&state=b', {}));
    expect(again).toEqual({ limit: 5, state: ['a', 'b'] });
    expect(again).not.toBe(first);
    again.limit = 7; // a handler's change to its copy reaches no other request
    expect(parseQuery(schema, request('/x?limit=5&state=a&state=b', {})).limit).toBe(5);
    expect(() => again.state?.push('c')).toThrow(TypeError);
    expect(parseQuery(schema, request('/x', {}))).toEqual({ limit: 50 });
  });

  it('never remembers a query string that failed', () => {
    for (let i = 0; i < 2; i += 1) {
      expect(() => parseQuery(schema, request('/x?limit=many', { limit: 'many' }))).toThrow();
    }
    expect(() => parseQuery(schema, request('/x?other=1', { other: '1' }))).toThrow();
  });
});

describe('RateLimiter', () => {
  it('allows a burst, then refills at the sustained rate, per key', () => {
    const limiter = new RateLimiter({ perSecond: 2, burst: 3 });
    const at = 1000;
    expect([1, 2, 3].map(() => limiter.take('a', at).allowed)).toEqual([true, true, true]);
    expect(limiter.take('a', at)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.take('b', at).allowed).toBe(true);
    expect(limiter.take('a', at + 499).allowed).toBe(false);
    expect(limiter.take('a', at + 1000).allowed).toBe(true);
    // Idle for long: full again, never more than the burst.
    const later = at + 60_000;
    expect([1, 2, 3, 4].map(() => limiter.take('a', later).allowed)).toEqual([true, true, true, false]);
  });

  it('says how long to wait when the rate is slow, and is off at 0', () => {
    const slow = new RateLimiter({ perSecond: 0.1, burst: 1 });
    expect(slow.take('k', 0).allowed).toBe(true);
    expect(slow.take('k', 0)).toEqual({ allowed: false, retryAfterSeconds: 10 });
    const off = new RateLimiter({ perSecond: 0, burst: 1 });
    for (let i = 0; i < 100; i += 1) expect(off.take('k', 0).allowed).toBe(true);
  });
});

describe('QueueStats', () => {
  function fakeQueue(counts: () => KindCounts[]) {
    let calls = 0;
    const queue = {
      async counts() {
        calls += 1;
        return counts();
      },
    } as unknown as Queue;
    return { queue, calls: () => calls };
  }
  const row = (completed: number, failed = 0): KindCounts => ({
    kind: 'system.echo',
    queued: 4,
    retrying: 1,
    active: 2,
    completed,
    failed,
    cancelled: 0,
    oldestQueuedAgeSeconds: 12,
    ready: 3,
    scheduled: 2,
    scheduledCapped: false,
  });

  it('lists catalog kinds with zeros and computes depth', async () => {
    const { queue } = fakeQueue(() => [row(10)]);
    const stats = new QueueStats({ queue, kinds: ['system.echo', 'rebuild.kpi'] });
    const snapshot = await stats.snapshot();
    expect(snapshot.kinds).toEqual([
      expect.objectContaining({ kind: 'rebuild.kpi', depth: 0, running: 0, oldestAgeSeconds: null }),
      expect.objectContaining({ kind: 'system.echo', depth: 5, running: 2, oldestAgeSeconds: 12 }),
    ]);
  });

  it('shares one fetch between readers within maxAgeMs', async () => {
    let now = 0;
    const { queue, calls } = fakeQueue(() => [row(1)]);
    const stats = new QueueStats({ queue, kinds: [], maxAgeMs: 1000, now: () => new Date(now) });
    await Promise.all([stats.snapshot(), stats.snapshot(), stats.snapshot()]);
    await stats.snapshot();
    expect(calls()).toBe(1);
    now = 1000;
    await stats.snapshot();
    expect(calls()).toBe(2);
  });

  it('measures completed and failed per minute from count deltas over the window', async () => {
    let now = 0;
    let completed = 100;
    let failed = 0;
    const { queue } = fakeQueue(() => [row(completed, failed)]);
    const stats = new QueueStats({
      queue,
      kinds: [],
      maxAgeMs: 0,
      windowMs: 120_000,
      now: () => new Date(now),
    });
    const first = await stats.snapshot();
    expect(first.kinds[0]!.completedPerMinute).toBeNull();
    now = 30_000;
    completed = 130;
    failed = 3;
    const second = await stats.snapshot();
    expect(second.kinds[0]!.completedPerMinute).toBe(60);
    expect(second.kinds[0]!.failedPerMinute).toBe(6);
    // Past the window the oldest sample is dropped: rates are measured from the one at 30 s.
    now = 150_000;
    completed = 250;
    const third = await stats.snapshot();
    expect(third.kinds[0]!.completedPerMinute).toBe(60);
    // Pruning lowered the count: no rate rather than a negative one.
    now = 160_000;
    completed = 10;
    expect((await stats.snapshot()).kinds[0]!.completedPerMinute).toBeNull();
  });
});
