// `db copy` both ways (SQLite → PostgreSQL, PostgreSQL → SQLite) on a seeded inventory with
// jobs in every state, a schedule, a key and metric points: the verification passes, the API on
// the target serves the same KPI, the same job ids and accepts the same key, a worker on the
// target completes the copied ready jobs; a row deleted from the target fails the verification
// naming its table; an interrupted copy resumes; a live worker or a non-empty target is refused.
import {
  CopyRefusedError,
  copyDatabase,
  formatVerification,
  type ProgressSink,
  verifyDatabases,
} from '@offload/db/copy';
import { rebuildKpiSnapshots } from '@offload/db/reports';
import { seedDatabase } from '@offload/db/seed';
import { createTestDb, type TestDatabaseKind, type TestDb, testDatabases } from '@offload/db/testing';
import { createQueueBackend, type Job, type QueueBackend, Worker } from '@offload/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApi } from './harness.ts';

const MODELS = 120;
const NOW = new Date();

async function installQueue(databaseUrl: string): Promise<void> {
  const backend = await createQueueBackend(databaseUrl, { pgboss: { poolMax: 2 } });
  await backend.start({ maintenance: false });
  await backend.stop();
}

interface Fixture {
  /** The pending jobs (copied), by the state they were in. */
  pending: Record<'queued' | 'keyed' | 'scheduled' | 'retrying' | 'active' | 'fromSchedule', string>;
  /** Finished jobs (copied only with history). */
  finished: Record<'completed' | 'failed' | 'cancelled', string>;
  /** The schedule's last run on the source. */
  lastRun: { lastRunAt: string | null; lastJobId: string | null };
  key: string;
}

async function claim(backend: QueueBackend, kind: string) {
  const [claimed] = await backend.jobClaim({ kinds: [kind], limit: 1, workerId: 'copy-test' });
  if (claimed === undefined) throw new Error(`nothing to claim of ${kind}`);
  return claimed;
}

/** Jobs in every state, a schedule and a key on `source`. */
async function populate(source: TestDb): Promise<Fixture> {
  const backend = await createQueueBackend(source.databaseUrl, { pgboss: { poolMax: 2 } });
  await backend.start({ maintenance: false });
  try {
    const send = async (kind: string, extra: object = {}) =>
      (await backend.jobInsert({ kind, payload: { kind, n: 1, nested: { b: true, a: [1, 2] } }, ...extra }))
        .job.id;
    const queued = await send('copy.ready', { priority: 5, owner: 'alice', meta: { via: 'test' } });
    const keyed = await send('copy.ready', { idempotencyKey: 'nightly-2026-01-01', maxAttempts: 7 });
    const scheduled = await send('copy.ready', { runAt: new Date(NOW.getTime() + 86_400_000).toISOString() });
    const retrying = await send('copy.retry', { backoff: { baseMs: 0, maxMs: 0 }, leaseSeconds: 45 });
    const r = await claim(backend, 'copy.retry');
    await backend.jobFail({
      id: retrying,
      leaseToken: r.leaseToken,
      error: { kind: 'Error', message: 'flaky' },
    });
    const active = await send('copy.active');
    await claim(backend, 'copy.active');
    const completed = await send('copy.done');
    const c = await claim(backend, 'copy.done');
    await backend.jobComplete({ id: completed, leaseToken: c.leaseToken, result: { rows: 3 } });
    const failed = await send('copy.failed', { maxAttempts: 1 });
    const f = await claim(backend, 'copy.failed');
    await backend.jobFail({
      id: failed,
      leaseToken: f.leaseToken,
      error: { kind: 'Error', message: 'no' },
      final: true,
    });
    const cancelled = await send('copy.cancelled');
    await backend.jobCancel(cancelled);
    await backend.scheduleUpsert({
      name: 'nightly kpi (copied)',
      cron: '0 3 * * *',
      timezone: 'Europe/Paris',
      kind: 'copy.ready',
      payload: { asOf: null },
      options: { priority: 2 },
    });
    // A schedule's last run (its tick and the job it sent) and its pause arrive as they were.
    const [sent] = await backend.scheduleFireDue(new Date(NOW.getTime() + 2 * 86_400_000));
    expect(sent?.kind).toBe('copy.ready');
    expect(await backend.schedulePause('nightly kpi (copied)', true, NOW)).toBe(true);
    const [lastRun] = await backend.scheduleStates();
    expect(lastRun).toMatchObject({ lastJobId: sent!.id, lastRunAt: expect.any(String) });
    // An upload waiting for its import: its row moves, its bytes (a file, or chunks) do not.
    const at = NOW.toISOString();
    await source.db
      .knex('uploads')
      .insert({ id: 'u-waiting', entity: 'models', byte_size: 10, created_at: at, completed_at: at });
    const retried = await backend.jobGet(retrying);
    expect(retried?.state).toBe('retrying');
    expect(retried?.attempts).toBe(1);
    return {
      pending: { queued, keyed, scheduled, retrying, active, fromSchedule: sent!.id },
      finished: { completed, failed, cancelled },
      lastRun: { lastRunAt: lastRun!.lastRunAt, lastJobId: lastRun!.lastJobId },
      key: '',
    };
  } finally {
    await backend.stop();
  }
}

