// Fairness (runtime/fairness.ts) on both drivers: the claim's oldest lane takes the ready jobs that
// have waited longest whatever their priority, and a worker fed a stream of another owner's
// high-priority jobs still runs a waiting low-priority job within a bounded number of claims.
import { describe, expect, it } from 'vitest';
import { Worker } from '../../src/index.ts';
import { OLDEST_SHARE } from '../../src/runtime/fairness.ts';
import type { Environment } from './environment.ts';
import { eventually, uniqueKind } from './harness.ts';

export function fairnessCases(env: Environment): void {
  describe('fairness', () => {
    it('claims the longest-waiting jobs in the oldest lane, the rest by priority', async () => {
      const kind = uniqueKind('fair-claim');
      await env.a.jobInsert({ kind, payload: 'old', priority: 0, owner: 'bob' });
      await env.a.jobInsertMany(
        Array.from({ length: 5 }, (_, i) => ({ kind, payload: `hot-${i}`, priority: 10, owner: 'alice' })),
      );
      const payloads = (claimed: Array<{ job: { payload: unknown } }>) =>
        claimed.map((c) => String(c.job.payload));
      const byPriority = payloads(await env.b.jobClaim({ kinds: [kind], limit: 2, workerId: 'w' }));
      expect(byPriority.every((p) => p.startsWith('hot-'))).toBe(true);
      const fair = payloads(
        await env.b.jobClaim({ kinds: [kind, uniqueKind('other')], limit: 2, oldest: 1, workerId: 'w' }),
      );
      expect(fair).toContain('old');
      expect(fair.filter((p) => p.startsWith('hot-'))).toHaveLength(1);
      // Nothing older waits: the lane's share goes by priority.
      const rest = payloads(await env.b.jobClaim({ kinds: [kind], limit: 5, oldest: 2, workerId: 'w' }));
      expect([...byPriority, ...fair, ...rest].sort()).toEqual([
        'hot-0',
        'hot-1',
        'hot-2',
        'hot-3',
        'hot-4',
        'old',
      ]);
    });

    it('runs a waiting low-priority job within a bounded number of claims while high-priority ones keep coming', {
      timeout: 60_000,
    }, async () => {
      const kind = uniqueKind('fair-run');
      const { job: low } = await env.a.jobInsert({ kind, payload: { n: -1 }, priority: 0, owner: 'bob' });
      const high = (n: number) => ({ kind, payload: { n }, priority: 10, owner: 'alice' });
      await env.a.jobInsertMany(Array.from({ length: 3 * OLDEST_SHARE }, (_, i) => high(i)));
      const order: string[] = [];
      let next = 1000;
      const worker = new Worker(env.b, { concurrency: 1, pollIntervalMs: 50 });
      worker.register(kind, async ({ job }) => {
        order.push(job.id);
        // alice keeps sending: there is always a higher-priority job waiting.
        await env.a.jobInsert(high(next++));
        return null;
      });
      await worker.start();
      try {
        await eventually('the low-priority job to run', () => order.includes(low.id), { timeoutMs: 50_000 });
      } finally {
        await worker.stop({ timeoutMs: 0 });
      }
      // Without the lane it would wait for ever; with it, within one share of claims.
      expect(order.indexOf(low.id)).toBeLessThan(OLDEST_SHARE);
    });
  });
}
