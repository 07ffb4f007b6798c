// What the catalog knows about one job kind. The API validates submissions against `payload`
// and documents it in OpenAPI; the worker validates again before running a handler and sends
// with `defaults`. Nothing here runs a job: handlers live in apps/worker.
import { z } from 'zod';

/** Retry delays: the first retry waits about `baseMs`, each later one doubles, capped at `maxMs`. */
export interface JobBackoff {
  baseMs: number;
  maxMs: number;
}

/**
 * The send options a kind gets unless the caller overrides them. The shape matches the queue's
 * `JobInsertParams` fields of the same names, so it can be spread into a send.
 */
export interface JobDefaults {
  /** Higher runs first. */
  priority: number;
  /** Total attempts, the first included. */
  maxAttempts: number;
  backoff: JobBackoff;
  /** How long a claim holds the job between heartbeats. */
  leaseSeconds: number;
}

/**
 * The API key scope a caller needs to start a kind (POST /v1/jobs, or retrying one of its jobs):
 * `submit` for work scoped to the caller's own data, `admin` for work over the whole inventory or
 * an operator's resources. `null`: no caller may start it; only the system's schedules and
 * triggers send it.
 */
export type JobStartScope = 'submit' | 'admin' | null;

export interface JobKind<
  Name extends string = string,
  Payload extends z.ZodType = z.ZodType,
  Result extends z.ZodType = z.ZodType,
> {
  /** `<area>.<verb>`, e.g. `system.echo`, `rebuild.kpi`: the queue's kind and the API's `kind`. */
  readonly name: Name;
  /** One or two sentences for the OpenAPI document and operators. */
  readonly description: string;
  /** Strict: a payload with a field the schema does not name is refused. */
  readonly payload: Payload;
  /** What a completed job's `result` looks like (documentation; the worker does not enforce it). */
  readonly result: Result;
  /** The kind has steps that run in the worker's thread pool, so they count against WORKER_THREADS. */
  readonly cpuBound: boolean;
  /** Who may start it through the API (see JobStartScope). */
  readonly startScope: JobStartScope;
  readonly defaults: JobDefaults;
}

/**
 * The largest id an integer key column holds (PostgreSQL `integer`, which `increments` makes):
 * an id past it can name no row, and PostgreSQL fails the query that compares with it.
 */
export const MAX_ROW_ID = 2_147_483_647;

/** A row id in a payload: refused by the schema when no row can have it. */
export function rowId() {
  return z.int().min(1).max(MAX_ROW_ID);
}

export const DEFAULT_JOB_OPTIONS: JobDefaults = Object.freeze({
  priority: 0,
  maxAttempts: 3,
  backoff: Object.freeze({ baseMs: 1000, maxMs: 60_000 }),
  leaseSeconds: 30,
});

/** Declares a kind, filling the defaults it does not set. */
export function defineJobKind<Name extends string, Payload extends z.ZodType, Result extends z.ZodType>(
  definition: Omit<JobKind<Name, Payload, Result>, 'defaults'> & { defaults?: Partial<JobDefaults> },
): JobKind<Name, Payload, Result> {
  return Object.freeze({
    ...definition,
    defaults: Object.freeze({ ...DEFAULT_JOB_OPTIONS, ...definition.defaults }),
  });
}
