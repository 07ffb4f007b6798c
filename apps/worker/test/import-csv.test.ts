// The import.csv handler on both databases, with real upload stores: progress in bytes and rows,
// cancellation between batches (committed batches stay, the upload goes), a shutdown that keeps
// the upload so the next attempt completes the import idempotently, whole-file errors failing
// for good, and on PostgreSQL a worker with its own Db and store importing an upload another
// process stored (no shared folder).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createDb, type Db } from '@offload/db';
import { seedDatabase } from '@offload/db/seed';
import { createTestDb, type TestDb, testDatabases } from '@offload/db/testing';
import { createUploadStore, type UploadEntity, type UploadStore } from '@offload/imports';
import { type Job, JobAbortedError, type JsonObject, UnrecoverableError } from '@offload/queue';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bindHandler } from '../src/handlers/bind.ts';
import { importCsvHandler, readerUploadStore } from '../src/handlers/import-csv.ts';
import { createTaskPool, type TaskPool } from '../src/pool.ts';
import { activeJob } from './fixtures/active-job.ts';

const logger = pino({ level: 'silent' });
const MODELS_HEADER = 'external_id,name,region,team,risk_tier,owner_email,status';
const modelsFile = (count: number, prefix = 'W') =>
  [
    MODELS_HEADER,
    ...Array.from(
      { length: count },
      (_, i) => `${prefix}-${i},Model ${i},NAM,NAM-CRD,tier1,owner@example.com,active`,
    ),
  ].join('\n');

function importJob(uploadId: string, entity: UploadEntity, attempts = 1): Job {
  return activeJob('import.csv', { uploadId, entity }, { id: `job-${uploadId}`, attempts });
}

interface Sent {
  kind: string;
  meta: Record<string, string> | undefined;
}

