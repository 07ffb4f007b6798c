// The real thing: worker processes (test/fixtures/worker-process.ts) on one database, killed
// with SIGKILL, draining a queue together, firing cron. These cases run concurrently with
// each other (each waits on other processes, rarely on the CPU), on a database of their own.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { QueueBackend } from '../../src/index.ts';
import { type ConformanceContext, type ConformanceFactory, getJob, uniqueKind } from './harness.ts';

const FIXTURE = join(import.meta.dirname, '../fixtures/worker-process.ts');
const DRAIN_JOBS = Number(process.env.QUEUE_CONFORMANCE_DRAIN_JOBS ?? 10_000);
const DRAIN_PROCESSES = 4;

/** One worker process and what it printed. */
export class WorkerProcess {
  readonly child: ChildProcess;
  readonly starts = new Map<string, number>();
  readonly dones = new Map<string, number>();
  /** Completions per kind. */
  readonly donesByKind = new Map<string, number>();
  readonly exited: Promise<number | null>;
  #waiters: Array<{ match: (line: string) => boolean; resolve: () => void }> = [];
  #stderr = '';

  private constructor(child: ChildProcess) {
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      this.#stderr = (this.#stderr + text).slice(-4000);
    });
    createInterface({ input: child.stdout! }).on('line', (line) => this.#line(line));
  }

  static async spawn(
    databaseUrl: string,
    kinds: readonly string[],
    concurrency: number,
  ): Promise<WorkerProcess> {
    const child = spawn(process.execPath, [FIXTURE, databaseUrl, kinds.join(','), String(concurrency)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const worker = new WorkerProcess(child);
    const ready = worker.waitForLine((line) => line === 'ready', 30_000);
    const exitedEarly = worker.exited.then((code) => {
      throw new Error(`worker process exited (${code}) before ready: ${worker.#stderr}`);
    });
    await Promise.race([ready, exitedEarly]);
    return worker;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Asks the process to run one cron pass at `now` (the injected clock); resolves when it did. */
  async fireSchedules(now: Date): Promise<void> {
    const done = this.waitForLine((line) => line === `fired ${now.toISOString()}`, 60_000);
    this.child.stdin!.write(`fire ${now.toISOString()}\n`);
    await done;
  }

  #line(line: string): void {
    const [verb, id, ...rest] = line.split(' ');
    if (verb === 'start' && id !== undefined) this.starts.set(id, (this.starts.get(id) ?? 0) + 1);
    if (verb === 'done' && id !== undefined) {
      this.dones.set(id, (this.dones.get(id) ?? 0) + 1);
      const kind = rest[0] ?? '';
      this.donesByKind.set(kind, (this.donesByKind.get(kind) ?? 0) + 1);
    }
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.match(line)) return true;
      waiter.resolve();
      return false;
    });
    WorkerProcess.onAnyLine?.();
  }

  /** Called after every line of every process (the drain counts completions with it). */
  static onAnyLine: (() => void) | undefined;

  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`no matching line from worker ${this.pid} within ${timeoutMs} ms: ${this.#stderr}`),
          ),
        timeoutMs,
      );
      this.#waiters.push({
        match,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Graceful stop (SIGTERM), then SIGKILL if it takes too long. */
  async terminate(): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

export function countOf(processes: readonly WorkerProcess[], field: 'starts' | 'dones', id: string): number {
  return processes.reduce((sum, p) => sum + (p[field].get(id) ?? 0), 0);
}

