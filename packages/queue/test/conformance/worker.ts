// The shared runtime (Worker, Queue) on the backend under test: handlers, retries, progress,
// cancellation, heartbeats, lost leases, graceful stop, wake-ups and per-kind concurrency.
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  type AbortReason,
  JobAbortedError,
  type JobEvent,
  type Json,
  type LeaseParams,
  Queue,
  type Refused,
  type Transition,
  UnrecoverableError,
  Worker,
  type WorkerOptions,
} from '../../src/index.ts';
import type { Environment } from './environment.ts';
import { eventually, getJob, later, refused, uniqueKind } from './harness.ts';

export function workerCases(env: Environment): void {
  const workers: Worker[] = [];
  function worker(options: WorkerOptions = {}, backend = env.b): Worker {
    const created = new Worker(backend, { pollIntervalMs: 100, shutdownTimeoutMs: 2000, ...options });
    workers.push(created);
    return created;
  }
  async function stopAll(): Promise<void> {
    await Promise.all(workers.splice(0).map((w) => w.stop({ timeoutMs: 0 })));
  }

  describe('worker', () => {
    it('runs handlers within its concurrency and stores their results', async () => {
      const kind = uniqueKind('run');
      let running = 0;
      let peak = 0;
      const completed: string[] = [];
      const w = worker({ concurrency: 4 }).register<{ i: number }>(kind, async ({ job }) => {
        running += 1;
        peak = Math.max(peak, running);
        await delay(5);
        running -= 1;
        return { double: job.payload.i * 2 };
      });
      w.on('completed', ({ job }) => completed.push(job.id));
      try {
        await w.start();
        const queue = new Queue(env.a);
        const sent = await queue.sendMany(Array.from({ length: 20 }, (_, i) => ({ kind, payload: { i } })));
        await eventually('20 completions', () => completed.length === 20);
        expect(peak).toBeLessThanOrEqual(4);
        expect(new Set(completed)).toEqual(new Set(sent.map((r) => r.job.id)));
        for (const { job } of sent) {
          expect(await getJob(env.a, job.id)).toMatchObject({
            state: 'completed',
            attempts: 1,
            result: { double: (job.payload as { i: number }).i * 2 },
          });
        }
      } finally {
        await stopAll();
      }
    });

    it('retries a throwing handler with backoff, then fails the job with the error as data', async () => {
      const kind = uniqueKind('throws');
      const failures: boolean[] = [];
      const w = worker().register(kind, () => {
        throw new TypeError('nope');
      });
      w.on('failed', ({ final }) => failures.push(final));
      try {
        await w.start();
        const { job } = await env.a.jobInsert({
          kind,
          payload: {},
          maxAttempts: 2,
          backoff: { baseMs: 10, maxMs: 10 },
        });
        // The worker emits 'failed' after the database says so: wait for both.
        const failed = await eventually('the job to fail', async () => {
          const current = await getJob(env.a, job.id);
          return current.state === 'failed' && failures.length === 2 && current;
        });
        expect(failed).toMatchObject({ attempts: 2, error: { kind: 'TypeError', message: 'nope' } });
        expect(failed.error!.stack).toContain('nope');
        expect(failures).toEqual([false, true]);
      } finally {
        await stopAll();
      }
    });

    it('reports a backend that answers a batch of completions short, saying so', async () => {
      if (env.b.jobCompleteMany === undefined) return;
      const kind = uniqueKind('short-answer');
      const short = new Proxy(env.b, {
        get(target, property) {
          if (property === 'jobCompleteMany') return async () => [];
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const errors: unknown[] = [];
      const w = worker({}, short).register(kind, async () => 'done');
      w.on('error', ({ error }) => errors.push(error));
      try {
        await w.start();
        await env.a.jobInsert({ kind, payload: {} });
        const error = await eventually('the worker to report the short answer', () => errors[0]);
        expect(String(error)).toMatch(/jobCompleteMany answered 0 outcomes for 1 attempt/);
      } finally {
        await stopAll();
      }
    });

    it('fails at once on an UnrecoverableError', async () => {
      const kind = uniqueKind('unrecoverable');
      const w = worker().register(kind, () => {
        throw new UnrecoverableError('bad payload');
      });
      try {
        await w.start();
        const { job } = await env.a.jobInsert({ kind, payload: {}, maxAttempts: 5 });
        const failed = await eventually('the job to fail', async () => {
          const current = await getJob(env.a, job.id);
          return current.state === 'failed' && current;
        });
        expect(failed).toMatchObject({
          attempts: 1,
          error: { kind: 'UnrecoverableError', message: 'bad payload' },
        });
      } finally {
        await stopAll();
      }
    });

    it('publishes progress to subscribers of the job', async () => {
      const kind = uniqueKind('progress');
      const queue = new Queue(env.a);
      const w = worker().register(kind, async ({ progress }) => {
        await progress({ done: 1, total: 2 });
        await progress({ done: 2, total: 2 });
        return 'ok';
      });
      try {
        const { job } = await queue.send(kind, {});
        await queue.send(kind, {});
        const events: JobEvent[] = [];
        const unsubscribe = await queue.subscribe((event) => events.push(event), { jobId: job.id });
        await w.start();
        await eventually('the completed event', () => events.some((event) => event.state === 'completed'));
        await unsubscribe();
        expect(events.every((event) => event.id === job.id)).toBe(true);
        const progress = events.filter((event) => event.progress !== null).map((event) => event.progress);
        expect(progress).toContainEqual({ done: 1, total: 2 });
        expect(progress).toContainEqual({ done: 2, total: 2 });
        expect(await getJob(env.a, job.id)).toMatchObject({
          state: 'completed',
          progress: { done: 2, total: 2 },
        });
      } finally {
        await stopAll();
      }
    });

    it("aborts a running handler's signal when its job is cancelled", async () => {
      const kind = uniqueKind('cancel-running');
      let started!: () => void;
      const running = new Promise<void>((resolve) => {
        started = resolve;
      });
      let reason: unknown;
      const aborted: AbortReason[] = [];
      const w = worker().register(kind, async ({ signal }) => {
        started();
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        reason = signal.reason;
        throw signal.reason;
      });
      const found: Array<Refused | undefined> = [];
      w.on('aborted', (event) => {
        aborted.push(event.reason);
        found.push(event.found);
      });
      try {
        await w.start();
        const queue = new Queue(env.a);
        const { job } = await queue.send(kind, {});
        await running;
        await queue.cancel(job.id);
        await eventually('the handler to see the abort', () => reason !== undefined, { timeoutMs: 5000 });
        expect(reason).toBeInstanceOf(JobAbortedError);
        expect((reason as JobAbortedError).reason).toBe('cancelled');
        expect(aborted).toEqual(['cancelled']);
        // Told by the refused heartbeat itself, without reading the job again.
        expect(found).toEqual([refused('cancelled')]);
        await eventually('the worker to let go', () => w.runningCount === 0);
        expect(await getJob(env.a, job.id)).toMatchObject({ state: 'cancelled', attempts: 1, error: null });
      } finally {
        await stopAll();
      }
    });

    it('keeps a job alive with heartbeats while it outlasts its lease', async () => {
      // Not timed: a loaded machine may delay a heartbeat past a 2 s lease, and the rescuer would
      // then rightly take the job. So the rescuer runs right after each heartbeat the worker
      // stored, at an instant the job's first lease had long expired by and a renewed one has not,
      // and the handler ends when enough of them have happened.
      const kind = uniqueKind('long');
      const LEASE_MS = 2000;
      const aborted: string[] = [];
      let claimedAt = 0;
      let renewals = 0;
      let rescues = 0;
      let finish!: () => void;
      const finished = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const heartbeat = async (params: LeaseParams): Promise<Transition> => {
        const stored = await env.b.jobHeartbeat(params);
        const at = Date.now();
        // A lease renewed at about `at` outlives at + LEASE_MS / 2; the first one ended by then.
        if (stored.stored && at > claimedAt + LEASE_MS) {
          rescues += await env.a.jobRescueExpired(new Date(at + LEASE_MS / 2));
          renewals += 1;
          if (renewals === 3) finish();
        }
        return stored;
      };
      const observed = new Proxy(env.b, {
        get(target, property) {
          if (property === 'jobHeartbeat') return heartbeat;
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const w = worker({}, observed).register(kind, async ({ signal }) => {
        claimedAt = Date.now();
        await Promise.race([finished, new Promise((resolve) => signal.addEventListener('abort', resolve))]);
        return 'finished';
      });
      w.on('aborted', ({ job }) => aborted.push(job.id));
      try {
        await w.start();
        const { job } = await env.a.jobInsert({ kind, payload: {}, leaseSeconds: LEASE_MS / 1000 });
        await eventually(
          'the long job to complete',
          async () => (await getJob(env.a, job.id)).state === 'completed',
          {
            timeoutMs: 60_000,
          },
        );
        expect(await getJob(env.a, job.id)).toMatchObject({
          state: 'completed',
          attempts: 1,
          result: 'finished',
        });
        expect(rescues).toBe(0);
        expect(renewals).toBeGreaterThanOrEqual(3);
        expect(aborted).toEqual([]);
      } finally {
        await stopAll();
      }
    });

    it('aborts a handler whose lease was lost, and discards its outcome', async () => {
      const kind = uniqueKind('lease-lost');
      let started!: () => void;
      const running = new Promise<void>((resolve) => {
        started = resolve;
      });
      let reason: unknown;
      const w = worker().register(kind, async ({ signal }) => {
        started();
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        reason = signal.reason;
        return 'too late';
      });
      const found: Array<Refused | undefined> = [];
      w.on('aborted', (event) => found.push(event.found));
      try {
        await w.start();
        const backoff = { baseMs: 3_600_000, maxMs: 3_600_000 };
        const { job } = await env.a.jobInsert({ kind, payload: {}, leaseSeconds: 1, backoff });
        await running;
        // The worker stalled (say, a long GC pause) and the rescuer took the job back.
        await env.a.jobRescueExpired(later(10_000));
        await eventually('the handler to see the abort', () => reason !== undefined, { timeoutMs: 5000 });
        expect((reason as JobAbortedError).reason).toBe('lease-lost');
        expect(found).toEqual([refused('retrying')]);
        await eventually('the worker to let go', () => w.runningCount === 0);
        const after = await getJob(env.a, job.id);
        expect(after).toMatchObject({ state: 'retrying', attempts: 1, result: null });
        expect(after.error).toMatchObject({ kind: 'LeaseExpired' });
      } finally {
        await stopAll();
      }
    });

    it('discards an outcome its write finds cancelled, saying so, without reading the job', async () => {
      const kind = uniqueKind('discarded');
      const started = Promise.withResolvers<void>();
      const finish = Promise.withResolvers<void>();
      let reads = 0;
      // Deaf to job events, so the handler runs on after its job is cancelled; reads counted.
      const deaf = new Proxy(env.b, {
        get(target, property) {
          if (property === 'onJobEvent') return async () => async () => {};
          if (property === 'jobGet') {
            return (id: string) => {
              reads += 1;
              return target.jobGet(id);
            };
          }
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const w = worker({}, deaf).register(kind, async () => {
        started.resolve();
        await finish.promise;
        return 'too late';
      });
      const discarded: Refused[] = [];
      w.on('discarded', (event) => discarded.push(event.found));
      try {
        await w.start();
        const { job } = await env.a.jobInsert({ kind, payload: {}, leaseSeconds: 60 });
        await started.promise;
        await new Queue(env.a).cancel(job.id);
        finish.resolve();
        await eventually('the outcome to be discarded', () => discarded.length === 1, { timeoutMs: 5000 });
        expect(discarded).toEqual([refused('cancelled')]);
        expect(reads).toBe(0);
        expect(await getJob(env.a, job.id)).toMatchObject({ state: 'cancelled', result: null });
      } finally {
        await stopAll();
      }
    });

    it('stops gracefully while busy: finishes what it can, releases the rest, loses nothing', async () => {
      const kind = uniqueKind('graceful');
      const deafDone = Promise.withResolvers<void>();
      const started = new Set<string>();
      const first = worker({ concurrency: 5 }).register<string>(kind, async ({ job, signal }) => {
        started.add(job.id);
        if (job.payload === 'quick') {
          await delay(150);
          return { by: 'first' };
        }
        if (job.payload === 'stuck') {
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
          throw signal.reason;
        }
        // 'deaf' ignores its signal and finishes long after the shutdown released it.
        await delay(3000);
        deafDone.resolve();
        return { by: 'first (late)' };
      });
      const released: string[] = [];
      first.on('released', ({ job }) => released.push(job.id));
      const sent = await env.a.jobInsertMany([
        { kind, payload: 'stuck', priority: 10 },
        { kind, payload: 'stuck', priority: 10 },
        { kind, payload: 'deaf', priority: 10 },
        { kind, payload: 'quick', priority: 5 },
        { kind, payload: 'quick', priority: 5 },
        ...Array.from({ length: 3 }, () => ({ kind, payload: 'queued', priority: 0 })),
      ]);
      const ids = sent.map((r) => r.job.id);
      try {
        await first.start();
        await eventually('five handlers to start', () => started.size === 5);
        await first.stop({ timeoutMs: 1500 });
        expect(first.state).toBe('stopped');
        expect(new Set(released)).toEqual(new Set(ids.slice(0, 3)));
        for (const id of ids.slice(0, 3))
          expect(await getJob(env.a, id)).toMatchObject({ state: 'queued', attempts: 0 });
        for (const id of ids.slice(3, 5)) {
          expect(await getJob(env.a, id)).toMatchObject({ state: 'completed', result: { by: 'first' } });
        }
        for (const id of ids.slice(5))
          expect(await getJob(env.a, id)).toMatchObject({ state: 'queued', attempts: 0 });

        const second = worker({ concurrency: 5 }, env.a).register(kind, () => ({ by: 'second' }));
        await second.start();
        await eventually('every job to complete', async () => {
          const page = await env.a.jobList({ kind, state: 'completed', limit: 100 });
          return page.items.length === ids.length;
        });
        await deafDone.promise;
        await eventually('the first worker to let go', () => first.runningCount === 0);
        for (const id of [...ids.slice(0, 3), ...ids.slice(5)]) {
          expect(await getJob(env.a, id)).toMatchObject({
            state: 'completed',
            attempts: 1,
            result: { by: 'second' },
          });
        }
      } finally {
        await stopAll();
      }
    });

    it('wakes an idle worker at once, without waiting for its poll', async () => {
      const kind = uniqueKind('wake');
      const startedAt = new Map<string, number>();
      const w = worker({ pollIntervalMs: 60_000 }).register(kind, ({ job }) => {
        startedAt.set(job.id, performance.now());
        return null;
      });
      try {
        await w.start();
        const latencies: number[] = [];
        // From another process's backend (A) and from the worker's own (B).
        for (const producer of [env.a, env.b, env.a, env.b]) {
          await delay(20); // let the worker go idle: the wake-up, not the tail of the claim loop, must start it
          const sentAt = performance.now();
          const { job } = await producer.jobInsert({ kind, payload: {} });
          await eventually('the handler to start', () => startedAt.has(job.id), {
            timeoutMs: 3000,
            intervalMs: 5,
          });
          latencies.push(startedAt.get(job.id)! - sentAt);
        }
        expect(Math.max(...latencies)).toBeLessThan(3000);
      } finally {
        await stopAll();
      }
    });

    it('honours per-kind concurrency', async () => {
      const slow = uniqueKind('capped');
      const fast = uniqueKind('uncapped');
      let slowRunning = 0;
      let slowPeak = 0;
      let fastDone = 0;
      const w = worker({ concurrency: 4, kindConcurrency: { [slow]: 1 } })
        .register(slow, async () => {
          slowRunning += 1;
          slowPeak = Math.max(slowPeak, slowRunning);
          await delay(30);
          slowRunning -= 1;
          return null;
        })
        .register(fast, () => {
          fastDone += 1;
          return null;
        });
      try {
        await env.a.jobInsertMany([
          ...Array.from({ length: 4 }, () => ({ kind: slow, payload: {} as Json, priority: 10 })),
          ...Array.from({ length: 6 }, () => ({ kind: fast, payload: {} as Json })),
        ]);
        await w.start();
        // The fast jobs do not wait behind the capped ones.
        await eventually('the fast jobs', () => fastDone === 6);
        await eventually('the capped jobs', async () => {
          const page = await env.a.jobList({ kind: slow, state: 'completed' });
          return page.items.length === 4;
        });
        expect(slowPeak).toBe(1);
      } finally {
        await stopAll();
      }
    });
  });
}
