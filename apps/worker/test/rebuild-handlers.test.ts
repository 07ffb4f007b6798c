// The rebuild.kpi and rebuild.compliance handlers on both databases: in-process, each lands its
// report with a new cache version, reports progress and returns a small result; a strict payload
// refuses bad dates and unknown fields before any work; an aborted job writes nothing. End to
// end, a worker process runs both kinds sent through the queue.
import { onQuery, readCacheVersions } from '@offload/db';
import { kpiSnapshotKey, readComplianceReport, readKpiSnapshot } from '@offload/db/reports';
import { seedDatabase } from '@offload/db/seed';
import { createTestDb, eventually, type TestDb, testDatabases } from '@offload/db/testing';
import type { JobKindName } from '@offload/jobs';
import { createQueueBackend, type Job, type JsonObject, Queue, UnrecoverableError } from '@offload/queue';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindCatalogHandler } from '../src/handlers/index.ts';
import { createTaskPool, type TaskPool } from '../src/pool.ts';
import { activeJob } from './fixtures/active-job.ts';
import { startWorkerChild } from './fixtures/worker-child.ts';

const logger = pino({ level: 'silent' });

function jobOf(kind: string, payload: unknown): Job {
  return activeJob(kind, payload);
}

for (const kind of testDatabases()) {
  describe(`rebuild handlers (${kind})`, () => {
    let t: TestDb;
    let pool: TaskPool;
    beforeAll(async () => {
      t = await createTestDb(kind);
      await seedDatabase(t.db, { models: 200, quiet: true });
      pool = createTaskPool({ threads: 1 });
    });
    afterAll(async () => {
      await pool?.close();
      await t?.destroy();
    });

    const run = (jobKind: JobKindName, payload: unknown, signal = new AbortController().signal) => {
      const progress: JsonObject[] = [];
      const handler = bindCatalogHandler(jobKind, { pool, db: t.db, loggerFor: () => logger });
      const result = Promise.resolve(
        handler({
          job: jobOf(jobKind, payload),
          signal,
          progress: async (update) => {
            progress.push(update);
          },
        }),
      );
      return { result, progress };
    };
    const version = async (family: string) => (await readCacheVersions(t.db.knex)).get(family) ?? 0;

    it('rebuild.kpi lands every snapshot as of the payload date with a new kpi version', async () => {
      const before = await version('kpi');
      const { result, progress } = run('rebuild.kpi', { asOf: '2025-12-31' });
      const done = (await result) as Record<string, unknown>;
      expect(done).toMatchObject({ asOf: '2025-12-31', version: before + 1 });
      expect(done.snapshots).toBeGreaterThan(1);
      expect(done.activeModels).toBeGreaterThan(100);
      expect(typeof done.durationMs).toBe('number');
      expect(progress).toEqual([{ stage: 'rebuilding', asOf: '2025-12-31' }]);
      const stored = await readKpiSnapshot(t.db);
      expect(stored!.version).toBe(before + 1);
      expect(JSON.parse(stored!.payload)).toMatchObject({
        asOf: '2025-12-31',
        activeModels: done.activeModels,
      });
      expect(stored!.key).toBe(kpiSnapshotKey());
    });

    it('rebuild.kpi defaults asOf to today (UTC)', async () => {
      const done = (await run('rebuild.kpi', {}).result) as Record<string, unknown>;
      expect(done.asOf).toBe(new Date().toISOString().slice(0, 10));
    });

    it('rebuild.kpi refuses an impossible date and unknown fields, as unrecoverable, before any work', async () => {
      const before = await version('kpi');
      for (const payload of [
        { asOf: '2026-02-30' },
        { asOf: '2026-1-5' },
        { asOf: '2026-01-01', extra: 1 },
      ]) {
        const { result, progress } = run('rebuild.kpi', payload);
        await expect(result).rejects.toBeInstanceOf(UnrecoverableError);
        expect(progress).toEqual([]);
      }
      await expect(run('rebuild.kpi', { asOf: '2026-02-30' }).result).rejects.toThrow(
        /invalid rebuild\.kpi payload at asOf/,
      );
      expect(await version('kpi')).toBe(before);
    });

    it('rebuild.compliance lands the report with a new compliance version', async () => {
      const before = await version('compliance');
      const { result, progress } = run('rebuild.compliance', {});
      const done = (await result) as Record<string, unknown>;
      expect(done).toMatchObject({ version: before + 1 });
      expect(done.regions).toBeGreaterThan(0);
      expect(progress).toEqual([{ stage: 'rebuilding' }]);
      const report = await readComplianceReport(t.db);
      expect(report).toMatchObject({ version: before + 1, computedAt: done.computedAt });
      expect(report!.regions).toHaveLength(done.regions as number);
      expect(report!.totals.required).toBeGreaterThan(0);
      await expect(run('rebuild.compliance', { force: true }).result).rejects.toBeInstanceOf(
        UnrecoverableError,
      );
    });

    it('an aborted job writes nothing', async () => {
      const kpiBefore = await version('kpi');
      const complianceBefore = await version('compliance');
      const controller = new AbortController();
      controller.abort(new Error('cancelled'));
      await expect(run('rebuild.kpi', {}, controller.signal).result).rejects.toThrow('cancelled');
      await expect(run('rebuild.compliance', {}, controller.signal).result).rejects.toThrow('cancelled');
      expect(await version('kpi')).toBe(kpiBefore);
      expect(await version('compliance')).toBe(complianceBefore);
    });

    it('a job aborted while its rebuild reads stops before writing', async () => {
      for (const jobKind of ['rebuild.kpi', 'rebuild.compliance'] as const) {
        const family = jobKind === 'rebuild.kpi' ? 'kpi' : 'compliance';
        const before = await version(family);
        const controller = new AbortController();
        // Cancelled as the rebuild's first statement runs: the handler has started its work.
        const stop = onQuery(() => controller.abort(new Error('cancelled mid-rebuild')));
        try {
          await expect(run(jobKind, {}, controller.signal).result).rejects.toThrow('cancelled mid-rebuild');
        } finally {
          stop();
        }
        expect(await version(family)).toBe(before);
      }
    });

    it('a worker process runs both kinds sent through the queue', async () => {
      const backend = await createQueueBackend(t.databaseUrl);
      await backend.start();
      const queue = new Queue(backend);
      const worker = await startWorkerChild({ databaseUrl: t.databaseUrl });
      try {
        const kpi = await queue.send('rebuild.kpi', { asOf: '2025-06-30' });
        const compliance = await queue.send('rebuild.compliance', {});
        const finished = (id: string) =>
          eventually(
            `job ${id} to finish`,
            async () => {
              const job = await queue.get(id);
              return job !== null && ['completed', 'failed'].includes(job.state) ? job : undefined;
            },
            20_000,
          );
        const kpiJob = await finished(kpi.job.id);
        const complianceJob = await finished(compliance.job.id);
        expect(kpiJob).toMatchObject({ state: 'completed', result: { asOf: '2025-06-30' } });
        expect(complianceJob).toMatchObject({ state: 'completed' });
        expect(JSON.parse((await readKpiSnapshot(t.db))!.payload).asOf).toBe('2025-06-30');
        expect((await readComplianceReport(t.db))!.version).toBe(
          (complianceJob.result as { version: number }).version,
        );
      } finally {
        await worker.kill();
        await backend.stop();
      }
    }, 60_000);
  });
}
