// What must hold after many operations from several processes, on both drivers: the maintained
// counters equal COUNT(*) over the jobs after a long random run of every operation that moves
// jobs (from two backends, with a caller's transactions committing and rolling back); and two
// processes inserting the same idempotency keys at once get one job per key.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { ClaimedJob, Job, JobState, QueueBackend } from '../../src/index.ts';
import type { Environment } from './environment.ts';
import { uniqueKind } from './harness.ts';

/** A deterministic PRNG (mulberry32), so that a failing run can be replayed. */
function random(seed: number): () => number {
  let t = seed;
  return () => {
    t = (t + 0x6d2b79f5) | 0;
    let x = Math.imul(t ^ (t >>> 15), 1 | t);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const PG_STATES: Record<string, JobState> = { created: 'queued', retry: 'retrying' };

export function consistencyCases(env: Environment): void {
  /** COUNT(*) per (kind, state) of these kinds, read from the driver's own table. */
  async function tableCounts(kinds: readonly string[]): Promise<Map<string, number>> {
    const list = kinds.map((kind) => `'${kind}'`).join(', ');
    const sqlite = env.ctx.databaseUrl.startsWith('sqlite:');
    const rows = await env.ctx.exec(
      sqlite
        ? `SELECT kind, state, count(*) AS n FROM queue_jobs WHERE kind IN (${list}) GROUP BY kind, state`
        : `SELECT name AS kind, state::text AS state, count(*)::int AS n FROM pgboss.job_common
           WHERE name IN (${list}) GROUP BY 1, 2`,
    );
    return new Map(
      rows.map((r) => [`${r['kind']}/${PG_STATES[r['state'] as string] ?? r['state']}`, Number(r['n'])]),
    );
  }

  async function counted(kinds: readonly string[], now: Date): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const row of await env.a.jobCounts(now)) {
      if (!kinds.includes(row.kind)) continue;
      for (const state of ['queued', 'retrying', 'active', 'completed', 'failed', 'cancelled'] as const) {
        if (row[state] !== 0) counts.set(`${row.kind}/${state}`, row[state]);
      }
    }
    return counts;
  }

  describe('consistency', () => {
    it('keeps the counters equal to COUNT(*) through a random run of every operation', {
      timeout: 120_000,
    }, async () => {
      const { a, b } = env;
      const next = random(20261122);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
      const kinds = [uniqueKind('count-a'), uniqueKind('count-b'), uniqueKind('count-c')];
      let clock = Date.now();
      const now = () => new Date(clock);
      const held: ClaimedJob[] = [];
      const ids: string[] = [];
      const backends: QueueBackend[] = [a, b];

      const operations: Array<[number, () => Promise<unknown>]> = [
        [
          6,
          async () => {
            const batch = Array.from({ length: 1 + Math.floor(next() * 5) }, () => ({
              kind: pick(kinds),
              payload: null,
              priority: Math.floor(next() * 3),
              maxAttempts: 1 + Math.floor(next() * 3),
              leaseSeconds: 1 + Math.floor(next() * 5),
              backoff: { baseMs: 100, maxMs: 2000 },
              runAt: new Date(clock + (next() < 0.2 ? 10_000 : -1000)).toISOString(),
              idempotencyKey: next() < 0.3 ? `key-${Math.floor(next() * 20)}` : undefined,
            }));
            for (const r of await pick(backends).jobInsertMany(batch)) ids.push(r.job.id);
          },
        ],
        [
          2,
          async () => {
            // Through the caller's transaction, committed or rolled back.
            const commit = next() < 0.5;
            const rollback = new Error('rollback');
            try {
              await env.ctx.transaction(async (executor) => {
                const { job } = await a.jobInsert({ kind: pick(kinds), payload: 'tx', executor });
                if (!commit) throw rollback;
                ids.push(job.id);
              });
            } catch (error) {
              if (error !== rollback) throw error;
            }
          },
        ],
        [
          6,
          async () => {
            const claimed = await pick(backends).jobClaim({
              kinds: next() < 0.5 ? kinds : [pick(kinds)],
              limit: 1 + Math.floor(next() * 6),
              workerId: 'w',
              now: now(),
            });
            held.push(...claimed);
          },
        ],
        [
          5,
          async () => {
            const settled = held.splice(0, Math.floor(next() * 4));
            if (settled.length === 0) return;
            if (next() < 0.5) {
              await a.jobCompleteMany!(
                settled.map((c) => ({ id: c.job.id, leaseToken: c.leaseToken, result: 1, now: now() })),
              );
            } else {
              for (const c of settled)
                await b.jobComplete({ id: c.job.id, leaseToken: c.leaseToken, now: now() });
            }
          },
        ],
        [
          3,
          async () => {
            const c = held.shift();
            if (c === undefined) return;
            await a.jobFail({
              id: c.job.id,
              leaseToken: c.leaseToken,
              error: { kind: 'Error', message: 'x' },
              final: next() < 0.2,
              now: now(),
            });
          },
        ],
        [
          1,
          async () => {
            const c = held.shift();
            if (c !== undefined) await b.jobRelease({ id: c.job.id, leaseToken: c.leaseToken, now: now() });
          },
        ],
        [2, async () => ids.length > 0 && (await pick(backends).jobCancel(pick(ids)))],
        [2, async () => ids.length > 0 && (await pick(backends).jobRetry(pick(ids)))],
        [
          2,
          async () => {
            // Time passes: leases expire, retries fall due; the rescuer runs.
            clock += Math.floor(next() * 4000);
            await pick(backends).jobRescueExpired(now());
          },
        ],
        [
          1,
          async () => {
            const cutoff = new Date(clock - Math.floor(next() * 3000));
            await a.jobPrune({ completedBefore: cutoff, failedBefore: cutoff });
          },
        ],
      ];
      const weights = operations.reduce((sum, [weight]) => sum + weight, 0);

      for (let step = 1; step <= 600; step += 1) {
        let roll = next() * weights;
        const [, operation] = operations.find(([weight]) => {
          roll -= weight;
          return roll < 0;
        })!;
        await operation();
        if (step % 50 === 0)
          expect(await counted(kinds, now()), `after step ${step}`).toEqual(await tableCounts(kinds));
      }
      // Every state was visited.
      const states = new Set([...(await tableCounts(kinds)).keys()].map((key) => key.split('/')[1]));
      expect(states.size).toBeGreaterThanOrEqual(5);
    });

    it('gives each key one job when two processes insert the same keys at once', {
      timeout: 120_000,
    }, async () => {
      const kind = uniqueKind('idem-race');
      const keys = 300;
      const index = new URL('../../src/index.ts', import.meta.url).href;
      // Each process inserts every key (in its own order, one at a time and in small batches) and
      // prints what it got back.
      const script = `
        const { createQueueBackend } = await import(${JSON.stringify(index)});
        const [url, kind, keys, seed] = process.argv.slice(1);
        const queue = await createQueueBackend(url);
        await queue.start();
        const order = Array.from({ length: Number(keys) }, (_, i) => i);
        if (seed === '1') order.reverse();
        const out = [];
        for (let i = 0; i < order.length; i += 3) {
          const batch = order.slice(i, i + 3).map((k) => ({ kind, payload: { by: process.pid }, idempotencyKey: 'key-' + k }));
          const results = i % 2 === 0 ? await queue.jobInsertMany(batch) : await Promise.all(batch.map((p) => queue.jobInsert(p)));
          for (const r of results) out.push([r.job.idempotencyKey, r.job.id, r.created]);
        }
        await queue.stop();
        process.stdout.write(JSON.stringify(out));
      `;
      const run = (seed: string) =>
        new Promise<Array<[string, string, boolean]>>((resolve, reject) => {
          const child = spawn(
            process.execPath,
            ['--input-type=module', '-e', script, env.ctx.databaseUrl, kind, String(keys), seed],
            { stdio: ['ignore', 'pipe', 'pipe'] },
          );
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (chunk) => {
            stdout += chunk;
          });
          child.stderr.on('data', (chunk) => {
            stderr += chunk;
          });
          child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout)) : reject(new Error(stderr))));
        });
      const [x, y] = await Promise.all([run('0'), run('1')]);
      const byKey = new Map<string, { ids: Set<string>; created: number }>();
      for (const [key, id, created] of [...x, ...y]) {
        const entry = byKey.get(key) ?? { ids: new Set(), created: 0 };
        entry.ids.add(id);
        if (created) entry.created += 1;
        byKey.set(key, entry);
      }
      expect(byKey.size).toBe(keys);
      for (const [key, entry] of byKey) {
        expect(entry.ids.size, key).toBe(1);
        expect(entry.created, key).toBe(1);
      }
      const jobs: Job[] = [];
      let cursor: string | null = null;
      do {
        const page = await env.a.jobList({ kind, limit: 100, cursor });
        jobs.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor !== null);
      expect(jobs).toHaveLength(keys);
      expect((await env.a.jobCounts()).find((c) => c.kind === kind)?.queued).toBe(keys);
    });
  });
}