/** What the API answers on `db`: the global KPI, and the given jobs. */
async function apiView(testDb: TestDb, key: string, ids: string[]) {
  const api = await startTestApi(testDb.kind, { testDb });
  try {
    const kpi = await api.request('GET', '/v1/kpi', { key });
    expect(kpi.status).toBe(200);
    const jobs: Record<string, Job> = {};
    for (const id of ids) {
      const res = await api.request('GET', `/v1/jobs/${id}`, { key });
      jobs[id] = res.status === 200 ? res.body : res.status;
    }
    return { kpi: kpi.body, jobs };
  } finally {
    await api.close();
  }
}

const directions: Array<[TestDatabaseKind, TestDatabaseKind]> = testDatabases().includes('postgres')
  ? [
      ['sqlite', 'postgres'],
      ['postgres', 'sqlite'],
    ]
  : [];

for (const [from, to] of directions) {
  describe(`db copy ${from} → ${to}`, () => {
    let source: TestDb;
    let fixture: Fixture;
    let before: Awaited<ReturnType<typeof apiView>>;
    const targets: TestDb[] = [];
    const newTarget = async () => {
      const target = await createTestDb(to);
      targets.push(target);
      return target;
    };

    beforeAll(async () => {
      source = await createTestDb(from);
      await seedDatabase(source.db, { models: MODELS, quiet: true });
      await rebuildKpiSnapshots(source.db, { asOf: '2026-01-01', now: NOW });
      fixture = await populate(source);
      const api = await startTestApi(from, { testDb: source });
      fixture.key = await api.key('operator', ['admin', 'read', 'submit']);
      await api.close();
      before = await apiView(source, fixture.key, [
        ...Object.values(fixture.pending),
        ...Object.values(fixture.finished),
      ]);
    });
    afterAll(async () => {
      for (const target of targets) await target.destroy();
      await source?.destroy();
    });

    it('copies everything and verifies; the API and a worker on the target carry on', async () => {
      const target = await newTarget();
      const report = await copyDatabase({
        from: source.databaseUrl,
        to: target.databaseUrl,
        prepareTarget: installQueue,
        batchSize: 500,
      });
      expect(report.verification.ok, formatVerification(report.verification)).toBe(true);
      const byName = new Map(report.verification.tables.map((t) => [t.name, t]));
      expect(byName.get('models')?.targetRows).toBe(MODELS);
      expect(byName.get('model_metrics')?.targetRows).toBeGreaterThan(0);
      expect(byName.get('api_keys')?.targetRows).toBe(1);
      expect(byName.get('kpi_snapshots')?.targetRows).toBeGreaterThan(0);
      expect(byName.get('attestation_cycle_counts')?.targetRows).toBeGreaterThan(0);
      expect(byName.get('queue jobs')?.targetRows).toBe(6);
      expect(byName.get('queue schedules')?.targetRows).toBe(1);
      expect(report.notes).toEqual([
        expect.stringMatching(/^1 upload copied as rows only: .* let imports finish before copying/),
      ]);
      expect(byName.get('uploads')?.targetRows).toBe(1);

      const pendingIds = Object.values(fixture.pending);
      const after = await apiView(target, fixture.key, [...pendingIds, ...Object.values(fixture.finished)]);
      expect(after.kpi).toEqual(before.kpi);
      for (const id of pendingIds) {
        const was = before.jobs[id]!;
        const is = after.jobs[id]!;
        expect(is.id).toBe(id);
        expect({ ...is, state: is.state }).toMatchObject({
          kind: was.kind,
          payload: was.payload,
          priority: was.priority,
          attempts: was.attempts,
          maxAttempts: was.maxAttempts,
          runAt: was.runAt,
          createdAt: was.createdAt,
        });
        // An active job's lease cannot outlive the copy: it is waiting for its next attempt.
        expect(is.state).toBe(was.state === 'active' ? 'retrying' : was.state);
      }
      for (const id of Object.values(fixture.finished)) expect(after.jobs[id]).toBe(404);

      const api = await startTestApi(to, { testDb: target });
      const schedules = await api.queue.scheduleList();
      expect(schedules).toEqual([
        expect.objectContaining({
          name: 'nightly kpi (copied)',
          cron: '0 3 * * *',
          timezone: 'Europe/Paris',
        }),
      ]);
      expect(await api.queue.scheduleStates()).toEqual([
        expect.objectContaining({ name: 'nightly kpi (copied)', paused: true, ...fixture.lastRun }),
      ]);
      const keyed = await api.backend.jobInsert({
        kind: 'copy.ready',
        payload: {},
        idempotencyKey: 'nightly-2026-01-01',
      });
      expect(keyed.job.id).toBe(fixture.pending.keyed);
      const worker = new Worker(api.backend, { concurrency: 4, pollIntervalMs: 50 });
      for (const kind of ['copy.ready', 'copy.retry', 'copy.active'])
        worker.register(kind, async () => ({ ok: true }));
      await worker.start();
      try {
        const ready = [
          fixture.pending.queued,
          fixture.pending.keyed,
          fixture.pending.retrying,
          fixture.pending.active,
        ];
        await eventually(
          'the copied ready jobs to complete',
          async () => {
            const states = await Promise.all(ready.map(async (id) => (await api.queue.get(id))?.state));
            return states.every((s) => s === 'completed');
          },
          60_000,
        );
        expect((await api.queue.get(fixture.pending.scheduled))?.state).toBe('queued');
      } finally {
        await worker.stop({ timeoutMs: 5000 });
        await api.close();
      }
    });

    it('fails the verification naming the table a row was deleted from', async () => {
      const target = await newTarget();
      const report = await copyDatabase({
        from: source.databaseUrl,
        to: target.databaseUrl,
        prepareTarget: installQueue,
      });
      expect(report.verification.ok).toBe(true);
      const [row] = await target.db
        .knex('model_metrics')
        .select('model_id', 'metric', 'observed_at')
        .limit(1);
      await target.db.knex('model_metrics').where(row).delete();
      const verification = await verifyDatabases({ from: source.databaseUrl, to: target.databaseUrl });
      expect(verification.ok).toBe(false);
      expect(verification.tables.filter((t) => !t.ok).map((t) => t.name)).toEqual(['model_metrics']);
      expect(formatVerification(verification)).toMatch(/MISMATCH in model_metrics$/);
    });

    it('resumes an interrupted copy, with history', async () => {
      const target = await newTarget();
      const controller = new AbortController();
      const progress: ProgressSink = {
        start() {},
        rows() {},
        end() {},
        table(name) {
          if (name === 'validations') controller.abort(new Error('interrupted'));
        },
      };
      const options = {
        from: source.databaseUrl,
        to: target.databaseUrl,
        prepareTarget: installQueue,
        withHistory: true,
        batchSize: 100,
      };
      await expect(copyDatabase({ ...options, progress, signal: controller.signal })).rejects.toThrow(
        'interrupted',
      );
      const count = async (table: string) => Number((await target.db.knex(table).count({ n: '*' }))[0]!.n);
      expect(await count('models')).toBe(MODELS);
      expect(await count('validations')).toBe(0);
      await expect(copyDatabase(options)).rejects.toThrow(/already holds data in .*models.*--resume/);
      const report = await copyDatabase({ ...options, resume: true });
      expect(report.verification.ok, formatVerification(report.verification)).toBe(true);
      const skipped = report.tables.filter((t) => t.skipped).map((t) => t.name);
      expect(skipped).toContain('models');
      expect(skipped).not.toContain('validations');
      expect(report.verification.tables.find((t) => t.name === 'queue jobs')?.targetRows).toBe(9);
    });

    it('refuses while a worker is alive on the source', async () => {
      const target = await newTarget();
      const heartbeat = NOW.toISOString();
      await source.db.knex('worker_registry').insert({
        id: 'w-live',
        host: 'box',
        pid: 4242,
        concurrency: 1,
        running: 0,
        kinds: '[]',
        started_at: heartbeat,
        last_heartbeat_at: heartbeat,
      });
      try {
        const copy = copyDatabase({ from: source.databaseUrl, to: target.databaseUrl, now: () => NOW });
        await expect(copy).rejects.toBeInstanceOf(CopyRefusedError);
        await expect(
          copyDatabase({ from: source.databaseUrl, to: target.databaseUrl, now: () => NOW }),
        ).rejects.toThrow(/worker is alive on the source \(box pid 4242\): stop every worker/);
        // A stale row (a killed worker's) does not hold the copy back.
        const later = new Date(NOW.getTime() + 120_000);
        const report = await copyDatabase({
          from: source.databaseUrl,
          to: target.databaseUrl,
          prepareTarget: installQueue,
          now: () => later,
        });
        expect(report.verification.ok).toBe(true);
      } finally {
        await source.db.knex('worker_registry').where({ id: 'w-live' }).delete();
      }
    });
  });
}
