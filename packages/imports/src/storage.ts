// Upload storage: where an uploaded CSV waits between the API that received it and the worker
// that imports it. Every upload has a row in `uploads` (entity, size, completed_at) whatever the
// store; the bytes go either
// - to a local folder (the embedded SQLite shape: API and worker share one machine), written
//   as `<id>.part` and renamed to `<id>.csv` once complete, or
// - into PostgreSQL's `upload_chunks` as 256 KiB rows (the scaled shape: a worker on another
//   machine streams them back).
// Both stream in and out a chunk at a time, never holding the file.
//
// Life of an upload: create() writes the row (completed_at null) → the writer reads the source,
// enforcing the byte limit as the bytes arrive, then sets byte_size and completed_at → a job
// open()s it → the caller delete()s it when the job has ended. A writer that fails or passes
// the limit removes what it wrote; an upload left incomplete by a crash is removed by
// purgeIncomplete().

import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open as openFile, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { type Db, NotFoundError, rawRows } from '@offload/db';

export const UPLOAD_ENTITIES = ['models', 'validations'] as const;
export type UploadEntity = (typeof UPLOAD_ENTITIES)[number];

export interface UploadInfo {
  id: string;
  entity: UploadEntity;
  /** Bytes stored; 0 until the upload is complete. */
  byteSize: number;
  createdAt: string;
  /** When the last byte was stored; null while the upload is being written. */
  completedAt: string | null;
  /** Who uploaded it (the API key's owner); only they may import it. Null when not recorded. */
  owner: string | null;
}

/** The source passed the byte limit: nothing of it is kept. The API answers 413. */
export class UploadTooLargeError extends Error {
  readonly maxBytes: number;

  constructor(maxBytes: number) {
    super(`the upload is larger than the limit of ${maxBytes} bytes`);
    this.name = 'UploadTooLargeError';
    this.maxBytes = maxBytes;
  }
}

export type ByteSource = Readable | AsyncIterable<Uint8Array | string>;

export interface UploadWriter {
  readonly id: string;
  /**
   * Stores `source` to its end and marks the upload complete. Past `maxBytes` it stops reading,
   * removes what it stored and throws UploadTooLargeError; on any other failure (the source
   * erred, the database failed) it removes what it stored and rethrows. It never destroys a
   * Readable source: the caller decides what becomes of it (the API answers 413, then closes).
   */
  write(source: ByteSource): Promise<UploadInfo>;
  /** Removes the upload without writing it (the request was refused before reading). */
  abort(): Promise<void>;
}

export interface UploadStore {
  readonly kind: 'folder' | 'postgres';
  /** Creates an empty, incomplete upload. `maxBytes` overrides the store's limit; `owner` is recorded. */
  create(entity: UploadEntity, options?: { maxBytes?: number; owner?: string }): Promise<UploadWriter>;
  /** The bytes of a complete upload; the stream errs with NotFoundError if there is none. */
  open(id: string): Readable;
  /** Throws NotFoundError for an unknown id. */
  stat(id: string): Promise<UploadInfo>;
  /** Removes the upload, complete or not; nothing happens if it does not exist. */
  delete(id: string): Promise<void>;
  /** Removes uploads still incomplete that were created before `before`; returns how many. */
  purgeIncomplete(before: Date): Promise<number>;
  /**
   * Removes complete uploads stored before `before`; returns how many. Their job normally deletes
   * them when it ends; this catches those whose job never ran (cancelled while queued).
   */
  purgeCompleted(before: Date): Promise<number>;
}

export interface UploadStoreOptions {
  /** The largest upload accepted, in bytes (MAX_UPLOAD_BYTES). */
  maxBytes: number;
  /**
   * Folder store: where the files go. Default: an `uploads` folder beside the SQLite file, so
   * every process sharing the database shares the folder (`./data/uploads` for `:memory:`).
   */
  directory?: string;
  /**
   * PostgreSQL store: bytes per `upload_chunks` row. Default 256 KiB: a chunk read back arrives as
   * hex text twice its size, and with 1 MiB chunks storing then reading 1 GB peaked at 160 and
   * 213 MB RSS (glibc keeps the freed multi-megabyte blocks), against 113 and 148 MB.
   */
  chunkBytes?: number;
  /** Which store; by default the folder for SQLite and PostgreSQL for PostgreSQL. */
  kind?: UploadStore['kind'];
}

export const DEFAULT_UPLOAD_DIRECTORY = './data/uploads';
export const DEFAULT_CHUNK_BYTES = 256 * 1024;
const READ_BYTES = 256 * 1024;

