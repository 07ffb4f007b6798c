// The SQLite backend's own machinery: its tables in the application's file, list pages across
// kinds and processes, cron ticks fired exactly once by overlapping leaders, the leader lease,
// and pruning of the event log. Time is passed in (`now`), never waited for.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteBackend, type SqliteQueueBackend } from '../src/drivers/sqlite/backend.ts';
import type { Job } from '../src/index.ts';

let dir: string;
let path: string;
let a: SqliteQueueBackend;
let b: SqliteQueueBackend;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'offload-sqlite-maintenance-'));
  path = join(dir, 'app.db');
  // The application's own table is there first; the queue adds its own beside it.
  const app = new Database(path);
  app.exec('CREATE TABLE models (id INTEGER PRIMARY KEY, name TEXT)');
  app.close();
  a = createSqliteBackend({ path });
  b = createSqliteBackend({ path });
  await Promise.all([a.start(), b.start()]);
});

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('schema', () => {
  it('adds queue_ tables to the application file, in WAL mode, once', async () => {
    const again = createSqliteBackend({ path });
    await again.start();
    await again.start({ maintenance: false });
    await again.stop();
    const db = new Database(path, { readonly: true });
    try {
      const tables = db
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .pluck()
        .all();
      expect(tables).toEqual([
        'models',
        'queue_counts',
        'queue_events',
        'queue_jobs',
        'queue_leader',
        'queue_schedules',
        'queue_schema_version',
      ]);
      expect(db.prepare('SELECT version FROM queue_schema_version').pluck().all()).toEqual([1, 2, 3, 4]);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('refuses to run on tables newer than the code', async () => {
    const other = join(dir, 'newer.db');
    const db = new Database(other);
    db.exec('CREATE TABLE queue_schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    db.exec("INSERT INTO queue_schema_version VALUES (99, '2030-01-01T00:00:00.000Z')");
    db.close();
    await expect(createSqliteBackend({ path: other }).start()).rejects.toThrow(/version 99/);
  });
});

describe('lists', () => {
  it('pages a state across kinds, newest first, with cursors any process accepts', async () => {
    const kinds = ['list.x', 'list.y', 'list.z'];
    const sent: Job[] = [];
    for (let i = 0; i < 9; i += 1) {
      const { job } = await a.jobInsert({
        kind: kinds[i % 3]!,
        payload: i,
        owner: i % 2 === 0 ? 'ann' : 'bob',
      });
      sent.push(job);
    }
    const claimed = await a.jobClaim({ kinds, limit: 4, workerId: 'w' });
    for (const c of claimed.slice(0, 3)) {
      await a.jobFail({
        id: c.job.id,
        leaseToken: c.leaseToken,
        error: { kind: 'E', message: 'x' },
        final: true,
      });
    }
    const failedIds = new Set(claimed.slice(0, 3).map((c) => c.job.id));
    const mine = (job: Job) => kinds.includes(job.kind);

    // State only: every kind's failed jobs, across two backends' cursors.
    const seen: Job[] = [];
    let cursor: string | null = null;
    let page = 0;
    do {
      const backend = page % 2 === 0 ? a : b;
      const result = await backend.jobList({ state: 'failed', limit: 2, cursor });
      seen.push(...result.items.filter(mine));
      cursor = result.nextCursor;
      page += 1;
    } while (cursor !== null);
    expect(new Set(seen.map((job) => job.id))).toEqual(failedIds);
    const order = seen.map((job) => [job.createdAt, job.id].join(' '));
    expect(order).toEqual([...order].sort().reverse());

    const active = await b.jobList({ state: 'active' });
    expect(active.items.filter(mine).map((job) => job.id)).toEqual([claimed[3]!.job.id]);
    const queued = await b.jobList({ kind: 'list.x', state: 'queued' });
    expect(queued.items.every((job) => job.kind === 'list.x' && job.state === 'queued')).toBe(true);
    const ann = await b.jobList({ owner: 'ann', state: 'queued' });
    expect(ann.items.every((job) => job.owner === 'ann' && job.state === 'queued')).toBe(true);
    expect((await a.jobList({ kind: 'list.y' })).items.map((job) => job.id)).toEqual(
      sent
        .filter((job) => job.kind === 'list.y')
        .map((job) => job.id)
        .reverse(),
    );
  });

  it('refuses a cursor signed for another database', async () => {
    // Another deployment: its own cursor secret (this file's backends sign with the process's).
    const elsewhere = createSqliteBackend({
      path: join(dir, 'elsewhere.db'),
      cursorSecret: 'another-deployment-secret',
    });
    await elsewhere.start();
    try {
      await elsewhere.jobInsertMany([
        { kind: 'k', payload: 1 },
        { kind: 'k', payload: 2 },
      ]);
      const { nextCursor } = await elsewhere.jobList({ kind: 'k', limit: 1 });
      expect(nextCursor).not.toBeNull();
      await expect(a.jobList({ kind: 'k', limit: 1, cursor: nextCursor })).rejects.toMatchObject({
        name: 'InvalidCursorError',
      });
    } finally {
      await elsewhere.stop();
    }
  });
});

describe('events', () => {
  it('prunes the event log by age, and listeners only see what follows their subscription', async () => {
    const kind = 'events.prune';
    await a.jobInsert({ kind, payload: 'before' });
    const seen: string[] = [];
    const unsubscribe = await b.onJobEvent((event) => {
      if (event.kind === kind) seen.push(`${event.state}`);
    });
    const { job } = await a.jobInsert({ kind, payload: 'after' });
    await a.jobCancel(job.id);
    const deadline = Date.now() + 5000;
    while (!seen.includes('cancelled') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(seen).toEqual(['queued', 'cancelled']);
    await unsubscribe();
    expect(await a.eventPrune(new Date(Date.now() - 60_000))).toBe(0);
    expect(await a.eventPrune(new Date(Date.now() + 60_000))).toBeGreaterThan(0);
  });
});
