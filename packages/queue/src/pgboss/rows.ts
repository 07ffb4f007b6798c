// From pg-boss's job rows to our `Job`, and from our insert params to pg-boss's columns.
//
// A job's `data` is our envelope `{ payload, owner?, meta?, backoff? }` (owner has an expression
// index, backoff is read by the retry delay); `output` is `{ result?, error?, progress?, worker? }`.
// Rows written by pg-boss itself (cron forwards) carry the envelope we stored on the schedule.
import type { Job, JobError, JobInsertParams, JobState, Json, JsonObject } from '../types.ts';

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
}

export interface ClaimRow extends JobRow {
  lease_token: string;
  lease_expires_on: Date;
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
  };
}

/** ISO-8601 UTC with milliseconds, from a driver's Date or a timestamp string. */
export function iso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
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

/** pg-boss accepts these characters in queue names (its assertObjectName). */
const KIND = /^[\w.\-/]+$/;

export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_LEASE_SECONDS = 30;
export const DEFAULT_BACKOFF = { baseMs: 1_000, maxMs: 60_000 } as const;

/**
 * One row of `insertJobs`'s JSON input. Options left at their defaults are left out (the statement
 * supplies them): parsing the JSON input is most of an insert's cost in the database.
 */
export interface InsertRow {
  id: string;
  name: string;
  data: Record<string, unknown>;
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

export function toInsertRow(params: JobInsertParams<unknown>, id: string): InsertRow {
  const {
    kind,
    priority = 0,
    maxAttempts = DEFAULT_MAX_ATTEMPTS,
    leaseSeconds = DEFAULT_LEASE_SECONDS,
  } = params;
  if (typeof kind !== 'string' || !KIND.test(kind)) {
    throw new TypeError(`kind must be letters, digits, '_', '.', '-' or '/' (got ${JSON.stringify(kind)})`);
  }
  if (!Number.isInteger(priority)) throw new TypeError('priority must be an integer');
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
    throw new TypeError('maxAttempts must be an integer >= 1');
  if (!Number.isInteger(leaseSeconds) || leaseSeconds < 1)
    throw new TypeError('leaseSeconds must be an integer >= 1');
  const backoff = params.backoff;
  if (
    backoff !== undefined &&
    !(
      Number.isFinite(backoff.baseMs) &&
      backoff.baseMs >= 0 &&
      Number.isFinite(backoff.maxMs) &&
      backoff.maxMs >= 0
    )
  ) {
    throw new TypeError('backoff.baseMs and backoff.maxMs must be numbers >= 0');
  }
  const data: Record<string, unknown> = { payload: params.payload ?? null };
  if (params.owner !== undefined) data['owner'] = params.owner;
  if (params.meta !== undefined) data['meta'] = params.meta;
  const row: InsertRow = { id, name: kind, data };
  if (priority !== 0) row.priority = priority;
  if (params.runAt !== undefined) {
    const at = new Date(params.runAt);
    if (Number.isNaN(at.getTime()))
      throw new TypeError(`runAt must be an ISO-8601 instant (got ${params.runAt})`);
    row.start_after = at.toISOString();
  }
  if (maxAttempts !== DEFAULT_MAX_ATTEMPTS) row.retry_limit = maxAttempts - 1;
  if (backoff !== undefined) {
    data['backoff'] = { baseMs: backoff.baseMs, maxMs: backoff.maxMs };
    row.retry_delay = Math.max(1, Math.ceil(backoff.baseMs / 1000));
    row.retry_delay_max = Math.max(1, Math.ceil(backoff.maxMs / 1000));
  }
  if (leaseSeconds !== DEFAULT_LEASE_SECONDS) row.heartbeat_seconds = leaseSeconds;
  if (params.idempotencyKey !== undefined) row.singleton_key = params.idempotencyKey;
  return row;
}

/** The job a just-inserted row is: what was inserted, its creation instant and the start it got. */
export function insertedJob(row: InsertRow, createdAt: string, startAfter: Date | string): Job {
  // The caller's own values (JSON by contract), not a copy parsed back: this is the hot path.
  const data = row.data;
  return {
    id: row.id,
    kind: row.name,
    state: 'queued',
    payload: data['payload'] as Json,
    priority: row.priority ?? 0,
    progress: null,
    attempts: 0,
    maxAttempts: (row.retry_limit ?? DEFAULT_MAX_ATTEMPTS - 1) + 1,
    result: null,
    error: null,
    owner: typeof data['owner'] === 'string' ? data['owner'] : null,
    meta: isObject(data['meta']) ? (data['meta'] as JsonObject) : {},
    idempotencyKey: row.singleton_key ?? null,
    createdAt,
    runAt: iso(startAfter),
    startedAt: null,
    finishedAt: null,
  };
}

export function isKind(value: string): boolean {
  return KIND.test(value);
}