export function processCases(factory: ConformanceFactory): void {
  describe.concurrent('worker processes', () => {
    let ctx: ConformanceContext;
    let backend: QueueBackend;
    const drainKind = uniqueKind('drain');
    const cronKind = uniqueKind('cron');
    const pool: WorkerProcess[] = [];
    const spawned: WorkerProcess[] = [];

    beforeAll(async () => {
      ctx = await factory();
      backend = await ctx.createBackend();
      await backend.start({ maintenance: false });
      // Four processes share the drain and the cron kinds; each starts its own maintenance.
      pool.push(
        ...(await Promise.all(
          Array.from({ length: DRAIN_PROCESSES }, () =>
            WorkerProcess.spawn(ctx.databaseUrl, [drainKind, cronKind], 25),
          ),
        )),
      );
      spawned.push(...pool);
    });

    afterAll(async () => {
      await Promise.all(spawned.map((p) => p.terminate()));
      await backend?.stop();
      await ctx?.destroy();
    });

    it('runs again, once, a job whose worker process was killed with SIGKILL', { timeout: 120_000 }, async ({
      expect,
    }) => {
      const kind = uniqueKind('sigkill');
      const first = await WorkerProcess.spawn(ctx.databaseUrl, [kind], 1);
      spawned.push(first);
      const { job } = await backend.jobInsert({
        kind,
        payload: { sleepMs: 600_000, sleepOnAttempt: 1 },
        leaseSeconds: 2,
        backoff: { baseMs: 100, maxMs: 100 },
      });
      await first.waitForLine((line) => line.startsWith(`start ${job.id} 1 `), 30_000);
      first.child.kill('SIGKILL');
      await first.exited;
      const killedAt = Date.now();

      const second = await WorkerProcess.spawn(ctx.databaseUrl, [kind], 1);
      spawned.push(second);
      await second.waitForLine((line) => line.startsWith(`done ${job.id} `), 60_000);
      expect(Date.now() - killedAt).toBeLessThan(60_000);
      const done = await getJob(backend, job.id);
      expect(done).toMatchObject({ state: 'completed', attempts: 2, result: { pid: second.pid } });
      expect(countOf([first, second], 'dones', job.id)).toBe(1);
      expect(first.dones.size).toBe(0);
    });

    it(`drains ${DRAIN_JOBS} jobs with ${DRAIN_PROCESSES} processes, each job completed once`, {
      timeout: 240_000,
    }, async ({ expect }) => {
      let done = 0;
      const allDone = Promise.withResolvers<void>();
      WorkerProcess.onAnyLine = () => {
        done = pool.reduce((sum, p) => sum + (p.donesByKind.get(drainKind) ?? 0), 0);
        if (done >= DRAIN_JOBS) allDone.resolve();
      };
      const ids: string[] = [];
      const started = Date.now();
      for (let sent = 0; sent < DRAIN_JOBS; sent += 1000) {
        const batch = Array.from({ length: Math.min(1000, DRAIN_JOBS - sent) }, (_, i) => ({
          kind: drainKind,
          payload: { n: sent + i },
        }));
        ids.push(...(await backend.jobInsertMany(batch)).map((r) => r.job.id));
      }
      const timer = setTimeout(
        () => allDone.reject(new Error(`only ${done} of ${DRAIN_JOBS} done in time`)),
        200_000,
      );
      try {
        await allDone.promise;
      } finally {
        clearTimeout(timer);
        WorkerProcess.onAnyLine = undefined;
      }
      const seconds = (Date.now() - started) / 1000;
      process.stderr.write(`conformance drain: ${DRAIN_JOBS} jobs in ${seconds.toFixed(1)} s\n`);

      const odd = ids.filter((id) => countOf(pool, 'dones', id) !== 1 || countOf(pool, 'starts', id) !== 1);
      const details = await Promise.all(
        odd.slice(0, 5).map(async (id) => ({
          id,
          starts: countOf(pool, 'starts', id),
          dones: countOf(pool, 'dones', id),
          job: await backend.jobGet(id),
        })),
      );
      expect(details).toEqual([]);
      const row = (await backend.jobCounts()).find((counts) => counts.kind === drainKind);
      expect(row).toMatchObject({ completed: DRAIN_JOBS, queued: 0, retrying: 0, active: 0, failed: 0 });
      // Every process took part.
      for (const p of pool) expect(p.donesByKind.get(drainKind) ?? 0).toBeGreaterThan(0);
    });

    it('fires a cron tick exactly once across the worker processes, at the same injected instant', async ({
      expect,
    }) => {
      // Yearly, so the processes' own maintenance (on the real clock) never fires it.
      await backend.scheduleUpsert({
        name: cronKind,
        cron: '0 0 1 1 *',
        timezone: 'UTC',
        kind: cronKind,
        payload: null,
        options: {},
      });
      const nextYear = new Date().getUTCFullYear() + 1;
      const now = new Date(Date.UTC(nextYear, 0, 1, 0, 0, 1));
      await Promise.all(pool.map((p) => p.fireSchedules(now)));
      await Promise.all(pool.map((p) => p.fireSchedules(new Date(now.getTime() + 1000))));
      const jobs = (await backend.jobList({ kind: cronKind, limit: 100 })).items;
      expect(jobs.map((job) => job.idempotencyKey)).toEqual([
        `cron:${cronKind}:${new Date(Date.UTC(nextYear, 0, 1)).toISOString()}`,
      ]);
      await backend.scheduleDelete(cronKind);
    });
  });
}
