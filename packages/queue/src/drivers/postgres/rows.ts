// From pg-boss's job rows to our `Job`, and from our insert params to pg-boss's columns.
//
// A job's `data` is our envelope `{ payload, owner?, meta?, backoff? }` (owner has an expression
// index, backoff is read by the retry delay); `output` is `{ result?, error?, progress?, worker? }`.
// Rows written by pg-boss itself (cron forwards) carry the envelope we stored on the schedule.
import pg from 'pg';
import { DEFAULT_BACKOFF } from '../../runtime/backoff.ts';
import {
  DEFAULT_LEASE_SECONDS,
  DEFAULT_MAX_ATTEMPTS,
  type KindDefaultsResolver,
  normalizeInsert,
} from '../../runtime/insert.ts';
import type {
  BackoffOptions,
  Job,
  JobError,
  JobInsertParams,
  JobState,
  Json,
  JsonObject,
} from '../../types.ts';

/** The columns `jobColumns` in sql.ts selects. */
export interface JobRow {
  id: string;
  name: string;
  data: unknown;
  priority: number;
  state: string;
  retry_count: number;
  retry_limit: number;
  // Dates from our pool; ISO strings when read through a caller's executor (its own type parsers).
  start_after: Date | string;
  created_on: Date | string;
  started_on: Date | string | null;
  completed_on: Date | string | null;
  output: unknown;
  singleton_key: string | null;
  singleton_slot: string | null;
  heartbeat_seconds: number | null;
}

export interface ClaimRow extends JobRow {
  lease_token: string;
  lease_expires_on: Date | string;
}

const STATES: Record<string, JobState> = {
  created: 'queued',
  retry: 'retrying',
  active: 'active',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};

/** pg-boss's state for ours (filters). */
export const BOSS_STATES: Record<JobState, string> = {
  queued: 'created',
  retrying: 'retry',
  active: 'active',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};

export function toState(bossState: string): JobState {
  const state = STATES[bossState];
  if (state === undefined) throw new Error(`unknown pg-boss job state ${JSON.stringify(bossState)}`);
  return state;
}

export function toJob(row: JobRow): Job {
  const data = isObject(row.data) ? row.data : {};
  const output = isObject(row.output) ? row.output : {};
  const state = toState(row.state);
  return {
    id: row.id,
    kind: row.name,
    state,
    payload: ('payload' in data ? data['payload'] : (row.data ?? null)) as Json,
    priority: row.priority,
    progress: isObject(output['progress']) ? (output['progress'] as JsonObject) : null,
    attempts: row.retry_count + (row.started_on !== null ? 1 : 0),
    maxAttempts: row.retry_limit + 1,
    result: state === 'completed' && 'result' in output ? (output['result'] as Json) : null,
    error: toError(output),
    owner: typeof data['owner'] === 'string' ? data['owner'] : null,
    meta: isObject(data['meta']) ? (data['meta'] as JsonObject) : {},
    idempotencyKey:
      row.singleton_key === null
        ? null
        : row.singleton_slot === null
          ? row.singleton_key
          : `${row.singleton_key}:${row.singleton_slot}`,
    createdAt: iso(row.created_on),
    runAt: iso(row.start_after),
    startedAt: row.started_on === null ? null : iso(row.started_on),
    finishedAt: row.completed_on === null ? null : iso(row.completed_on),
    leaseSeconds: row.heartbeat_seconds ?? DEFAULT_LEASE_SECONDS,
    backoff: envelopeBackoff(data),
  };
}

