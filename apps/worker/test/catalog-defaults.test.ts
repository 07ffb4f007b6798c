// Jobs a worker process sends itself take the job catalog's options (lease, backoff, attempts),
// not the queue's, because its queue is built with the catalog's resolver (worker-process.ts):
// the debounced triggers (packages/jobs/src/triggers.ts) and the cron ticks of the default
// schedules and of metric sources, on both databases.
import { createTestDb, type TestDb, testDatabases } from '@offload/db/testing';
import { findJobKind, jobDefaultsOf, requestHealthAnalysis, requestKpiRebuild } from '@offload/jobs';
import { createQueueBackend, type Job, Queue, type QueueBackend } from '@offload/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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
  });
}
