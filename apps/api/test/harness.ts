// A real API on a real database for HTTP tests: a private migrated database (SQLite file or
// PostgreSQL clone), the queue backend createQueueBackend picks for it, the app listening on an
// ephemeral port, and helpers to call it with Node's fetch.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createDb } from '@offload/db';
import { createTestDb, type TestDatabaseKind, type TestDb } from '@offload/db/testing';
import { createLogger, type Logger } from '@offload/observability';
import { type ClaimedJob, createQueueBackend, Queue, type QueueBackend } from '@offload/queue';
import pino from 'pino';
import { createApiKey, type Scope } from '../src/api-keys.ts';
import { type ApiOptions, createApp } from '../src/app.ts';
import type { ReadCacheSettings } from '../src/read-cache.ts';
import { type ApiServices, createApiServices } from '../src/services.ts';
import type { ApiSettings } from '../src/settings.ts';

export interface TestApiOptions {
  settings?: Partial<ApiSettings>;
  options?: Partial<ApiOptions>;
  logger?: Logger;
  /** Use this database instead of creating one (it is not destroyed by close). */
  testDb?: TestDb;
  /** Connect the API to the test database through this URL instead (e.g. through a proxy). */
  databaseUrl?: string;
  /** Read cache settings (TTLs, version checks) instead of the defaults. */
  cache?: Partial<ReadCacheSettings>;
}

export interface TestApi {
  kind: TestDatabaseKind;
  url: string;
  testDb: TestDb;
  backend: QueueBackend;
  queue: Queue;
  services: ApiServices;
  server: Server;
  /** A new key for `owner` with `scopes`. */
  key(owner: string, scopes: Scope[]): Promise<string>;
  request(method: string, path: string, init?: RequestOptions): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface RequestOptions {
  key?: string;
  /** Sent as JSON unless `raw` is given. */
  body?: unknown;
  raw?: string | Uint8Array;
  headers?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the body is JSON, else the text. */
  // biome-ignore lint/suspicious/noExplicitAny: response JSON the assertions walk into
  body: any;
}

export const silentLogger: Logger = createLogger({ level: 'silent', service: 'api-test' });

/** A logger at info whose lines, parsed, are pushed onto `lines`. */
export function capturingLogger(lines: Array<Record<string, unknown>>): Logger {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  return pino({ level: 'info' }, sink);
}

export async function startTestApi(kind: TestDatabaseKind, options: TestApiOptions = {}): Promise<TestApi> {
  const testDb = options.testDb ?? (await createTestDb(kind));
  const databaseUrl = options.databaseUrl ?? testDb.databaseUrl;
  const db = options.databaseUrl === undefined ? testDb.db : createDb({ databaseUrl, poolMax: 4 });
  const backend = await createQueueBackend(databaseUrl, {
    pgboss: { reconnectTimeoutMs: 1000, poolMax: 4 },
  });
  await backend.start({ maintenance: false });
  const queue = new Queue(backend);
  const logger = options.logger ?? silentLogger;
  const services = createApiServices({
    db,
    queue,
    logger,
    cursorSecret: 'test-cursor-secret-0123456789',
    settings: { keyCacheMs: 0, rateLimitPerSecond: 0, ...options.settings },
    ...(options.cache === undefined ? {} : { cache: options.cache }),
    options: { slowRequestMs: 10_000, version: '0.0.0-test', startedAt: Date.now(), ...options.options },
  });
  const app = createApp(services);
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    kind,
    url,
    testDb,
    backend,
    queue,
    services,
    server,
    async key(owner, scopes) {
      const { key } = await createApiKey(testDb.db, { name: `${owner} test key`, owner, scopes });
      return key;
    },
    request: (method, path, init) => request(url, method, path, init),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      services.close();
      await backend.stop();
      if (db !== testDb.db) await db.destroy();
      if (options.testDb === undefined) await testDb.destroy();
    },
  };
}

export async function request(
  base: string,
  method: string,
  path: string,
  init: RequestOptions = {},
): Promise<TestResponse> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.key !== undefined) headers.authorization = `Bearer ${init.key}`;
  let body: string | Uint8Array | undefined = init.raw;
  if (body === undefined && init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(base + path, { method, headers, body });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    headers: response.headers,
    body: type.includes('json') && text !== '' ? JSON.parse(text) : text,
  };
}

/**
 * Claims the job `id` as a worker would, leaving any other ready job where it was (claimed ones
 * are released straight back).
 */
export async function claimJob(backend: QueueBackend, kind: string, id: string): Promise<ClaimedJob> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const claimed = await backend.jobClaim({ kinds: [kind], limit: 100, workerId: 'api-test:1:worker' });
    const mine = claimed.find((candidate) => candidate.job.id === id);
    for (const other of claimed) {
      if (other !== mine) await backend.jobRelease({ id: other.job.id, leaseToken: other.leaseToken });
    }
    if (mine !== undefined) return mine;
    if (Date.now() > deadline) throw new Error(`could not claim job ${id}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Uploads a models CSV holding only its header for `key`'s owner (POST /v1/imports, which also
 * sends its own import.csv): the upload's import payload and that job's id.
 */
export async function uploadHeaderOnlyCsv(
  api: TestApi,
  key: string,
): Promise<{ payload: { uploadId: string; entity: string }; jobId: string }> {
  const res = await api.request('POST', '/v1/imports?entity=models', {
    key,
    raw: 'external_id,name,region,team,risk_tier,owner_email,status\n',
    headers: { 'content-type': 'text/csv' },
  });
  if (res.status !== 202) throw new Error(`upload answered ${res.status}: ${JSON.stringify(res.body)}`);
  return { payload: res.body.payload, jobId: res.body.id };
}

/** The one poll-with-a-deadline (@offload/db/testing), re-exported for the API's tests. */
export { eventually } from '@offload/db/testing';