/** ISO-8601 UTC with milliseconds, from a driver's Date or a timestamp string. */
export function iso(value: Date | string): string {
  if (typeof value === 'string' && value.length === 24 && value.endsWith('Z') && value.charCodeAt(10) === 84)
    return value; // already 'YYYY-MM-DDTHH:MM:SS.mmmZ' (utcIso's)
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/**
 * A timestamptz as PostgreSQL prints it in a UTC session ('2026-12-08 00:44:48.123456+00', the
 * fraction trimmed or absent) as the ISO string `Date#toISOString` gives for it (milliseconds
 * truncated, as node-postgres's parser truncates them), by slicing: parsing the text into a Date
 * and printing it again cost a drain ~10 % of its CPU. Null for any other form (another session
 * time zone, years past 9999 or BC, infinity).
 */
export function utcIso(text: string): string | null {
  const length = text.length;
  if (length < 22 || length > 29 || text.charCodeAt(10) !== 32 || !text.endsWith('+00')) return null;
  // YYYY-MM-DD HH:MM:SS: another DateStyle (SQL, German) may have the same length.
  if (text[4] !== '-' || text[7] !== '-' || text[13] !== ':' || text[16] !== ':') return null;
  if (length > 22 && text.charCodeAt(19) !== 46) return null;
  const millis = length > 22 ? `${text.slice(20, length - 3)}00`.slice(0, 3) : '000';
  return `${text.slice(0, 10)}T${text.slice(11, 19)}.${millis}Z`;
}

function toError(output: Record<string, unknown>): JobError | null {
  const error = output['error'];
  if (isObject(error) && typeof error['message'] === 'string') {
    return {
      message: error['message'],
      kind: typeof error['kind'] === 'string' ? error['kind'] : 'Error',
      ...(typeof error['stack'] === 'string' ? { stack: error['stack'] } : {}),
    };
  }
  // pg-boss's own failures (its supervisor, if someone runs it) store { value: { message } }.
  const value = output['value'];
  if (isObject(value) && typeof value['message'] === 'string')
    return { message: value['message'], kind: 'Error' };
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * One row of `insertJobs`'s JSON input, from a normalised send (runtime/insert.ts). Options left
 * at their defaults are left out of the JSON (the statement supplies them): parsing the JSON input
 * is most of an insert's cost in the database.
 */
export interface InsertRow {
  id: string;
  name: string;
  /** The caller's values, for the job returned (not a copy parsed back: this is the hot path). */
  payload: unknown;
  owner: string | null;
  meta: JsonObject;
  maxAttempts: number;
  backoff: BackoffOptions;
  /** Our envelope as JSON text: `{"payload":…,"owner":…,"meta":…,"backoff":…}`. */
  dataJson: string;
  /** Default 0. */
  priority?: number;
  /** Default now (the database's). */
  start_after?: string;
  /** maxAttempts - 1; default 2. */
  retry_limit?: number;
  /** pg-boss's own retry columns, in its whole seconds, for its tooling (our delay reads the envelope). */
  retry_delay?: number;
  retry_delay_max?: number;
  /** The lease; default 30. */
  heartbeat_seconds?: number;
  singleton_key?: string;
}

export function toInsertRow(
  params: JobInsertParams<unknown>,
  id: string,
  resolve?: KindDefaultsResolver,
): InsertRow {
  const n = normalizeInsert(params, resolve);
  // The envelope written as text around the payload's and meta's text, serialised once.
  let dataJson = `{"payload":${n.payloadJson}`;
  if (n.owner !== null) dataJson += `,"owner":${JSON.stringify(n.owner)}`;
  if (n.metaJson !== '{}') dataJson += `,"meta":${n.metaJson}`;
  const defaultBackoff =
    n.backoff.baseMs === DEFAULT_BACKOFF.baseMs && n.backoff.maxMs === DEFAULT_BACKOFF.maxMs;
  if (!defaultBackoff) dataJson += `,"backoff":${JSON.stringify(n.backoff)}`;
  dataJson += '}';
  const row: InsertRow = {
    id,
    name: n.kind,
    payload: params.payload ?? null,
    owner: n.owner,
    meta: n.meta,
    maxAttempts: n.maxAttempts,
    backoff: n.backoff,
    dataJson,
  };
  if (n.priority !== 0) row.priority = n.priority;
  if (n.runAt !== null) row.start_after = n.runAt;
  if (n.maxAttempts !== DEFAULT_MAX_ATTEMPTS) row.retry_limit = n.maxAttempts - 1;
  if (!defaultBackoff) {
    row.retry_delay = Math.max(1, Math.ceil(n.backoff.baseMs / 1000));
    row.retry_delay_max = Math.max(1, Math.ceil(n.backoff.maxMs / 1000));
  }
  if (n.leaseSeconds !== DEFAULT_LEASE_SECONDS) row.heartbeat_seconds = n.leaseSeconds;
  if (n.idempotencyKey !== null) row.singleton_key = n.idempotencyKey;
  return row;
}

/** `insertJobs`'s $1: the rows as a JSON array, the envelopes spliced in as the text they are. */
export function insertRowsJson(rows: readonly InsertRow[]): string {
  return `[${rows
    .map((row) => {
      const { id, name, payload, owner, meta, maxAttempts, backoff, dataJson, ...columns } = row;
      const rest = JSON.stringify(columns);
      return `{"id":"${id}","name":${JSON.stringify(name)},"data":${dataJson}${rest === '{}' ? '' : `,${rest.slice(1, -1)}`}}`;
    })
    .join(',')}]`;
}

/** The job a just-inserted row is: what was inserted, its creation instant and the start it got. */
export function insertedJob(row: InsertRow, createdAt: string, startAfter: Date | string): Job {
  // The caller's own values (JSON by contract), not a copy parsed back: this is the hot path.
  return {
    id: row.id,
    kind: row.name,
    state: 'queued',
    payload: row.payload as Json,
    priority: row.priority ?? 0,
    progress: null,
    attempts: 0,
    maxAttempts: row.maxAttempts,
    result: null,
    error: null,
    owner: row.owner,
    meta: row.meta,
    idempotencyKey: row.singleton_key ?? null,
    createdAt,
    runAt: iso(startAfter),
    startedAt: null,
    finishedAt: null,
    leaseSeconds: row.heartbeat_seconds ?? DEFAULT_LEASE_SECONDS,
    backoff: row.backoff,
  };
}

/** The backoff a job's envelope carries, or the queue's default (left out of the envelope). */
export function envelopeBackoff(data: Record<string, unknown>): BackoffOptions {
  const backoff = data['backoff'];
  if (isObject(backoff) && typeof backoff['baseMs'] === 'number' && typeof backoff['maxMs'] === 'number') {
    return { baseMs: backoff['baseMs'], maxMs: backoff['maxMs'] };
  }
  return { ...DEFAULT_BACKOFF };
}

const TIMESTAMPTZ_OID = 1184;

/** Type parsers for the claim's rows: timestamptz as ISO strings (utcIso), anything else as usual. */
export const CLAIM_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid !== TIMESTAMPTZ_OID || format === 'binary') return pg.types.getTypeParser(oid, format as 'text');
    const parseDate = pg.types.getTypeParser(oid, 'text');
    return (text: string) => utcIso(text) ?? parseDate(text);
  }) as pg.CustomTypesConfig['getTypeParser'],
};