// uploads: insert an incomplete upload. Params: id, entity, created_at, owner.
const INSERT_UPLOAD = 'INSERT INTO uploads (id, entity, byte_size, created_at, owner) VALUES (?, ?, 0, ?, ?)';
// uploads: mark complete once, with its size. Params: byte_size, completed_at, id.
const COMPLETE_UPLOAD =
  'UPDATE uploads SET byte_size = ?, completed_at = ? WHERE id = ? AND completed_at IS NULL';
// uploads: one upload's metadata. Params: id.
const SELECT_UPLOAD =
  'SELECT id, entity, byte_size, created_at, completed_at, owner FROM uploads WHERE id = ?';
// uploads: remove one (its chunks go by ON DELETE CASCADE). Params: id.
const DELETE_UPLOAD = 'DELETE FROM uploads WHERE id = ?';
// uploads: incomplete ones older than a cut-off, for the purge. Params: created_at cut-off.
const SELECT_STALE_UPLOADS = 'SELECT id FROM uploads WHERE completed_at IS NULL AND created_at < ?';
// uploads: complete ones stored before a cut-off, for the purge of forgotten ones. Params: cut-off.
const SELECT_OLD_COMPLETE_UPLOADS =
  'SELECT id FROM uploads WHERE completed_at IS NOT NULL AND completed_at < ?';
// upload_chunks: append one chunk. Params: upload_id, seq, data.
const INSERT_CHUNK = 'INSERT INTO upload_chunks (upload_id, seq, data) VALUES (?, ?, ?)';
// upload_chunks: one chunk by position. Params: upload_id, seq.
const SELECT_CHUNK = 'SELECT data FROM upload_chunks WHERE upload_id = ? AND seq = ?';

/** The store that fits the database's shape (see UploadStoreOptions.kind). */
export function createUploadStore(db: Db, options: UploadStoreOptions): UploadStore {
  const kind = options.kind ?? (db.dialect === 'postgres' ? 'postgres' : 'folder');
  if (kind === 'postgres' && db.dialect !== 'postgres') {
    throw new Error('the PostgreSQL upload store needs a PostgreSQL database');
  }
  if (!(options.maxBytes > 0)) throw new RangeError(`maxBytes must be positive, got ${options.maxBytes}`);
  const bytes: BytesBackend =
    kind === 'postgres'
      ? postgresBytes(db, options.chunkBytes ?? DEFAULT_CHUNK_BYTES)
      : folderBytes(resolve(options.directory ?? defaultUploadDirectory(db)));
  return uploadStore(db, kind, options.maxBytes, bytes);
}

/** `uploads` beside the SQLite file of `db`; DEFAULT_UPLOAD_DIRECTORY for an in-memory one. */
export function defaultUploadDirectory(db: Db): string {
  const config = db.knex.client.config as { connection?: { filename?: unknown } } | undefined;
  const filename = config?.connection?.filename;
  if (typeof filename !== 'string' || filename === ':memory:' || filename === '') {
    return DEFAULT_UPLOAD_DIRECTORY;
  }
  return join(dirname(resolve(filename)), 'uploads');
}

/** Where an upload's bytes live; the `uploads` row is kept by uploadStore around it. */
interface BytesBackend {
  /** Stores the pieces in order. */
  write(id: string, pieces: AsyncIterable<Buffer>): Promise<void>;
  read(id: string): AsyncIterable<Buffer>;
  remove(id: string): Promise<void>;
}

