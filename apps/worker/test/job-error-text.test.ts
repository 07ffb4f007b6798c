// A job's error is stored as text the database can hold, whatever the handler threw: a NUL (a CSV
// header can carry one into its error message) or half of a surrogate pair (where the runtime cuts
// a long message) made PostgreSQL refuse the write, and the job stayed active, on both databases.
import { Readable } from 'node:stream';
import { createTestDb, type TestDb, testDatabases } from '@offload/db/testing';
import { CsvFormatError, importCsv } from '@offload/imports';
import { createQueueBackend, Queue, type QueueBackend, UnrecoverableError, Worker } from '@offload/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

for (const kind of testDatabases()) {
  describe(`job error text (${kind})`, () => {
    let t: TestDb;
    let backend: QueueBackend;
    let worker: Worker;

    beforeAll(async () => {
      t = await createTestDb(kind);
      backend = await createQueueBackend(t.databaseUrl);
      await backend.start({ maintenance: false });
      worker = new Worker(backend, { pollIntervalMs: 100, shutdownTimeoutMs: 2000 });
      worker.register('probe.csv-header', async () => {
        // A header naming one NUL-holding column twice: the message repeats the name as it is.
        await importCsv(t.db, { entity: 'models', source: Readable.from(['a\u0000,a\u0000\n']) }).catch(
          (error: unknown) => {
            expect(error).toBeInstanceOf(CsvFormatError);
            throw new UnrecoverableError((error as Error).message);
          },
        );
      });
      worker.register('probe.long', async () => {
        throw new UnrecoverableError(`${'x'.repeat(3999)}\u{1F600} and more`);
      });
      await worker.start();
    });
    afterAll(async () => {
      await worker?.stop({ timeoutMs: 0 });
      await backend?.stop();
      await t?.destroy();
    });

    it('fails a job whose error holds a NUL or a surrogate pair cut in two', async () => {
      const queue = new Queue(backend);
      const sent = await Promise.all(
        ['probe.csv-header', 'probe.long'].map((name) => queue.send(name, {}, { maxAttempts: 1 })),
      );
      for (const { job } of sent) {
        const deadline = Date.now() + 20_000;
        let state = (await queue.get(job.id))?.state;
        while (state !== 'failed' && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          state = (await queue.get(job.id))?.state;
        }
        const stored = await queue.get(job.id);
        expect(stored?.state, job.kind).toBe('failed');
        expect(stored?.error?.message.includes('\u0000'), job.kind).toBe(false);
        expect(stored?.error?.message.isWellFormed(), job.kind).toBe(true);
      }
    });
  });
}
