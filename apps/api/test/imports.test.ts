// CSV imports through HTTP, on both databases: the upload is streamed into storage with the
// byte limit enforced while reading (413 mid-stream leaves nothing behind; a Content-Length above
// the limit is refused before a byte is read), multipart with one file, then the import.csv job
// run by the worker's handler through the queue runtime: good rows land, bad ones are reported
// by line in GET /v1/imports/:id, a re-import changes nothing, the upload is removed and a KPI
// rebuild is requested.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { createDb } from '@offload/db';
import { seedDatabase } from '@offload/db/seed';
import { testDatabases } from '@offload/db/testing';
import type { UploadStore } from '@offload/imports';
import { parseJobPayload } from '@offload/jobs';
import { Worker } from '@offload/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindHandler } from '../../worker/src/handlers/bind.ts';
import { importCsvHandler, readerUploadStore } from '../../worker/src/handlers/import-csv.ts';
import { createTaskPool, type TaskPool } from '../../worker/src/pool.ts';
import { claimJob, eventually, silentLogger, startTestApi, type TestApi } from './harness.ts';

const MAX_BYTES = 64 * 1024;
const MODELS_HEADER = 'external_id,name,region,team,risk_tier,owner_email,status';
const model = (id: string, name = `Model ${id}`) =>
  `${id},${name},NAM,NAM-CRD,tier1,owner@example.com,active`;

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  // biome-ignore lint/suspicious/noExplicitAny: response JSON the assertions walk into
  body: any;
  /** Body bytes the client had written when the answer came. */
  sent: number;
}

/**
 * POSTs a CSV with node:http, writing `chunk` until the server answers or `totalBytes` are sent
 * (chunked unless `contentLength` is declared; with `contentLength` and no bytes, only headers go).
 */