function uploadStore(
  db: Db,
  kind: UploadStore['kind'],
  defaultMax: number,
  bytes: BytesBackend,
): UploadStore {
  const { knex } = db;
  const remove = async (id: string) => {
    await bytes.remove(id);
    await knex.raw(DELETE_UPLOAD, [id]);
  };
  const stat = async (id: string): Promise<UploadInfo> => {
    const rows = rawRows(await knex.raw(SELECT_UPLOAD, [id]));
    const row = rows[0];
    if (row === undefined) throw new NotFoundError('upload', id);
    return {
      id: String(row.id),
      entity: row.entity as UploadEntity,
      byteSize: Number(row.byte_size),
      createdAt: String(row.created_at),
      completedAt: row.completed_at === null ? null : String(row.completed_at),
      owner: row.owner === null || row.owner === undefined ? null : String(row.owner),
    };
  };
  return {
    kind,
    async create(entity, options = {}) {
      if (!UPLOAD_ENTITIES.includes(entity)) throw new RangeError(`unknown upload entity ${entity}`);
      const maxBytes = options.maxBytes ?? defaultMax;
      const id = randomUUID();
      await knex.raw(INSERT_UPLOAD, [id, entity, new Date().toISOString(), options.owner ?? null]);
      return {
        id,
        async write(source) {
          let received = 0;
          async function* limited(): AsyncGenerator<Buffer> {
            for await (const chunk of iterate(source)) {
              const piece = toBuffer(chunk);
              received += piece.length;
              if (received > maxBytes) throw new UploadTooLargeError(maxBytes);
              yield piece;
            }
          }
          try {
            await bytes.write(id, limited());
            const result = await knex.raw(COMPLETE_UPLOAD, [received, new Date().toISOString(), id]);
            if (affectedRows(result) !== 1) throw new NotFoundError('upload', id);
          } catch (err) {
            await remove(id).catch(() => {});
            throw err;
          }
          return stat(id);
        },
        abort: () => remove(id),
      };
    },
    open(id) {
      async function* pieces(): AsyncGenerator<Buffer> {
        const info = await stat(id);
        if (info.completedAt === null) throw new NotFoundError('complete upload', id);
        yield* bytes.read(id);
      }
      return Readable.from(pieces(), { objectMode: false });
    },
    stat,
    delete: remove,
    async purgeIncomplete(before) {
      const rows = rawRows(await knex.raw(SELECT_STALE_UPLOADS, [before.toISOString()]));
      for (const row of rows) await remove(String(row.id));
      return rows.length;
    },
    async purgeCompleted(before) {
      const rows = rawRows(await knex.raw(SELECT_OLD_COMPLETE_UPLOADS, [before.toISOString()]));
      for (const row of rows) await remove(String(row.id));
      return rows.length;
    },
  };
}

/**
 * Iterates a Readable without destroying it when the loop stops early, so an HTTP request
 * passed in survives a 413 long enough to be answered.
 */
function iterate(source: ByteSource): AsyncIterable<Uint8Array | string> {
  return source instanceof Readable ? source.iterator({ destroyOnReturn: false }) : source;
}

function postgresBytes(db: Db, chunkBytes: number): BytesBackend {
  const { knex } = db;
  return {
    async write(id, pieces) {
      let seq = 0;
      let held: Buffer[] = [];
      let heldBytes = 0;
      const flush = async (size: number) => {
        const all = held.length === 1 ? held[0]! : Buffer.concat(held, heldBytes);
        await knex.raw(INSERT_CHUNK, [id, seq, all.subarray(0, size)]);
        seq += 1;
        held = size < all.length ? [all.subarray(size)] : [];
        heldBytes -= size;
      };
      for await (const piece of pieces) {
        held.push(piece);
        heldBytes += piece.length;
        while (heldBytes >= chunkBytes) await flush(chunkBytes);
      }
      if (heldBytes > 0) await flush(heldBytes);
    },
    async *read(id) {
      for (let seq = 0; ; seq += 1) {
        const row = rawRows(await knex.raw(SELECT_CHUNK, [id, seq]))[0];
        if (row === undefined) return;
        yield row.data as Buffer;
      }
    },
    // The chunks go with the uploads row (ON DELETE CASCADE).
    async remove() {},
  };
}

function folderBytes(directory: string): BytesBackend {
  mkdirSync(directory, { recursive: true });
  const done = (id: string) => join(directory, `${safeId(id)}.csv`);
  const partial = (id: string) => join(directory, `${safeId(id)}.part`);
  return {
    async write(id, pieces) {
      const file = await openFile(partial(id), 'wx');
      try {
        for await (const piece of pieces) await file.write(piece);
        // The job may run after a crash of this machine: the bytes must be on disk before the
        // upload is marked complete.
        await file.datasync();
      } finally {
        await file.close();
      }
      await rename(partial(id), done(id));
    },
    async *read(id) {
      const file = await openFile(done(id), 'r');
      try {
        for (;;) {
          const buffer = Buffer.allocUnsafe(READ_BYTES);
          const { bytesRead } = await file.read(buffer, 0, READ_BYTES, null);
          if (bytesRead === 0) return;
          yield bytesRead === READ_BYTES ? buffer : buffer.subarray(0, bytesRead);
        }
      } finally {
        await file.close();
      }
    },
    async remove(id) {
      await rm(partial(id), { force: true });
      await rm(done(id), { force: true });
    },
  };
}

function toBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk);
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** Ids are ours (UUIDs), but a path is built from one: refuse anything that could escape. */
function safeId(id: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(id)) throw new NotFoundError('upload', id);
  return id;
}

function affectedRows(result: unknown): number {
  const r = result as { rowCount?: number; changes?: number };
  return r.rowCount ?? r.changes ?? 0;
}
