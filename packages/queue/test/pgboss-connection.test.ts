// The pg-boss backend when its database connections die: every call made meanwhile is retried
// on a new connection instead of failing, the LISTEN connection comes back (and wakes its
// listeners, since notifications were lost), and a busy worker finishes every job once.
//   (a) the server terminates every connection (pg_terminate_backend) while jobs run;
//   (b) a real restart of a PostgreSQL cluster of the test's own (initdb on a free port; the shared
//       server is never restarted).
import { createEmptyPgDatabase, type EmptyPgDatabase, eventually } from '@offload/db/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgBossBackend } from '../src/drivers/postgres/backend.ts';
import type { QueueBackend } from '../src/types.ts';
import {
  findPostgresBin,
  startThrowawayPostgres,
  type ThrowawayPostgres,
} from './conformance/throwaway-postgres.ts';

/** A claim loop like a worker's: claims on wake-ups (and a 100 ms poll), runs, completes. */
class BusyWorker {
  readonly completed = new Map<string, number>();
  /** Calls that threw: the backend should have retried them all. */
  readonly errors: Error[] = [];
  wakes = 0;
  #stopped = false;
  #wake: () => void = () => {};
  #loop: Promise<void> = Promise.resolve();
  #unsubscribe: (() => Promise<void>) | null = null;

  readonly backend: QueueBackend;
  readonly kind: string;
  readonly handlerMs: number;

  constructor(backend: QueueBackend, kind: string, handlerMs: number) {
    this.backend = backend;
    this.kind = kind;
    this.handlerMs = handlerMs;
  }

  async start(): Promise<void> {
    this.#unsubscribe = await this.backend.onJobsAvailable([this.kind], () => {
      this.wakes += 1;
      this.#wake();
    });
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake();
    await this.#loop;
    await this.#unsubscribe?.();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let claimed: Awaited<ReturnType<QueueBackend['jobClaim']>> = [];
      try {
        claimed = await this.backend.jobClaim({ kinds: [this.kind], limit: 10, workerId: 'busy' });
      } catch (error) {
        this.errors.push(error as Error);
      }
      if (claimed.length === 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 100);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        continue;
      }
      await Promise.all(
        claimed.map(async ({ job, leaseToken }) => {
          await new Promise((resolve) => setTimeout(resolve, this.handlerMs));
          try {
            if ((await this.backend.jobComplete({ id: job.id, leaseToken, result: null })).stored) {
              this.completed.set(job.id, (this.completed.get(job.id) ?? 0) + 1);
            }
          } catch (error) {
            this.errors.push(error as Error);
          }
        }),
      );
    }
  }
}

/** What the backends reported handling (lost connections, reconnects): proof the case bit. */
const handled: string[] = [];

/** The rescuer runs in maintenance processes: a claim whose reply a dropped connection lost comes back. */
const backendOptions = {
  poolMax: 4,
  rescueIntervalMs: 500,
  onError: (_error: Error, context: string) => handled.push(context),
};

describe('pg-boss backend: connections terminated by the server', () => {
  let database: EmptyPgDatabase;
  let admin: pg.Client;
  let worker: QueueBackend;
  let producer: QueueBackend;

  beforeAll(async () => {
    database = await createEmptyPgDatabase();
    admin = new pg.Client({ connectionString: database.databaseUrl });
    await admin.connect();
    worker = createPgBossBackend({ connectionString: database.databaseUrl, ...backendOptions });
    producer = createPgBossBackend({ connectionString: database.databaseUrl, ...backendOptions });
    await worker.start({ maintenance: true });
    await producer.start();
  });

  afterAll(async () => {
    await worker?.stop();
    await producer?.stop();
    await admin?.end();
    await database?.destroy();
  });

  it('keeps working through pg_terminate_backend of every connection, and finishes every job once', async () => {
    handled.length = 0;
    const kind = 'conn.terminated';
    const busy = new BusyWorker(worker, kind, 5);
    await busy.start();
    const sent = await producer.jobInsertMany(
      Array.from({ length: 300 }, () => ({ kind, payload: null, leaseSeconds: 2 })),
    );
    for (const after of [50, 150]) {
      await eventually(`${after} completions`, () => busy.completed.size >= after, 60_000);
      const { rows } = await admin.query(
        `SELECT count(pg_terminate_backend(pid))::int AS killed FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      );
      expect(rows[0].killed).toBeGreaterThan(0);
    }
    await eventually('every job completed', () => busy.completed.size === sent.length, 60_000);

    // The LISTEN connection was killed too: it is back, and wakes this worker again.
    const wakesBefore = busy.wakes;
    await eventually(
      'a wake-up on the restored LISTEN connection',
      async () => {
        await producer.jobInsert({ kind, payload: null });
        await new Promise((resolve) => setTimeout(resolve, 50));
        return busy.wakes > wakesBefore;
      },
      30_000,
    );
    await eventually('the last job', () => busy.completed.size >= sent.length + 1, 30_000);
    await busy.stop();
    expect(handled).toContain('LISTEN connection lost; reconnecting');

    expect(busy.errors).toEqual([]);
    expect([...busy.completed.values()].every((n) => n === 1)).toBe(true);
    expect((await producer.jobCounts()).find((c) => c.kind === kind)).toMatchObject({
      completed: busy.completed.size,
      queued: 0,
      retrying: 0,
      active: 0,
      failed: 0,
    });
  }, 120_000);
});

const bin = findPostgresBin();

describe.skipIf(bin === null)('pg-boss backend: a real restart of PostgreSQL', () => {
  let server: ThrowawayPostgres | undefined;
  let worker: QueueBackend | undefined;
  let producer: QueueBackend | undefined;

  beforeAll(async () => {
    server = await startThrowawayPostgres(bin!);
    const url = server.url;
    worker = createPgBossBackend({ connectionString: url, ...backendOptions });
    producer = createPgBossBackend({ connectionString: url, ...backendOptions });
    await worker.start({ maintenance: true });
    await producer.start();
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await producer?.stop();
    await server?.destroy();
  });

  it('reconnects after the server comes back and finishes every job once', async () => {
    handled.length = 0;
    const kind = 'conn.restart';
    const busy = new BusyWorker(worker!, kind, 5);
    await busy.start();
    await producer!.jobInsertMany(
      Array.from({ length: 200 }, () => ({ kind, payload: null, leaseSeconds: 2 })),
    );
    await eventually('some completions', () => busy.completed.size >= 30, 60_000);
    await server!.restart();
    // Sent once the server is back, through the producer's reconnected pool.
    await producer!.jobInsertMany(
      Array.from({ length: 100 }, () => ({ kind, payload: null, leaseSeconds: 2 })),
    );
    await eventually('every job completed', () => busy.completed.size === 300, 90_000);
    await busy.stop();
    expect(handled).toContain('LISTEN connection lost; reconnecting');
    expect(
      handled.some((context) => context.startsWith('connection lost') || context.startsWith('idle')),
    ).toBe(true);

    expect(busy.errors).toEqual([]);
    expect([...busy.completed.values()].every((n) => n === 1)).toBe(true);
    expect((await producer!.jobCounts()).find((c) => c.kind === kind)).toMatchObject({
      completed: 300,
      queued: 0,
      retrying: 0,
      active: 0,
      failed: 0,
    });
  }, 150_000);
});
