// Between the interface's values and queue_jobs rows: validated insert parameters, rows read back
// as Jobs, and the ids. JSON columns are text; instants ISO-8601 UTC text with milliseconds.
import { randomFillSync } from 'node:crypto';
import { type KindDefaultsResolver, normalizeInsert } from '../../runtime/insert.ts';
import type { Job, JobError, JobInsertParams, JobState, Json, JsonObject } from '../../types.ts';

/** A queue_jobs row as the statements in sql.ts return it. */
export interface JobRow {
  id: string;
  kind: string;
  state: JobState;
  payload: string;
  priority: number;
  progress: string | null;
  attempts: number;
  max_attempts: number;
  result: string | null;
  error: string | null;
  owner: string | null;
  meta: string;
  idempotency_key: string | null;
  created_at: string;
  run_at: string;
  started_at: string | null;
  finished_at: string | null;
  lease_seconds: number;
  backoff_base_ms: number;
  backoff_max_ms: number;
}

export interface ClaimedRow extends JobRow {
  job_no: number;
  lease_token: string;
  lease_expires_at: string;
}

/** An active attempt's row as fail and rescue read it (sql.LEASED_ATTEMPT, sql.EXPIRED_LEASES). */
export interface AttemptRow {
  job_no: number;
  id: string;
  kind: string;
  lease_token: string;
  attempts: number;
  max_attempts: number;
  backoff_base_ms: number;
  backoff_max_ms: number;
  run_at: string;
}

export function toJob<P = Json>(row: JobRow): Job<P> {
  return {
    id: row.id,
    kind: row.kind,
    state: row.state,
    payload: JSON.parse(row.payload) as P,
    priority: row.priority,
    progress: row.progress === null ? null : (JSON.parse(row.progress) as JsonObject),
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    result: row.result === null ? null : (JSON.parse(row.result) as Json),
    error: row.error === null ? null : (JSON.parse(row.error) as JobError),
    owner: row.owner,
    // Most jobs carry no meta: skip parsing it on the claim path.
    meta: row.meta === '{}' ? {} : (JSON.parse(row.meta) as JsonObject),
    idempotencyKey: row.idempotency_key,
    createdAt: row.created_at,
    runAt: row.run_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    leaseSeconds: row.lease_seconds,
    backoff: { baseMs: row.backoff_base_ms, maxMs: row.backoff_max_ms },
  };
}

/** JSON text for a value column; `undefined` stores JSON null. */
export function toJsonText(value: unknown): string {
  return JSON.stringify(value === undefined ? null : value);
}

/** JSON text or SQL NULL (result: null and undefined both read back as null). */
export function toNullableJsonText(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

export function errorText(error: JobError): string {
  const plain: JobError = { kind: String(error.kind), message: String(error.message) };
  if (error.stack !== undefined) plain.stack = String(error.stack);
  return JSON.stringify(plain);
}

/** A job about to be inserted: insert_job's parameters, and the job as it will read back. */
export interface NewJob {
  values: unknown[];
  job: Job;
}

/** Validates and completes `params` (runtime/insert.ts) into insert_job's parameters. */
export function newJob(params: JobInsertParams<unknown>, now: Date, resolve?: KindDefaultsResolver): NewJob {
  const n = normalizeInsert(params, resolve);
  const id = newJobId(now.getTime());
  const createdAt = now.toISOString();
  const runAt = n.runAt ?? createdAt;
  return {
    values: [
      id,
      n.kind,
      n.payloadJson,
      n.priority,
      n.maxAttempts,
      n.backoff.baseMs,
      n.backoff.maxMs,
      n.leaseSeconds,
      n.owner,
      n.metaJson,
      n.idempotencyKey,
      createdAt,
      runAt,
    ],
    // As it reads back: the JSON columns parsed from the text that is stored.
    job: {
      id,
      kind: n.kind,
      state: 'queued',
      payload: JSON.parse(n.payloadJson) as Json,
      priority: n.priority,
      progress: null,
      attempts: 0,
      maxAttempts: n.maxAttempts,
      result: null,
      error: null,
      owner: n.owner,
      meta: JSON.parse(n.metaJson) as JsonObject,
      idempotencyKey: n.idempotencyKey,
      createdAt,
      runAt,
      startedAt: null,
      finishedAt: null,
      leaseSeconds: n.leaseSeconds,
      backoff: n.backoff,
    },
  };
}

// UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, a 12-bit counter (method 3 of its section
// 6.2: monotonic within a millisecond in this process, started at a random point each new
// millisecond), then 62 random bits. Ids made in order sort in order, so the id index and the
// (created_at, id) list indexes grow at their end instead of at random pages.
const RANDOM_POOL = Buffer.alloc(10 * 512);
let poolOffset = RANDOM_POOL.length;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
let lastMs = 0;
let counter = 0;

export function newJobId(ms: number = Date.now()): string {
  if (poolOffset >= RANDOM_POOL.length) {
    randomFillSync(RANDOM_POOL);
    poolOffset = 0;
  }
  const b = RANDOM_POOL.subarray(poolOffset, poolOffset + 10);
  poolOffset += 10;
  let time = Math.max(0, Math.floor(ms));
  if (time > lastMs) {
    lastMs = time;
    counter = ((b[0]! << 8) | b[1]!) & 0x3ff; // a random start with room to count up
  } else {
    // Same millisecond (or the clock went back): count on; past 4095, borrow the next millisecond.
    counter += 1;
    if (counter > 0xfff) {
      lastMs += 1;
      counter = 0;
    }
    time = lastMs;
  }
  const high = Math.floor(time / 0x1_0000_0000);
  const low = time >>> 0;
  const h = (n: number) => HEX[n & 0xff]!;
  return (
    h(high >>> 8) +
    h(high) +
    h(low >>> 24) +
    h(low >>> 16) +
    '-' +
    h(low >>> 8) +
    h(low) +
    '-' +
    h(0x70 | (counter >>> 8)) +
    h(counter) +
    '-' +
    h(0x80 | (b[2]! & 0x3f)) +
    h(b[3]!) +
    '-' +
    h(b[4]!) +
    h(b[5]!) +
    h(b[6]!) +
    h(b[7]!) +
    h(b[8]!) +
    h(b[9]!)
  );
}

/**
 * The job_no a lease token carries ('<job_no>.<random>', made by sql.CLAIM_JOBS), or null for a
 * token we never issued. The token is opaque to callers; fenced updates seek the row by it.
 */
export function leaseJobNo(leaseToken: string): number | null {
  if (typeof leaseToken !== 'string') return null;
  const dot = leaseToken.indexOf('.');
  if (dot <= 0) return null;
  const jobNo = Number(leaseToken.slice(0, dot));
  return Number.isSafeInteger(jobNo) && jobNo > 0 ? jobNo : null;
}
