// What only the pg-boss backend does, beyond the shared conformance suite: its install, its ids,
// its maintained counts, NOTIFY wake-ups and events, its use of pg-boss's tables, and its cron
// evaluation. Each run gets a blank database of its own.
import { createEmptyPgDatabase, type EmptyPgDatabase, eventually } from '@offload/db/testing';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPgBossBackend,
  PGBOSS_PACKAGE_VERSION,
  PGBOSS_SCHEMA_VERSION,
  PgBossVersionError,
} from '../src/drivers/postgres/backend.ts';
import { idTime, uuidv7 } from '../src/drivers/postgres/ids.ts';
import { scheduleKey, scheduleName } from '../src/drivers/postgres/schedules.ts';
import { EXTRAS_VERSION } from '../src/drivers/postgres/sql.ts';
import { Worker } from '../src/index.ts';
import type { JobEvent, QueueBackend, Schedule, SqlExecutor } from '../src/types.ts';

let database: EmptyPgDatabase;
let a: QueueBackend;
let b: QueueBackend;
let admin: pg.Client;
const backends: QueueBackend[] = [];

function backend(options: { schema?: string } = {}): QueueBackend {
  const created = createPgBossBackend({ connectionString: database.databaseUrl, poolMax: 4, ...options });
  backends.push(created);
  return created;
}

let kindSequence = 0;
function uniqueKind(label: string): string {
  kindSequence += 1;
  return `pgb.${label}.${process.pid}.${kindSequence}`;
}

beforeAll(async () => {
  database = await createEmptyPgDatabase();
  admin = new pg.Client({ connectionString: database.databaseUrl });
  await admin.connect();
  // Three processes starting at once on a blank database: pg-boss's install and ours both race.
  const racing = [backend(), backend(), backend()];
  await Promise.all(racing.map((x) => x.start()));
  [a, b] = racing as [QueueBackend, QueueBackend];
});

afterAll(async () => {
  await Promise.all(backends.map((x) => x.stop()));
  await admin?.end();
  await database?.destroy();
});

