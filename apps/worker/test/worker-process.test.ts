// End to end, on both databases: a real worker process (apps/worker/src/main.ts) runs jobs sent
// through the queue backend: an echo completes with its payload, a failing one ends failed after
// its attempts, an invalid payload fails at once, a running job is cancelled, and on SIGTERM a
// long job is released and then completed by a second worker process.
import { Readable } from 'node:stream';
import { listLiveWorkers } from '@offload/db';
import { createTestDb, eventually, type TestDb, testDatabases } from '@offload/db/testing';
import { createUploadStore } from '@offload/imports';
import { jobKindNames } from '@offload/jobs';
import { createQueueBackend, type Job, Queue, type QueueBackend } from '@offload/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerChild, type WorkerChild } from './fixtures/worker-child.ts';

const SHUTDOWN_TIMEOUT_MS = 300;

for (const kind of testDatabases()) {
  describe(`worker process (${kind})`, () => {
    let t: TestDb;
    let backend: QueueBackend;
    let queue: Queue;
    const children: WorkerChild[] = [];

    const startWorker = async (): Promise<WorkerChild> => {
      const child = await startWorkerChild({
        databaseUrl: t.databaseUrl,
        env: { WORKER_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) },
      });
      children.push(child);
      return child;
    };

    const jobIn = (id: string, states: ReadonlyArray<Job['state']>, timeoutMs = 20_000): Promise<Job> => {
      let last: Job | null = null;
      return eventually(
        () => `job ${id} to be ${states.join(' or ')}; it is ${JSON.stringify(last)}`,
        async () => {
          last = await queue.get(id);
          return last !== null && states.includes(last.state) ? last : undefined;
        },
        timeoutMs,
      );
    };

    const metricsText = async (worker: WorkerChild): Promise<string> =>
      (await fetch(worker.url('/metrics'))).text();

    let worker: WorkerChild;

    beforeAll(async () => {
      t = await createTestDb(kind);
      backend = await createQueueBackend(t.databaseUrl);
      await backend.start();
      queue = new Queue(backend);
      worker = await startWorker();
    });

    afterAll(async () => {
      await Promise.all(children.map((child) => child.kill()));
      await backend?.stop();
      await t?.destroy();
    });

    it('serves health, readiness and metrics, and registers itself', async () => {
      expect((await fetch(worker.url('/healthz'))).status).toBe(200);
      const ready = await fetch(worker.url('/readyz'));
      expect(await ready.json()).toMatchObject({ status: 'ready' });
      expect(ready.status).toBe(200);
      expect(await metricsText(worker)).toMatch(/^offload_worker_pool_capacity_threads 1$/m);
      const [row] = await listLiveWorkers(t.db);
      expect(row).toMatchObject({
        pid: worker.child.pid,
        concurrency: 4,
        running: 0,
        kinds: jobKindNames(),
      });
    });

    it('runs system.echo to completion with its payload as the result, logging its request id', async () => {
      const payload = { sleepMs: 20, cpuMs: 30 };
      const { job } = await queue.send('system.echo', payload, { meta: { requestId: 'req-echo-1' } });
      const done = await jobIn(job.id, ['completed', 'failed']);
      expect(done).toMatchObject({ state: 'completed', result: payload, attempts: 1, error: null });
      expect(done.progress).toEqual({ stage: 'burning', cpuMs: 30 });

      const line = await worker.waitForLog((l) => l.jobId === job.id && l.msg === 'job completed');
      expect(line).toMatchObject({ requestId: 'req-echo-1', kind: 'system.echo', outcome: 'completed' });
      expect(await metricsText(worker)).toMatch(
        /^offload_worker_jobs_total\{kind="system.echo",state="completed"\} 1$/m,
      );
    });

    it('fails a job that asks to fail after its attempts, and an invalid payload at once', async () => {
      const { job: failing } = await queue.send(
        'system.echo',
        { sleepMs: 0, fail: true },
        { maxAttempts: 2, backoff: { baseMs: 10, maxMs: 20 } },
      );
      const failed = await jobIn(failing.id, ['failed', 'completed']);
      expect(failed).toMatchObject({ state: 'failed', attempts: 2 });
      expect(failed.error).toMatchObject({ kind: 'EchoFailureRequested' });

      const { job: invalid } = await queue.send('system.echo', { sleepMs: 'soon' }, { maxAttempts: 3 });
      const refused = await jobIn(invalid.id, ['failed', 'completed']);
      expect(refused).toMatchObject({ state: 'failed', attempts: 1 });
      expect(refused.error).toMatchObject({ kind: 'UnrecoverableError' });
      expect(refused.error!.message).toMatch(/^invalid system.echo payload at sleepMs/);

      const text = await metricsText(worker);
      expect(text).toMatch(/^offload_worker_jobs_total\{kind="system.echo",state="failed"\} 2$/m);
      expect(text).toMatch(/^offload_worker_job_attempts_total\{kind="system.echo",outcome="retrying"\} 1$/m);
    });

    it('stops a running job when it is cancelled, and goes on with the next', async () => {
      const { job } = await queue.send('system.echo', { sleepMs: 60_000 });
      await jobIn(job.id, ['active']);
      await queue.cancel(job.id);
      await worker.waitForLog((l) => l.jobId === job.id && l.msg === 'job cancelled while running');
      expect((await queue.get(job.id))?.state).toBe('cancelled');

      const { job: next } = await queue.send('system.echo', { sleepMs: 0 });
      expect((await jobIn(next.id, ['completed', 'failed'])).state).toBe('completed');
      expect(await metricsText(worker)).toMatch(/^offload_worker_jobs_running\{kind="system.echo"\} 0$/m);
    });

    it('removes the upload of an import cancelled before it ran', async () => {
      const uploads = createUploadStore(t.db, { maxBytes: 1024 * 1024 });
      const writer = await uploads.create('models');
      await writer.write(Readable.from(['external_id,name,region,team,risk_tier,owner_email,status\n']));
      const runAt = new Date(Date.now() + 3_600_000).toISOString();
      const { job } = await queue.send('import.csv', { uploadId: writer.id, entity: 'models' }, { runAt });
      await queue.cancel(job.id);
      await worker.waitForLog((l) => l.jobId === job.id && l.uploadId === writer.id);
      await expect(uploads.stat(writer.id)).rejects.toThrow(/not found/);
    });

    // Two worker processes start one after the other: more than vitest's 5 s on a loaded machine.
    it('on SIGTERM releases a long job, which a second worker then completes', {
      timeout: 60_000,
    }, async () => {
      const payload = { sleepMs: 1_500 };
      const { job } = await queue.send('system.echo', payload);
      await jobIn(job.id, ['active']);

      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      await worker.waitForLog((l) => l.jobId === job.id && l.msg === 'job released on shutdown');
      const released = await queue.get(job.id);
      expect(released).toMatchObject({ state: 'queued', attempts: 0 });
      expect(await listLiveWorkers(t.db)).toEqual([]);

      const second = await startWorker();
      const done = await jobIn(job.id, ['completed', 'failed']);
      expect(done).toMatchObject({ state: 'completed', result: payload, attempts: 1 });
      await second.waitForLog((l) => l.jobId === job.id && l.msg === 'job completed');

      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    });

    it('takes a SIGINT and the SIGTERM passed on right after it as one request to drain', async () => {
      const worker = await startWorker();
      const { job } = await queue.send('system.echo', { sleepMs: 300 });
      await jobIn(job.id, ['active']);
      // A terminal's Ctrl-C on `npm run worker`: the worker's own SIGINT, then the runner's copy.
      worker.child.kill('SIGINT');
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      expect((await queue.get(job.id))?.state).not.toBe('active');
      expect(
        worker.logs.some((l) => l.msg === 'second signal: exiting without waiting for running jobs'),
      ).toBe(false);
    });
  });
}
