// Upload storage on both shapes: the folder store on SQLite, chunks in PostgreSQL. Uploads
// round-trip byte for byte in small chunks, the byte limit stops the writer while it reads and
// leaves nothing behind, and deleting or purging removes rows and files.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { NotFoundError } from '@offload/db';
import { createTestDb, type TestDb, testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startUploadPurge } from '../src/purge.ts';
import {
  createUploadStore,
  DEFAULT_UPLOAD_DIRECTORY,
  defaultUploadDirectory,
  type UploadStore,
  UploadTooLargeError,
} from '../src/storage.ts';

const CHUNK_BYTES = 1000;

/** `count` pieces of `size` bytes, recording how many were pulled. */
function pieces(count: number, size: number) {
  const state = { pulled: 0 };
  async function* generate() {
    for (let i = 0; i < count; i += 1) {
      state.pulled += 1;
      yield Buffer.alloc(size, 97 + (i % 26));
    }
  }
  return { state, source: Readable.from(generate(), { objectMode: false }) };
}

for (const kind of testDatabases()) {
  describe(kind, () => {
    let t: TestDb;
    let directory: string;
    let store: UploadStore;

    beforeAll(async () => {
      t = await createTestDb(kind);
      directory = mkdtempSync(join(tmpdir(), 'offload-uploads-'));
      store = createUploadStore(t.db, { maxBytes: 10_000, directory, chunkBytes: CHUNK_BYTES });
    });
    afterAll(async () => {
      await t?.destroy();
      rmSync(directory, { recursive: true, force: true });
    });
    beforeEach(async () => {
      for (const { id } of await t.db.knex('uploads').select('id')) await store.delete(id);
    });

    const leftovers = async () => ({
      uploads: Number((await t.db.knex('uploads').count({ n: '*' }))[0]!.n),
      chunks: Number((await t.db.knex('upload_chunks').count({ n: '*' }))[0]!.n),
      files: readdirSync(directory).length,
    });

    it('picks the store of the shape', () => {
      expect(store.kind).toBe(kind === 'postgres' ? 'postgres' : 'folder');
    });

    it('puts the folder store beside the SQLite file by default', () => {
      const expected =
        kind === 'sqlite'
          ? join(dirname(t.databaseUrl.slice('sqlite:'.length)), 'uploads')
          : DEFAULT_UPLOAD_DIRECTORY;
      expect(defaultUploadDirectory(t.db)).toBe(expected);
    });

    it('stores an upload in pieces and streams it back byte for byte', async () => {
      const writer = await store.create('models');
      expect((await store.stat(writer.id)).completedAt).toBeNull();
      const body = 'external_id,name\n' + 'x'.repeat(3500) + '\nlast line\n';
      const info = await writer.write(Readable.from(body.match(/[\s\S]{1,333}/g)!));
      expect(info).toMatchObject({ id: writer.id, entity: 'models', byteSize: Buffer.byteLength(body) });
      expect(info.completedAt).toMatch(/Z$/);
      expect(await text(store.open(writer.id))).toBe(body);
      const left = await leftovers();
      if (kind === 'postgres') expect(left.chunks).toBe(Math.ceil(Buffer.byteLength(body) / CHUNK_BYTES));
      else expect(left.files).toBe(1);
      await store.delete(writer.id);
      expect(await leftovers()).toEqual({ uploads: 0, chunks: 0, files: 0 });
      await expect(store.stat(writer.id)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('refuses an upload past the limit while reading it, and keeps nothing of it', async () => {
      const { state, source } = pieces(100, 700);
      const writer = await store.create('validations');
      const error = await writer.write(source).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(UploadTooLargeError);
      expect((error as UploadTooLargeError).maxBytes).toBe(10_000);
      // Stopped just past 10,000 bytes, not at the end of the 70,000-byte source.
      expect(state.pulled).toBeLessThan(20);
      expect(source.destroyed).toBe(false);
      expect(await leftovers()).toEqual({ uploads: 0, chunks: 0, files: 0 });
    });

    it('takes a per-upload limit', async () => {
      const writer = await store.create('models', { maxBytes: 100 });
      await expect(writer.write(pieces(2, 60).source)).rejects.toBeInstanceOf(UploadTooLargeError);
      const exact = await store.create('models', { maxBytes: 120 });
      expect((await exact.write(pieces(2, 60).source)).byteSize).toBe(120);
    });

    it('removes a partial upload when the source fails', async () => {
      async function* failing() {
        yield Buffer.alloc(2500, 120);
        throw new Error('client went away');
      }
      const writer = await store.create('models');
      await expect(writer.write(failing())).rejects.toThrow('client went away');
      expect(await leftovers()).toEqual({ uploads: 0, chunks: 0, files: 0 });
    });

    it('refuses to open an unknown or incomplete upload', async () => {
      await expect(text(store.open('no-such-upload'))).rejects.toBeInstanceOf(NotFoundError);
      const writer = await store.create('models');
      await expect(text(store.open(writer.id))).rejects.toBeInstanceOf(NotFoundError);
      await writer.abort();
      expect(await leftovers()).toEqual({ uploads: 0, chunks: 0, files: 0 });
    });

    it('purges incomplete uploads older than a cut-off, and only those', async () => {
      const stale = await store.create('models');
      const done = await store.create('models');
      await done.write(Readable.from(['a,b\n']));
      expect(await store.purgeIncomplete(new Date(Date.now() + 60_000))).toBe(1);
      await expect(store.stat(stale.id)).rejects.toBeInstanceOf(NotFoundError);
      expect((await store.stat(done.id)).byteSize).toBe(4);
      expect(await store.purgeIncomplete(new Date(Date.now() - 60_000))).toBe(0);
    });

    it('sweeps incomplete uploads past their maximum age, and complete ones long forgotten', async () => {
      const stale = await store.create('validations');
      const forgotten = await store.create('models');
      await forgotten.write(Readable.from(['a,b\n']));
      const at = { now: Date.now() };
      const purge = startUploadPurge(store, {
        intervalMs: 60_000,
        maxAgeMs: 1000,
        completeMaxAgeMs: 5000,
        now: () => at.now,
      });
      try {
        expect(await purge.sweep()).toBe(0);
        at.now += 2000;
        expect(await purge.sweep()).toBe(1);
        await expect(store.stat(stale.id)).rejects.toBeInstanceOf(NotFoundError);
        expect((await store.stat(forgotten.id)).byteSize).toBe(4);
        at.now += 5000;
        expect(await purge.sweep()).toBe(1);
        await expect(store.stat(forgotten.id)).rejects.toBeInstanceOf(NotFoundError);
        expect(await leftovers()).toEqual({ uploads: 0, chunks: 0, files: 0 });
      } finally {
        await purge.stop();
      }
    });
  });
}