describe('install', () => {
  it('installs pg-boss and our extras once, whichever process starts first', async () => {
    const { rows } = await admin.query('SELECT version FROM offload_queue.version');
    expect(rows).toEqual([{ version: EXTRAS_VERSION }]);
    const boss = await admin.query('SELECT count(*)::int AS n FROM pgboss.version');
    expect(boss.rows[0].n).toBe(1);
    const indexes = await admin.query(
      "SELECT indexname FROM pg_indexes WHERE schemaname = 'pgboss' AND indexname LIKE 'offload_%' ORDER BY 1",
    );
    expect(indexes.rows.map((r) => r.indexname)).toEqual([
      'offload_job_active',
      'offload_job_idempotency',
      'offload_job_owner',
      'offload_job_waiting',
    ]);
  });

  it('creates a queue per kind with our defaults: 30 s heartbeat lease, retries with backoff, notify', async () => {
    const kind = uniqueKind('queue');
    await a.jobInsert({ kind, payload: null });
    const boss = new PgBoss({
      connectionString: database.databaseUrl,
      supervise: false,
      schedule: false,
      max: 1,
    });
    boss.on('error', () => {});
    await boss.start();
    try {
      const queue = await boss.getQueue(kind);
      expect(queue).toMatchObject({
        policy: 'standard',
        retryLimit: 2,
        retryBackoff: true,
        heartbeatSeconds: 30,
        notify: true,
        table: 'job_common',
      });
    } finally {
      await boss.stop({ graceful: false });
    }
  });

  it('keeps two installations apart by schema', async () => {
    const other = backend({ schema: 'offload_other' });
    await other.start();
    const kind = uniqueKind('schema');
    const { job } = await other.jobInsert({ kind, payload: 1 });
    expect(await other.jobGet(job.id)).toMatchObject({ id: job.id });
    expect(await a.jobGet(job.id)).toBeNull();
    const { rows } = await admin.query('SELECT version FROM offload_other_offload.version');
    expect(rows).toEqual([{ version: EXTRAS_VERSION }]);
  });

  it('refuses to start on a pg-boss schema of another version, saying what to do', async () => {
    const schema = 'offload_versioned';
    const first = backend({ schema });
    await first.start();
    await first.stop();
    await admin.query(`UPDATE ${schema}.version SET version = $1`, [PGBOSS_SCHEMA_VERSION + 1]);
    const refused = backend({ schema }).start();
    await expect(refused).rejects.toBeInstanceOf(PgBossVersionError);
    await expect(refused).rejects.toThrow(
      new RegExp(
        `version ${PGBOSS_SCHEMA_VERSION + 1}.*written against version ${PGBOSS_SCHEMA_VERSION} \\(pg-boss ${PGBOSS_PACKAGE_VERSION.replaceAll('.', '\\.')}\\).*Run the Offload release`,
      ),
    );
    // pg-boss did not touch it: still the version it was found at.
    expect((await admin.query(`SELECT version FROM ${schema}.version`)).rows).toEqual([
      { version: PGBOSS_SCHEMA_VERSION + 1 },
    ]);
    await admin.query(`UPDATE ${schema}.version SET version = $1`, [PGBOSS_SCHEMA_VERSION]);
    const again = backend({ schema });
    await again.start();
    await again.stop();
  });

  it('upgrades an installation at an earlier step of our schema to the latest, once', async () => {
    const schema = 'offload_stepped';
    const first = backend({ schema });
    await first.start();
    await first.stop();
    // As a release before step 2 left it.
    await admin.query(`DROP TABLE ${schema}_offload.schedule_tick`);
    await admin.query(`DROP TRIGGER offload_count_inserts ON ${schema}.job_common`);
    await admin.query(`DROP TRIGGER offload_count_deletes ON ${schema}.job_common`);
    await admin.query(`DROP FUNCTION ${schema}_offload.count_foreign_writes()`);
    await admin.query(`DROP TABLE ${schema}_offload.leader`);
    await admin.query(
      `CREATE TABLE ${schema}_offload.maintenance (task text PRIMARY KEY, ran_at timestamptz NOT NULL)`,
    );
    await admin.query(`CREATE TABLE ${schema}_offload.secret (name text PRIMARY KEY, value text NOT NULL)`);
    await admin.query(`UPDATE ${schema}_offload.version SET version = 1`);
    await Promise.all([backend({ schema }).start(), backend({ schema }).start()]);
    expect((await admin.query(`SELECT version FROM ${schema}_offload.version`)).rows).toEqual([
      { version: EXTRAS_VERSION },
    ]);
    const triggers = await admin.query(
      `SELECT tgname FROM pg_trigger WHERE tgrelid = '${schema}.job_common'::regclass AND tgname LIKE 'offload_%' ORDER BY 1`,
    );
    expect(triggers.rows.map((r) => r.tgname)).toEqual(['offload_count_deletes', 'offload_count_inserts']);
  });
});