for (const kind of testDatabases()) {
  describe(`import.csv handler (${kind})`, () => {
    let t: TestDb;
    let pool: TaskPool;
    let directory: string;
    let uploads: UploadStore;
    let sent: Sent[];

    beforeAll(async () => {
      t = await createTestDb(kind);
      await seedDatabase(t.db, { models: 2, quiet: true });
      pool = createTaskPool({ threads: 1 });
      directory = mkdtempSync(join(tmpdir(), 'offload-worker-uploads-'));
      uploads = createUploadStore(t.db, { maxBytes: 1 << 30, directory });
    });
    afterAll(async () => {
      await pool?.close();
      await t?.destroy();
      rmSync(directory, { recursive: true, force: true });
    });
    beforeEach(async () => {
      sent = [];
      await t.db.knex('models').where('external_id', 'like', 'W-%').delete();
    });

    const store = async (text: string, entity: UploadEntity = 'models', into = uploads) => {
      const writer = await into.create(entity);
      return (await writer.write(Readable.from([Buffer.from(text)]))).id;
    };
    const run = (
      uploadId: string,
      options: {
        signal?: AbortSignal;
        attempts?: number;
        db?: Db;
        store?: UploadStore;
        onProgress?: (p: JsonObject) => void;
      } = {},
    ) => {
      const progress: JsonObject[] = [];
      const handler = importCsvHandler({
        uploads: options.store ?? uploads,
        sender: {
          async send(kindName, _payload, sendOptions) {
            sent.push({ kind: kindName, meta: sendOptions.meta });
            return { job: { id: 'rebuild-1' }, created: true };
          },
        },
      });
      const bound = bindHandler('import.csv', handler, {
        pool,
        db: options.db ?? t.db,
        loggerFor: () => logger,
      });
      const result = Promise.resolve(
        bound({
          job: importJob(uploadId, 'models', options.attempts),
          signal: options.signal ?? new AbortController().signal,
          progress: async (update) => {
            progress.push(update);
            options.onProgress?.(update);
          },
        }),
      );
      return { result, progress };
    };
    const imported = async () =>
      Number((await t.db.knex('models').where('external_id', 'like', 'W-%').count({ n: '*' }))[0]!.n);
    const exists = (uploadId: string) =>
      uploads.stat(uploadId).then(
        () => true,
        () => false,
      );

    it("refuses, for good, to import another owner's upload", async () => {
      const writer = await uploads.create('models', { owner: 'alice' });
      const uploadId = (await writer.write(Readable.from([Buffer.from(modelsFile(3))]))).id;
      // The job's owner (null here, as the fixture's) is not the upload's.
      await expect(run(uploadId).result).rejects.toMatchObject({
        name: 'UnrecoverableError',
        message: `upload ${uploadId} was uploaded by another owner`,
      });
      expect(await imported()).toBe(0);
      // The upload stays its owner's: a refused job must not destroy it.
      expect(await exists(uploadId)).toBe(true);
      await uploads.delete(uploadId);
    });

    it('imports, reports progress in bytes and rows, requests a KPI rebuild and removes the upload', async () => {
      const file = modelsFile(1200);
      const uploadId = await store(file);
      const { result, progress } = run(uploadId);
      await expect(result).resolves.toMatchObject({
        entity: 'models',
        uploadId,
        bytes: Buffer.byteLength(file),
        read: 1200,
        inserted: 1200,
        rejected: 0,
        errors: [],
        kpiRebuildJobId: 'rebuild-1',
      });
      expect(await imported()).toBe(1200);
      expect(progress.at(-1)).toMatchObject({
        stage: 'importing',
        bytes: Buffer.byteLength(file),
        rows: 1200,
      });
      expect(sent).toEqual([{ kind: 'rebuild.kpi', meta: { reason: `import.csv:job-${uploadId}` } }]);
      expect(await exists(uploadId)).toBe(false);
      if (kind === 'sqlite') expect(readdirSync(directory)).toEqual([]);
    });

    it('stops between batches when cancelled: committed batches stay, the upload goes', async () => {
      const controller = new AbortController();
      const uploadId = await store(modelsFile(5000));
      const { result } = run(uploadId, {
        signal: controller.signal,
        // The first progress comes after the first batch is committed.
        onProgress: () => controller.abort(new JobAbortedError('cancelled', `job-${uploadId}`)),
      });
      const error = await result.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(JobAbortedError);
      expect((error as JobAbortedError).reason).toBe('cancelled');
      const count = await imported();
      expect(count).toBeGreaterThanOrEqual(500);
      expect(count).toBeLessThan(5000);
      expect(count % 500).toBe(0);
      expect(await exists(uploadId)).toBe(false);
      expect(sent).toEqual([]);
    });

    it('keeps the upload when the worker shuts down, and the next attempt completes the import', async () => {
      const controller = new AbortController();
      const uploadId = await store(modelsFile(3000));
      const first = run(uploadId, {
        signal: controller.signal,
        onProgress: () => controller.abort(new JobAbortedError('shutdown', `job-${uploadId}`)),
      });
      await expect(first.result).rejects.toMatchObject({ reason: 'shutdown' });
      const committed = await imported();
      expect(committed).toBeLessThan(3000);
      expect(await exists(uploadId)).toBe(true);

      const second = run(uploadId, { attempts: 2 });
      await expect(second.result).resolves.toMatchObject({
        read: 3000,
        inserted: 3000 - committed,
        unchanged: committed,
      });
      expect(await imported()).toBe(3000);
      expect(await exists(uploadId)).toBe(false);
    });

    it('fails for good, saying why, on an empty file, a wrong header or a wrong delimiter', async () => {
      const cases: Array<[string, RegExp]> = [
        ['', /^the file cannot be imported: the file is empty/],
        ['external_id,name\nW-1,x\n', /^the file cannot be imported: wrong header: missing region/],
        [MODELS_HEADER.replaceAll(',', ';'), /^the file cannot be imported: .*semicolons/],
      ];
      for (const [file, message] of cases) {
        const uploadId = await store(file);
        const error = await run(uploadId).result.catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(UnrecoverableError);
        expect((error as Error).message).toMatch(message);
        expect(await exists(uploadId)).toBe(false);
      }
      expect(await imported()).toBe(0);
    });

    it('fails for good when the upload is gone', async () => {
      const error = await run('0b6c5b55-1d7e-4b59-9e62-0d0c1a2b3c4d').result.catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(UnrecoverableError);
      expect((error as Error).message).toMatch(/is gone/);
    });

    if (kind === 'postgres') {
      it('imports an upload another process stored, with its own Db and store (no shared folder)', async () => {
        const apiDb = createDb({ databaseUrl: t.databaseUrl, poolMax: 2 });
        const workerDb = createDb({ databaseUrl: t.databaseUrl, poolMax: 2 });
        try {
          // Small chunks: the file is stored as many upload_chunks rows.
          const apiStore = createUploadStore(apiDb, { maxBytes: 1 << 20, chunkBytes: 4096 });
          const workerStore = readerUploadStore(workerDb);
          expect([apiStore.kind, workerStore.kind]).toEqual(['postgres', 'postgres']);
          const uploadId = await store(modelsFile(700), 'models', apiStore);
          const { result } = run(uploadId, { db: workerDb, store: workerStore });
          await expect(result).resolves.toMatchObject({ read: 700, inserted: 700 });
          expect(await imported()).toBe(700);
          await expect(apiStore.stat(uploadId)).rejects.toThrow(/upload/);
        } finally {
          await apiDb.destroy();
          await workerDb.destroy();
        }
      });
    }
  });
}