function streamUpload(
  base: string,
  path: string,
  key: string,
  options: { chunk: Buffer; totalBytes: number; contentLength?: number },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${key}`, 'content-type': 'text/csv' };
    if (options.contentLength !== undefined) headers['content-length'] = String(options.contentLength);
    const req = httpRequest(new URL(path, base), { method: 'POST', headers });
    let sent = 0;
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const sentWhenAnswered = sent;
      text(res).then(
        (body) =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: body === '' ? '' : JSON.parse(body),
            sent: sentWhenAnswered,
          }),
        reject,
      );
    });
    // The server closes the connection after a 413: writes after it may fail (EPIPE, reset).
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const pump = () => {
      while (!answered && sent < options.totalBytes) {
        sent += options.chunk.length;
        if (!req.write(options.chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered && options.totalBytes > 0) req.end();
    };
    if (options.totalBytes === 0) req.flushHeaders();
    else pump();
  });
}

/** `source` re-cut into 4 KiB pieces, holding back what lies past `gate.after` until `gate.open`. */
async function* gated(source: AsyncIterable<Buffer>, gate: { after: number; open: Promise<void> }) {
  let passed = 0;
  for await (const chunk of source) {
    for (let at = 0; at < chunk.length; at += 4096) {
      if (passed >= gate.after) await gate.open;
      const piece = chunk.subarray(at, at + 4096);
      passed += piece.length;
      yield piece;
    }
  }
}

function multipart(
  boundary: string,
  parts: Array<{ name: string; filename?: string; body: string }>,
): string {
  return `${parts
    .map(
      (part) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"` +
        `${part.filename === undefined ? '' : `; filename="${part.filename}"`}\r\n` +
        `${part.filename === undefined ? '' : 'Content-Type: text/csv\r\n'}\r\n${part.body}\r\n`,
    )
    .join('')}--${boundary}--\r\n`;
}

for (const kind of testDatabases()) {
  describe(`imports (${kind})`, () => {
    let api: TestApi;
    let directory: string;
    let alice: string;
    let bob: string;
    let reader: string;

    beforeAll(async () => {
      directory = mkdtempSync(join(tmpdir(), 'offload-api-uploads-'));
      api = await startTestApi(kind, { options: { maxUploadBytes: MAX_BYTES, uploadDirectory: directory } });
      await seedDatabase(api.testDb.db, { models: 2, quiet: true });
      alice = await api.key('alice', ['submit', 'read']);
      bob = await api.key('bob', ['submit', 'read']);
      reader = await api.key('alice', ['read']);
    });
    afterAll(async () => {
      await api?.close();
      rmSync(directory, { recursive: true, force: true });
    });

    const upload = (body: string, options: { key?: string; entity?: string; type?: string } = {}) =>
      api.request('POST', `/v1/imports?entity=${options.entity ?? 'models'}`, {
        key: options.key ?? alice,
        raw: body,
        headers: { 'content-type': options.type ?? 'text/csv' },
      });
    const uploadsLeft = async () => {
      const { knex } = api.testDb.db;
      const [uploads] = await knex('uploads').count({ n: '*' });
      const [chunks] = await knex('upload_chunks').count({ n: '*' });
      return { uploads: Number(uploads!.n), chunks: Number(chunks!.n), files: readdirSync(directory).length };
    };
    const storedText = (uploadId: string) => text(api.services.uploads.open(uploadId));

    it('stores a text/csv body and answers 202 with the queued import.csv job', async () => {
      const file = [MODELS_HEADER, model('U-1'), model('U-2')].join('\r\n');
      const res = await upload(file);
      expect(res.status).toBe(202);
      expect(res.headers.get('location')).toBe(`/v1/imports/${res.body.id}`);
      expect(res.headers.get('connection')).not.toBe('close');
      expect(res.body).toMatchObject({
        kind: 'import.csv',
        state: 'queued',
        entity: 'models',
        payload: { entity: 'models', uploadId: expect.any(String) },
        counts: { read: 0, inserted: 0, rejected: 0 },
        errors: [],
      });
      const { uploadId } = res.body.payload;
      expect(await storedText(uploadId)).toBe(file);
      expect(await api.services.uploads.stat(uploadId)).toMatchObject({
        entity: 'models',
        byteSize: Buffer.byteLength(file),
        completedAt: expect.any(String),
      });
      expect(api.services.uploads.kind).toBe(kind === 'postgres' ? 'postgres' : 'folder');
      const got = await api.request('GET', `/v1/imports/${res.body.id}`, { key: reader });
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({ id: res.body.id, state: 'queued', entity: 'models' });
      // Another owner cannot see it; a job of another kind is no import.
      expect((await api.request('GET', `/v1/imports/${res.body.id}`, { key: bob })).status).toBe(404);
      const echo = await api.request('POST', '/v1/jobs', {
        key: alice,
        body: { kind: 'system.echo', payload: { sleepMs: 0 } },
      });
      expect((await api.request('GET', `/v1/imports/${echo.body.id}`, { key: alice })).status).toBe(404);
      await api.services.uploads.delete(uploadId);
      await api.queue.cancel(res.body.id);
    });

    it('stores the one file of a multipart/form-data body, and refuses a second file', async () => {
      const file = [MODELS_HEADER, model('U-3', '"Quoted, with\r\n--a line"')].join('\r\n');
      const boundary = '----offload-test-boundary';
      const res = await upload(
        multipart(boundary, [
          { name: 'note', body: 'ignored field' },
          { name: 'file', filename: 'models.csv', body: file },
        ]),
        { type: `multipart/form-data; boundary=${boundary}` },
      );
      expect(res.status).toBe(202);
      expect(await storedText(res.body.payload.uploadId)).toBe(file);
      await api.services.uploads.delete(res.body.payload.uploadId);
      await api.queue.cancel(res.body.id);

      const before = await uploadsLeft();
      const two = await upload(
        multipart(boundary, [
          { name: 'a', filename: 'a.csv', body: file },
          { name: 'b', filename: 'b.csv', body: file },
        ]),
        { type: `multipart/form-data; boundary=${boundary}` },
      );
      expect(two.status).toBe(400);
      expect(two.body.errors).toEqual([
        { header: 'Content-Type', detail: 'the multipart body holds more than one file; send one' },
      ]);
      const none = await upload(multipart(boundary, [{ name: 'note', body: 'x' }]), {
        type: `multipart/form-data; boundary=${boundary}`,
      });
      expect(none.status).toBe(400);
      expect(await uploadsLeft()).toEqual(before);
    });

    it('refuses an upload mid-stream as soon as it passes the limit, and keeps nothing of it', async () => {
      const before = await uploadsLeft();
      const res = await streamUpload(api.url, '/v1/imports?entity=models', alice, {
        chunk: Buffer.alloc(16 * 1024, 'a'),
        totalBytes: 256 * 1024 * 1024,
      });
      expect(res.status).toBe(413);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers.connection).toBe('close');
      expect(res.body).toMatchObject({ status: 413, maxBytes: MAX_BYTES });
      // Answered long before the client was done sending.
      expect(res.sent).toBeLessThan(256 * 1024 * 1024);
      expect(await uploadsLeft()).toEqual(before);
    });

    it('refuses a declared Content-Length above the limit before reading the body', async () => {
      const before = await uploadsLeft();
      // Only the headers are sent: an answer proves the server did not wait for the body.
      const res = await streamUpload(api.url, '/v1/imports?entity=models', alice, {
        chunk: Buffer.alloc(0),
        totalBytes: 0,
        contentLength: MAX_BYTES + 1,
      });
      expect(res.status).toBe(413);
      expect(res.headers.connection).toBe('close');
      expect(res.body.detail).toMatch(/Content-Length 65537 is above it/);
      expect(await uploadsLeft()).toEqual(before);
    });

    it('is documented in the OpenAPI document', async () => {
      const doc = (await api.request('GET', '/v1/openapi.json')).body;
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/imports', '/v1/imports/{id}']));
      expect(Object.keys(doc.paths['/v1/imports'].post.requestBody.content)).toEqual([
        'text/csv',
        'multipart/form-data',
      ]);
    });

    it('refuses a bad entity, another media type, a missing key and a read-only key', async () => {
      const bad = await upload('x', { entity: 'teams' });
      expect(bad.status).toBe(400);
      expect(bad.body.errors).toEqual([
        { parameter: 'entity', detail: 'must be one of models, validations' },
      ]);
      const json = await upload('{}', { type: 'application/json' });
      expect(json.status).toBe(415);
      // Refused before the body was read: the connection closes rather than drain the body.
      expect(json.headers.get('connection')).toBe('close');
      expect((await api.request('POST', '/v1/imports?entity=models', { raw: 'x' })).status).toBe(401);
      expect((await upload('x', { key: reader })).status).toBe(403);
    });

    if (kind === 'postgres') {
      it('is imported by a worker that did not receive the upload: its own Db and store, no folder', async () => {
        const file = [MODELS_HEADER, model('R-1'), model('R-2')].join('\n');
        const res = await upload(file);
        expect(res.status).toBe(202);
        const workerDb = createDb({ databaseUrl: api.testDb.databaseUrl, poolMax: 2 });
        const pool = createTaskPool({ threads: 1 });
        try {
          const uploads = readerUploadStore(workerDb);
          expect(uploads.kind).toBe('postgres');
          const handler = bindHandler('import.csv', importCsvHandler({ uploads }), {
            pool,
            db: workerDb,
            loggerFor: () => silentLogger,
          });
          const { job, leaseToken } = await claimJob(api.backend, 'import.csv', res.body.id);
          const result = await handler({
            job,
            signal: new AbortController().signal,
            progress: async () => {},
          });
          expect(await api.backend.jobComplete({ id: job.id, leaseToken, result: result ?? null })).toEqual({
            stored: true,
          });
        } finally {
          await pool.close();
          await workerDb.destroy();
        }
        const done = (await api.request('GET', `/v1/imports/${res.body.id}`, { key: alice })).body;
        expect(done).toMatchObject({ state: 'completed', counts: { read: 2, inserted: 2, rejected: 0 } });
        expect(await uploadsLeft()).toMatchObject({ uploads: 0, chunks: 0 });
      });
    }

    describe('with a worker running import.csv', () => {
      let pool: TaskPool;
      let worker: Worker;
      /** The next upload opened is read in 4 KiB pieces that wait at `after` bytes until `open` resolves. */
      let gateNext: { after: number; open: Promise<void> } | undefined;
      /** The signal of the handler running last. */
      let lastSignal: AbortSignal | undefined;

      beforeAll(async () => {
        pool = createTaskPool({ threads: 1 });
        const stored = api.services.uploads;
        const uploads: UploadStore = {
          ...stored,
          open(id) {
            const gate = gateNext;
            gateNext = undefined;
            if (gate === undefined) return stored.open(id);
            return Readable.from(gated(stored.open(id), gate), { objectMode: false });
          },
        };
        const handler = importCsvHandler({ uploads, sender: api.queue });
        const bound = bindHandler('import.csv', handler, {
          pool,
          db: api.testDb.db,
          loggerFor: () => silentLogger,
        });
        worker = new Worker(api.backend, { concurrency: 1, pollIntervalMs: 50 });
        worker.register('import.csv', (context) => {
          lastSignal = context.signal;
          return bound(context);
        });
        await worker.start();
      });
      afterAll(async () => {
        await worker?.stop({ timeoutMs: 5000 });
        await pool?.close();
      });

      const finished = (id: string) =>
        eventually(`import ${id} to end`, async () => {
          const res = await api.request('GET', `/v1/imports/${id}`, { key: alice });
          return ['completed', 'failed', 'cancelled'].includes(res.body.state) ? res.body : undefined;
        });

      it('imports the good rows, reports the bad ones by line, and a re-import changes nothing', async () => {
        const file = [
          MODELS_HEADER,
          model('E-1'),
          'E-2,"Pricing, retail",EMEA,EMEA-PRC,tier2,someone@example.co.uk,retired',
          'E-3,Bad region,XX,NAM-CRD,tier1,owner@example.com,active',
          'E-4,"Two',
          'lines",NAM,NAM-CRD,tier1,not-an-email,active',
          model('E-5', '=1+2'),
        ].join('\r\n');
        const res = await upload(`\ufeff${file}\r\n`);
        expect(res.status).toBe(202);
        const done = await finished(res.body.id);
        expect(done).toMatchObject({
          state: 'completed',
          entity: 'models',
          counts: { read: 5, inserted: 3, updated: 0, unchanged: 0, rejected: 2 },
          errors: [
            { line: 4, reason: 'region "XX" is unknown' },
            { line: 5, reason: 'owner_email "not-an-email" is not an e-mail address' },
          ],
          result: { kpiRebuildJobId: expect.any(String) },
        });
        const rows = await api.testDb.db
          .knex('models')
          .where('external_id', 'like', 'E-%')
          .orderBy('external_id');
        expect(rows.map((r) => [r.external_id, r.name, r.status])).toEqual([
          ['E-1', 'Model E-1', 'active'],
          ['E-2', 'Pricing, retail', 'retired'],
          ['E-5', '=1+2', 'active'],
        ]);
        // The upload is gone; a debounced KPI rebuild waits for its window.
        await expect(api.services.uploads.stat(res.body.payload.uploadId)).rejects.toThrow(/upload/);
        const rebuild = await api.queue.get(done.result.kpiRebuildJobId);
        expect(rebuild).toMatchObject({ kind: 'rebuild.kpi', meta: { reason: `import.csv:${res.body.id}` } });

        const again = await finished((await upload(`\ufeff${file}\r\n`)).body.id);
        expect(again).toMatchObject({
          state: 'completed',
          counts: { read: 5, inserted: 0, updated: 0, unchanged: 3, rejected: 2 },
          result: { kpiRebuildJobId: null },
        });
        const after = await api.testDb.db
          .knex('models')
          .where('external_id', 'like', 'E-%')
          .orderBy('external_id');
        expect(after).toEqual(rows);
      });

      it('cancels an import mid-way: the batch committed stays, the rest is not imported, the upload goes', async () => {
        const rows = Array.from(
          { length: 1300 },
          (_, i) => `C-${i},M,NAM,NAM-CRD,tier1,o@example.com,active`,
        );
        const file = [MODELS_HEADER, ...rows].join('\n');
        expect(Buffer.byteLength(file)).toBeLessThan(MAX_BYTES);
        let release = () => {};
        // About 870 rows pass the gate: the first batch of 500 is written, the second cannot fill.
        gateNext = { after: 40 * 1024, open: new Promise<void>((resolve) => (release = resolve)) };
        const res = await upload(file);
        const id = res.body.id;
        const running = await eventually('the first batch', async () => {
          const view = (await api.request('GET', `/v1/imports/${id}`, { key: alice })).body;
          return view.counts.inserted >= 500 ? view : undefined;
        });
        expect(running).toMatchObject({ state: 'active', counts: { inserted: 500 } });
        expect(running.counts.bytes).toBeGreaterThan(0);

        const cancelled = await api.request('POST', `/v1/jobs/${id}/cancel`, { key: alice });
        expect(cancelled.body.state).toBe('cancelled');
        await eventually('the handler to hear of it', () => lastSignal?.aborted === true);
        release();
        await eventually('the upload to be removed', () =>
          api.services.uploads.stat(res.body.payload.uploadId).then(
            () => false,
            () => true,
          ),
        );
        const [{ n }] = await api.testDb.db
          .knex('models')
          .where('external_id', 'like', 'C-%')
          .count({ n: '*' });
        expect(Number(n)).toBe(500);
        const after = (await api.request('GET', `/v1/imports/${id}`, { key: alice })).body;
        expect(after).toMatchObject({ state: 'cancelled', result: null, counts: { inserted: 500 } });
      });

      it('imports validations referencing models by external_id', async () => {
        const file = [
          'model_external_id,kind,status,approved_on',
          'E-1,full,approved,2025-03-31',
          'E-1,interim,planned,',
          'E-404,full,approved,2025-01-01',
          'E-2,full,approved,2025-02-30',
        ].join('\n');
        const done = await finished((await upload(file, { entity: 'validations' })).body.id);
        expect(done).toMatchObject({ state: 'completed', counts: { read: 4, inserted: 2, rejected: 2 } });
        expect(done.errors.map((e: { line: number }) => e.line)).toEqual([4, 5]);
      });

      it('fails an import whose header is wrong, saying why, and removes its upload', async () => {
        const res = await upload('external_id;name;region\nX;y;z\n');
        const done = await finished(res.body.id);
        expect(done.state).toBe('failed');
        expect(done.attempts).toBe(1);
        expect(done.error.message).toMatch(/^the file cannot be imported: .*semicolons/);
        await expect(api.services.uploads.stat(res.body.payload.uploadId)).rejects.toThrow(/upload/);
      });
    });
  });
}

// The payload the API sends is the one the catalog accepts (the worker validates it again).
describe('import.csv payload', () => {
  it('needs an upload id and a known entity', () => {
    expect(() => parseJobPayload('import.csv', { uploadId: 'x', entity: 'models' })).toThrow(/uploadId/);
    expect(() =>
      parseJobPayload('import.csv', { uploadId: '9b2f8c0e-6a34-4c1e-9f0a-3f3f3f3f3f3f', entity: 'teams' }),
    ).toThrow(/entity/);
  });
});