describe('pg-boss’s own API on our jobs', () => {
  let boss: PgBoss;
  beforeAll(async () => {
    boss = new PgBoss({ connectionString: database.databaseUrl, supervise: false, schedule: false, max: 2 });
    boss.on('error', () => {});
    await boss.start();
  });
  afterAll(async () => {
    await boss?.stop({ graceful: false });
  });

  it('runs a job sent with pg-boss’s send() on an Offload worker, and counts it', async () => {
    const kind = uniqueKind('boss-send');
    await boss.createQueue(kind);
    const id = await boss.send(kind, { from: 'pg-boss' });
    expect(id).toEqual(expect.any(String));
    expect((await a.jobCounts()).find((c) => c.kind === kind)).toMatchObject({ queued: 1 });
    const worker = new Worker(b, { concurrency: 2, pollIntervalMs: 50 });
    const seen: unknown[] = [];
    worker.register(kind, async ({ job }) => {
      seen.push(job.payload);
      return { ran: true };
    });
    await worker.start();
    try {
      await eventually(
        'the pg-boss job completed',
        async () => (await a.jobGet(id!))?.state === 'completed',
        20_000,
      );
    } finally {
      await worker.stop();
    }
    expect(seen).toEqual([{ from: 'pg-boss' }]);
    expect(await a.jobGet(id!)).toMatchObject({
      kind,
      state: 'completed',
      payload: { from: 'pg-boss' },
      result: { ran: true },
    });
    expect((await a.jobCounts()).find((c) => c.kind === kind)).toMatchObject({
      queued: 0,
      active: 0,
      completed: 1,
    });
    expect(await boss.getJobById(kind, id!)).toMatchObject({ id, state: 'completed' });
  });

  it('shows an Offload job through pg-boss’s getJobById() in the right state at each step', async () => {
    const kind = uniqueKind('boss-read');
    const { job } = await a.jobInsert({ kind, payload: { n: 1 }, maxAttempts: 2 });
    expect(await boss.getJobById(kind, job.id)).toMatchObject({
      id: job.id,
      name: kind,
      state: 'created',
      data: { payload: { n: 1 } },
      retryLimit: 1,
    });
    const [claimed] = await b.jobClaim({ kinds: [kind], limit: 1, workerId: 'w' });
    expect(await boss.getJobById(kind, job.id)).toMatchObject({ state: 'active' });
    await b.jobFail({
      id: job.id,
      leaseToken: claimed!.leaseToken,
      error: { kind: 'Error', message: 'boom' },
    });
    expect(await boss.getJobById(kind, job.id)).toMatchObject({
      state: 'retry',
      output: { error: { message: 'boom' } },
    });
    const [again] = await b.jobClaim({
      kinds: [kind],
      limit: 1,
      workerId: 'w',
      now: new Date(Date.now() + 3_600_000),
    });
    expect(await boss.getJobById(kind, job.id)).toMatchObject({ state: 'active', retryCount: 1 });
    expect(await b.jobComplete({ id: job.id, leaseToken: again!.leaseToken, result: { ok: 1 } })).toEqual({
      stored: true,
    });
    expect(await boss.getJobById(kind, job.id)).toMatchObject({
      state: 'completed',
      output: { result: { ok: 1 } },
    });
    const { job: other } = await a.jobInsert({ kind, payload: null });
    await a.jobCancel(other.id);
    expect(await boss.getJobById(kind, other.id)).toMatchObject({ state: 'cancelled' });
  });
});

describe('ids', () => {
  it('mints UUIDv7 ids in order, even within one millisecond', () => {
    const now = Date.now();
    const ids = Array.from({ length: 5000 }, () => uuidv7(now));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(idTime(ids[0]!)).toBe(now);
  });

  it('lists newest first, and a job was created in its id’s millisecond', async () => {
    const kind = uniqueKind('order');
    const sent: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const results = await a.jobInsertMany(
        Array.from({ length: 4 }, (_, j) => ({ kind, payload: { i, j } })),
      );
      sent.push(...results.map((r) => r.job.id));
    }
    const page = await b.jobList({ kind, limit: 100 });
    expect(page.items.map((job) => job.id)).toEqual([...sent].reverse());
    for (const job of page.items) expect(Date.parse(job.createdAt)).toBe(idTime(job.id));
  });
});

describe('counts', () => {
  it('answers from a few counter rows however many jobs are retained', async () => {
    const kind = uniqueKind('counts-bulk');
    for (let i = 0; i < 5; i += 1) {
      await a.jobInsertMany(Array.from({ length: 1000 }, () => ({ kind, payload: null })));
    }
    const plan = await admin.query(
      `EXPLAIN (ANALYZE, FORMAT JSON) SELECT kind, state, sum(n) FROM offload_queue.job_count GROUP BY 1, 2`,
    );
    const read = JSON.stringify(plan.rows[0]['QUERY PLAN']);
    expect(read).not.toContain('job_common');
    expect((await a.jobCounts()).find((c) => c.kind === kind)).toMatchObject({ queued: 5000 });
  });
});

