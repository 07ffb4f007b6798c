// The autoscaling signal on both databases: jobs that could run now apart from those waiting
// for a later runAt, per kind, through the queue's public surface, and as worker metrics.
import { createTestDb, type TestDb, testDatabases } from '@offload/db/testing';
import { createQueueBackend, Queue, type QueueBackend } from '@offload/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkerMetrics } from '../src/metrics.ts';
import { countReadyJobs, readyJobsSampler } from '../src/ready-jobs.ts';

const ECHO = 'system.echo';
const IDLE_POOL = { threads: 1, capacity: 1, busy: 0, waiting: 0, utilization: 0 };

for (const kind of testDatabases()) {
  describe(`ready jobs (${kind})`, () => {
    let t: TestDb;
    let backend: QueueBackend;
    let queue: Queue;

    beforeAll(async () => {
      t = await createTestDb(kind);
      backend = await createQueueBackend(t.databaseUrl);
      await backend.start({ maintenance: false });
      queue = new Queue(backend);
    });
    afterAll(async () => {
      await backend?.stop();
      await t?.destroy();
    });

    it('counts the jobs that could run now apart from the scheduled ones', async () => {
      // A kind with no job at all has no figures.
      expect((await countReadyJobs(queue)).find((k) => k.kind === ECHO)).toBeUndefined();
      const later = new Date(Date.now() + 3_600_000).toISOString();
      for (let i = 0; i < 3; i++) await queue.send(ECHO, { sleepMs: 0 });
      for (let i = 0; i < 2; i++) await queue.send(ECHO, { sleepMs: 0 }, { runAt: later });
      // Only scheduled work in a kind counts none ready.
      await queue.send('rebuild.compliance', {}, { runAt: later });

      const counts = await countReadyJobs(queue);
      expect(counts.find((k) => k.kind === ECHO)).toEqual({
        kind: ECHO,
        ready: 3,
        scheduled: 2,
        capped: false,
      });
      expect(counts.find((k) => k.kind === 'rebuild.compliance')).toMatchObject({ ready: 0, scheduled: 1 });

      const metrics = createWorkerMetrics({
        kinds: [ECHO],
        poolStats: () => IDLE_POOL,
        readyJobs: readyJobsSampler(queue),
      });
      const text = await metrics.render();
      expect(text).toMatch(/^offload_queue_ready_jobs\{kind="system\.echo"\} 3$/m);
      expect(text).toMatch(/^offload_queue_scheduled_jobs\{kind="system\.echo"\} 2$/m);
      expect(text).toMatch(/^offload_queue_scheduled_jobs\{kind="rebuild\.compliance"\} 1$/m);
    });

    it('stays exact past the thousand waiting jobs the old scan stopped at', async () => {
      const kind = 'rebuild.kpi';
      const later = new Date(Date.now() + 3_600_000).toISOString();
      await queue.sendMany(Array.from({ length: 1500 }, () => ({ kind, payload: {} })));
      await queue.sendMany(Array.from({ length: 1200 }, () => ({ kind, payload: {}, runAt: later })));
      expect((await countReadyJobs(queue)).find((k) => k.kind === kind)).toEqual({
        kind,
        ready: 1500,
        scheduled: 1200,
        capped: false,
      });
    });
  });
}
