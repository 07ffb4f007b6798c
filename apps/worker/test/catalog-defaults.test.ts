// Jobs a worker process sends itself take the job catalog's options (lease, backoff, attempts),
// not the queue's, because its queue is built with the catalog's resolver (worker-process.ts):
// the debounced triggers (packages/jobs/src/triggers.ts) and the cron ticks of the default
// schedules (default-schedules.ts) and of metric sources, on both databases. (The API's routes
// are covered by apps/api's tests; its queue is built with the same resolver, main.ts.)
import { createTestDb, type TestDb, testDatabases } from '@offload/db/testing';
import { findJobKind, jobDefaultsOf, requestHealthAnalysis, requestKpiRebuild } from '@offload/jobs';
import { createQueueBackend, type Job, Queue, type QueueBackend } from '@offload/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDefaultSchedules, DEFAULT_SCHEDULES } from '../src/default-schedules.ts';

function catalogOptions(kind: string) {
  const { priority, maxAttempts, backoff, leaseSeconds } = findJobKind(kind)!.defaults;
  return { priority, maxAttempts, backoff, leaseSeconds };
}

function optionsOf(job: Job) {
  const { priority, maxAttempts, backoff, leaseSeconds } = job;
  return { priority, maxAttempts, backoff, leaseSeconds };
}

for (const kind of testDatabases()) {
  describe(`sends with the catalog's options (${kind})`, () => {
    let t: TestDb;
    let backend: QueueBackend;
    let queue: Queue;

    beforeAll(async () => {
      t = await createTestDb(kind);
      backend = await createQueueBackend(t.databaseUrl, { defaults: jobDefaultsOf });
      await backend.start();
      queue = new Queue(backend);
    });
    afterAll(async () => {
      await backend?.stop();
      await t?.destroy();
    });

    it('a debounced KPI rebuild and health analysis (triggers.ts)', async () => {
      const kpi = await requestKpiRebuild(queue, 'test');
      const health = await requestHealthAnalysis(queue, 'test', { modelIds: [1, 2] });
      const kpiJob = (await queue.get(kpi.jobId))!;
      const healthJob = (await queue.get(health.jobId))!;
      expect(optionsOf(kpiJob)).toEqual(catalogOptions('rebuild.kpi'));
      expect(kpiJob.leaseSeconds).toBe(120);
      expect(optionsOf(healthJob)).toEqual(catalogOptions('analyze.health'));
    });

    it('the cron ticks of the default schedules and of a metric source (options left to the catalog)', async () => {
      await applyDefaultSchedules({ db: t.db, queue: backend });
      // As the API saves a metric source's schedule (routes/metric-sources.ts): no options.
      await backend.scheduleUpsert({
        name: 'metric-source:1',
        cron: '*/5 * * * *',
        timezone: 'UTC',
        kind: 'collect.metrics',
        payload: { sourceId: 1 },
        options: {},
      });
      const fired = await backend.scheduleFireDue(new Date(Date.now() + 2 * 86_400_000));
      expect(fired.map((job) => job.kind).sort()).toEqual(
        [...DEFAULT_SCHEDULES.map((s) => s.kind), 'collect.metrics'].sort(),
      );
      for (const job of fired) {
        expect(optionsOf(job)).toEqual(catalogOptions(job.kind));
        expect(optionsOf((await queue.get(job.id))!)).toEqual(catalogOptions(job.kind));
      }
    });
  });
}