describe('sending', () => {
  it('fails only the job the database refuses, not the others sent with it', async () => {
    const kind = uniqueKind('refused');
    const sends = ['fine', 'bad\u0000byte', 'also fine'].map((text) =>
      a.jobInsert({ kind, payload: { text } }),
    );
    const [fine, bad, alsoFine] = await Promise.allSettled(sends);
    expect(fine).toMatchObject({ status: 'fulfilled', value: { created: true } });
    expect(alsoFine).toMatchObject({ status: 'fulfilled', value: { created: true } });
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: '22P05' } });
    const counts = await a.jobCounts();
    expect(counts.find((c) => c.kind === kind)).toMatchObject({ queued: 2 });
  });
});

describe('wake-ups', () => {
  it('wakes a listener in another process when a job is sent, and when a delayed one comes due', async () => {
    const kind = uniqueKind('wake');
    const wakes: number[] = [];
    const unsubscribe = await a.onJobsAvailable([kind], () => wakes.push(Date.now()));
    try {
      await b.jobInsert({ kind, payload: null });
      await eventually('the wake-up', () => wakes.length >= 1);
      const dueAt = Date.now() + 300;
      await b.jobInsert({ kind, payload: null, runAt: new Date(dueAt).toISOString() });
      await eventually('the delayed wake-up', () => wakes.length >= 2);
      expect(wakes[1]!).toBeGreaterThanOrEqual(dueAt);
    } finally {
      await unsubscribe();
    }
  });

  it("wakes at the commit of the caller's transaction, not before", async () => {
    const kind = uniqueKind('wake-tx');
    let woken = 0;
    const unsubscribe = await a.onJobsAvailable([kind], () => {
      woken += 1;
    });
    const client = new pg.Client({ connectionString: database.databaseUrl });
    await client.connect();
    try {
      const executor: SqlExecutor = {
        dialect: 'postgres',
        query: (text, params) => client.query(text, [...params]),
      };
      await client.query('BEGIN');
      const { job } = await b.jobInsert({ kind, payload: null, executor });
      // A marker sent outside the transaction arrives; the transaction's wake-up must not.
      const marker = uniqueKind('wake-marker');
      let markers = 0;
      const off = await a.onJobsAvailable([marker], () => {
        markers += 1;
      });
      await b.jobInsert({ kind: marker, payload: null });
      await eventually('the marker', () => markers === 1);
      await off();
      expect(woken).toBe(0);
      await client.query('COMMIT');
      await eventually('the wake-up at commit', () => woken === 1);
      expect(await a.jobGet(job.id)).toMatchObject({ state: 'queued' });
    } finally {
      await unsubscribe();
      await client.end();
    }
  });
});

describe('events', () => {
  it('carries large progress by reading it back', async () => {
    const kind = uniqueKind('events-large');
    const events: JobEvent[] = [];
    const unsubscribe = await a.onJobEvent((event) => {
      if (event.kind === kind) events.push(event);
    });
    try {
      const { job } = await b.jobInsert({ kind, payload: null });
      const [claimed] = await b.jobClaim({ kinds: [kind], limit: 1, workerId: 'w' });
      const progress = { log: 'x'.repeat(5000) };
      await b.jobProgress({ id: job.id, leaseToken: claimed!.leaseToken, progress });
      await eventually('the progress event', () => events.some((e) => e.progress !== null));
      expect(events.find((e) => e.progress !== null)!.progress).toEqual(progress);
    } finally {
      await unsubscribe();
    }
  });

  it('splits a large batch into several notifications, every event delivered', async () => {
    const kind = uniqueKind('events-batch');
    const seen = new Set<string>();
    const unsubscribe = await a.onJobEvent((event) => {
      if (event.kind === kind && event.state === 'completed') seen.add(event.id);
    });
    try {
      await b.jobInsertMany(Array.from({ length: 500 }, () => ({ kind, payload: null })));
      const claimed = await b.jobClaim({ kinds: [kind], limit: 500, workerId: 'w' });
      await b.jobCompleteMany!(claimed.map((c) => ({ id: c.job.id, leaseToken: c.leaseToken })));
      await eventually('500 completed events', () => seen.size === 500);
    } finally {
      await unsubscribe();
    }
  });
});

describe('settling', () => {
  it('groups concurrent completions into few statements, each fenced on its own', async () => {
    const kind = uniqueKind('coalesce');
    await a.jobInsertMany(Array.from({ length: 300 }, () => ({ kind, payload: null })));
    const claimed = await b.jobClaim({ kinds: [kind], limit: 300, workerId: 'w' });
    const stale = claimed[0]!;
    await b.jobComplete({ id: stale.job.id, leaseToken: stale.leaseToken });
    const results = await Promise.all(
      claimed.map((c) => b.jobComplete({ id: c.job.id, leaseToken: c.leaseToken, result: { id: c.job.id } })),
    );
    expect(results[0]).toEqual({ stored: false, found: 'completed', reclaimed: false });
    expect(results.slice(1).every((outcome) => outcome.stored)).toBe(true);
    const done = await a.jobGet(claimed[7]!.job.id);
    expect(done).toMatchObject({ state: 'completed', result: { id: claimed[7]!.job.id } });
  });
});

describe('refusals under concurrency', () => {
  /**
   * Runs `transition` while another connection holds job `id` in an uncommitted transaction that
   * cancels it, and commits once the transition waits on the row: what it answers must be the
   * committed row, not the snapshot it started with.
   */
  async function behindCancel<T>(id: string, transition: () => Promise<T>): Promise<T> {
    const holder = new pg.Client({ connectionString: database.databaseUrl });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(
        "UPDATE pgboss.job_common SET state = 'cancelled', completed_on = now() WHERE id = $1",
        [id],
      );
      const answer = transition();
      await eventually('the transition to wait on the held row', async () => {
        const { rows } = await admin.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        return rows[0].n > 0;
      });
      await holder.query('COMMIT');
      return await answer;
    } finally {
      await holder.end();
    }
  }

  it('a lease transition that waited on a concurrent cancel says it found the job cancelled', async () => {
    const kind = uniqueKind('behind-cancel');
    await a.jobInsertMany(Array.from({ length: 5 }, () => ({ kind, payload: null })));
    const claimed = await b.jobClaim({ kinds: [kind], limit: 5, workerId: 'w' });
    const [heartbeat, progress, complete, fail, release] = claimed.map((c) => ({
      id: c.job.id,
      leaseToken: c.leaseToken,
    }));
    const cancelled = { stored: false, found: 'cancelled', reclaimed: false };
    expect(await behindCancel(heartbeat!.id, () => b.jobHeartbeat(heartbeat!))).toEqual(cancelled);
    expect(
      await behindCancel(progress!.id, () => b.jobProgress({ ...progress!, progress: { pct: 1 } })),
    ).toEqual(cancelled);
    expect(await behindCancel(complete!.id, () => b.jobComplete(complete!))).toEqual(cancelled);
    const error = { kind: 'Error', message: 'late' };
    expect(await behindCancel(fail!.id, () => b.jobFail({ ...fail!, error }))).toEqual(cancelled);
    expect(await behindCancel(release!.id, () => b.jobRelease(release!))).toEqual(cancelled);
  });
});

describe('cron', () => {
  const schedule: Schedule = {
    name: 'nightly kpi: all',
    cron: '*/15 * * * *',
    timezone: 'Europe/Paris',
    kind: 'rebuild.kpi',
    payload: { scope: 'all' },
    options: { priority: 3, maxAttempts: 2 },
  };

  it('stores any schedule name in pg-boss’s schedule table', async () => {
    expect(scheduleKey('plain-name.v2')).toBe('plain-name.v2');
    expect(scheduleName(scheduleKey(schedule.name))).toBe(schedule.name);
    expect(scheduleName(scheduleKey('b64.looks-encoded'))).toBe('b64.looks-encoded');
    await a.scheduleUpsert(schedule);
    expect((await b.scheduleList()).find((s) => s.name === schedule.name)).toEqual(schedule);
    const { rows } = await admin.query(
      'SELECT name, key, cron, timezone FROM pgboss.schedule WHERE name = $1',
      ['rebuild.kpi'],
    );
    expect(rows).toEqual([
      {
        name: 'rebuild.kpi',
        key: scheduleKey(schedule.name),
        cron: '*/15 * * * *',
        timezone: 'Europe/Paris',
      },
    ]);
    expect(await b.scheduleDelete(schedule.name)).toBe(true);
  });
});
