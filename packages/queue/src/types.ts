// The queue's public vocabulary. Nothing here names knex, pg, pg-boss or better-sqlite3:
// adapters own their connections, and callers see only these types.

/**
 * Job states, in lifecycle order. Who moves a job in and out of each:
 *
 * - `queued`    in: `jobInsert` (runAt now or past), `jobRetry` of a failed/cancelled job.
 *               out: `jobClaim` (→ active), `jobCancel` (→ cancelled).
 * - `retrying`  in: `jobFail` or `jobRescueExpired` with attempts left (waits out its backoff).
 *               out: `jobClaim` once its runAt passes (→ active), `jobCancel` (→ cancelled).
 *               A job inserted with a future runAt is `queued`, not `retrying`.
 * - `active`    in: `jobClaim`, which takes a lease (token + expiry) kept alive by `jobHeartbeat`.
 *               out: `jobComplete` (→ completed), `jobFail` (→ retrying | failed),
 *               `jobCancel` (→ cancelled; the running handler's AbortSignal fires),
 *               `jobRelease` on graceful stop (→ queued, attempt not counted),
 *               `jobRescueExpired` when the lease expired (→ retrying | failed).
 * - `completed` terminal; in: `jobComplete`. Pruned after the retention period.
 * - `failed`    terminal until `jobRetry`; in: `jobFail`/`jobRescueExpired` with no attempts left.
 * - `cancelled` terminal until `jobRetry`; in: `jobCancel`.
 *
 * Every transition out of `active` is fenced by the lease token: a worker whose lease expired
 * (and whose job another worker has since claimed) cannot complete, fail or heartbeat it.
 */
export const JOB_STATES = ['queued', 'retrying', 'active', 'completed', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['completed', 'failed', 'cancelled']);

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** What a failed attempt left behind: plain data, so it crosses threads and processes. */
export interface JobError {
  message: string;
  /** A short machine-readable class: 'Error', 'TimeoutError', 'LeaseExpired', 'Aborted', … */
  kind: string;
  stack?: string;
}

export interface Job<P = Json, R = Json> {
  id: string;
  kind: string;
  state: JobState;
  payload: P;
  priority: number;
  progress: JsonObject | null;
  /** Attempts started so far (a claim starts one; a graceful release gives it back). */
  attempts: number;
  maxAttempts: number;
  result: R | null;
  error: JobError | null;
  /** Who submitted it (an API key's owner); lists can be filtered by it. */
  owner: string | null;
  /** Caller metadata carried to the worker (request id for log correlation, …). */
  meta: JsonObject;
  idempotencyKey: string | null;
  createdAt: string;
  runAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** How long a claim holds the job without a heartbeat (whole seconds). */
  leaseSeconds: number;
  /** The retry delays of its failed attempts (runtime/backoff.ts). */
  backoff: BackoffOptions;
}

export interface BackoffOptions {
  /** Delay before the first retry; each later retry doubles it, with full jitter. */
  baseMs: number;
  maxMs: number;
}

/**
 * A caller's open database transaction, so a job is sent atomically with the caller's own writes.
 * Placeholders are `$1…$n` on PostgreSQL and `?` on SQLite. `@offload/db` builds one from knex.
 */
export interface SqlExecutor {
  dialect: 'sqlite' | 'postgres';
  query(sql: string, params: readonly unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

export interface JobInsertParams<P = Json> {
  kind: string;
  payload: P;
  /** Higher runs first. Default 0. */
  priority?: number;
  /** ISO-8601 instant; default now. */
  runAt?: string;
  /** Total attempts including the first. Default 3. */
  maxAttempts?: number;
  /** Default { baseMs: 1000, maxMs: 60_000 }. */
  backoff?: BackoffOptions;
  /** How long a claim holds the job without a heartbeat. Default 30 s; heartbeats renew it. */
  leaseSeconds?: number;
  /**
   * While a job with this (kind, key) is retained, inserting again returns it instead of a new
   * one (`created: false`). Cron ticks use `cron:<schedule>:<tick>` to fire exactly once.
   */
  idempotencyKey?: string;
  owner?: string;
  meta?: JsonObject;
  /** Insert inside the caller's transaction instead of the adapter's own connection. */
  executor?: SqlExecutor;
}

export interface JobInsertResult<P = Json> {
  job: Job<P>;
  created: boolean;
}

export interface JobClaimParams {
  kinds: readonly string[];
  /** At most this many jobs. */
  limit: number;
  /** Identifies the claiming worker process (host:pid:uuid); PostgreSQL stores it on the job, SQLite does not (narrow rows). */
  workerId: string;
  /**
   * Of `limit`, this many are the ready jobs that have waited longest (due first), whatever their
   * priority, when there are such; the rest go by priority. The runtime's fairness lane
   * (runtime/fairness.ts); default 0.
   */
  oldest?: number;
  now?: Date;
}

/** A claimed attempt: the job plus the lease that fences every later transition. */
export interface ClaimedJob<P = Json> {
  job: Job<P>;
  leaseToken: string;
  leaseExpiresAt: string;
}

export interface LeaseParams {
  id: string;
  leaseToken: string;
  now?: Date;
}

/**
 * What a transition did, answered by the statement (or transaction) that tried it: `stored`, or
 * nothing stored and what it found instead, so that no caller reads the job again to learn why.
 * `T` is what a stored transition returns beside, `F` what a refused one does (JobTransition).
 */
export type Transition<T extends object = object, F extends object = object> =
  | ({ stored: true } & T)
  | (Refused & F);

/** Cancel's and retry's outcome: the job as stored, or as found (null when there is no such job). */
export type JobTransition = Transition<{ job: Job }, { job: Job | null }>;

/** A refused transition: nothing was written. */
export interface Refused {
  stored: false;
  /** The job's state when the transition was tried; null when there is no such job. */
  found: JobState | null;
  /**
   * Lease transitions only: the job is `active` under another attempt's lease (this one expired,
   * was rescued, and the job was claimed again). False for any other state found, and for
   * cancel and retry.
   */
  reclaimed: boolean;
}

/** A stored transition's outcome (frozen: shared by every driver). */
export const STORED: Transition = Object.freeze({ stored: true });

/** A refused transition's outcome when there is no such job (frozen: shared by every driver). */
export const NO_JOB: Refused = Object.freeze({ stored: false, found: null, reclaimed: false });

export interface JobCompleteParams extends LeaseParams {
  result?: Json;
}

export interface JobFailParams extends LeaseParams {
  error: JobError;
  /** Skip remaining attempts (e.g. a payload that can never succeed). */
  final?: boolean;
}

export interface JobProgressParams extends LeaseParams {
  progress: JsonObject;
}

export interface JobListParams {
  kind?: string;
  state?: JobState;
  owner?: string;
  /** ISO instants: created at or after, and before. */
  createdFrom?: string;
  createdBefore?: string;
  /** The start of the job's id (hex digits, hyphens ignored): a text search on ids. */
  idPrefix?: string;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string | null;
  /** 1…100; default 50. */
  limit?: number;
}

/**
 * Which jobs a bulk operator action takes: every filter given must match. At most `limit` jobs
 * (1…1000) are moved per call, oldest first; call again while the count equals the limit.
 */
export interface JobBulkParams {
  kind?: string;
  /** Cancel: `queued` and/or `retrying` (default both). Retry: `failed` and/or `cancelled` (default `failed`). */
  states?: readonly JobState[];
  owner?: string;
  /** ISO instants: created at or after, and before. */
  createdFrom?: string;
  createdBefore?: string;
  limit: number;
}

export type BulkAction = 'cancel' | 'retry';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface KindCounts {
  kind: string;
  queued: number;
  retrying: number;
  active: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** Age in seconds of the oldest job ready to run (queued/retrying with runAt ≤ now), or null. */
  oldestQueuedAgeSeconds: number | null;
  /** Waiting jobs (queued or retrying) whose runAt has passed: they could start now. */
  ready: number;
  /** Waiting jobs (queued or retrying) whose runAt is still ahead; ready + scheduled = queued + retrying. */
  scheduled: number;
  /**
   * More than SCHEDULED_COUNT_CAP jobs of the kind wait for a later runAt, which are counted no
   * further: `scheduled` is then a lower bound and `ready` an upper bound (runtime/counts.ts).
   */
  scheduledCapped: boolean;
}

export interface Schedule {
  name: string;
  /** Five-field cron expression, evaluated in `timezone` (default UTC). */
  cron: string;
  timezone: string;
  kind: string;
  payload: Json;
  options: Pick<JobInsertParams, 'priority' | 'maxAttempts' | 'leaseSeconds'>;
}

/** What a schedule has done and may do, beside its definition (`scheduleStates`). */
export interface ScheduleState {
  name: string;
  /** A paused schedule fires no tick; resumed, it counts its ticks from the resumption. */
  paused: boolean;
  /** The tick of the last job the schedule sent (its runAt), or null before its first. */
  lastRunAt: string | null;
  lastJobId: string | null;
}

export interface JobEvent {
  id: string;
  kind: string;
  state: JobState;
  progress: JsonObject | null;
  at: string;
}

export type Unsubscribe = () => Promise<void>;

export interface PruneParams {
  completedBefore: Date;
  failedBefore: Date;
}

/** What a backend can do that the other cannot; behaviour is otherwise identical. */
export interface BackendCapabilities {
  /** Wake-ups and events arrive pushed (PostgreSQL LISTEN/NOTIFY) rather than by a short poll. */
  supportsListenNotify: boolean;
  /** Worker processes may run on other machines. */
  supportsRemoteWorkers: boolean;
}

export interface BackendStartOptions {
  /**
   * Worker processes run maintenance: rescuing expired leases (within seconds, so a dead
   * worker's job runs again well inside a minute), pruning retained jobs, and firing cron
   * schedules (each tick exactly once across every process). API processes leave it off.
   */
  maintenance?: boolean;
}

/**
 * The adapter contract: one implementation per database (pg-boss on PostgreSQL, our own on
 * SQLite), each passing the same conformance suite. Methods say entity and verb.
 */
export interface QueueBackend {
  readonly name: 'sqlite' | 'pg-boss';
  readonly capabilities: BackendCapabilities;

  /** Creates or upgrades the backend's tables (idempotent, safe to race), then starts timers. */
  start(options?: BackendStartOptions): Promise<void>;
  /** Closes connections and timers. Does not touch jobs. */
  stop(): Promise<void>;

  jobInsert<P = Json>(params: JobInsertParams<P>): Promise<JobInsertResult<P>>;
  jobInsertMany<P = Json>(params: ReadonlyArray<JobInsertParams<P>>): Promise<Array<JobInsertResult<P>>>;
  /**
   * Atomically moves up to `limit` ready jobs to `active`: `oldest` of them longest-waiting first,
   * the rest highest priority then oldest first.
   */
  jobClaim(params: JobClaimParams): Promise<ClaimedJob[]>;
  /**
   * Renews the lease. Each lease transition below is fenced by the lease token and answers
   * `{ stored: true }`, or what it found instead: another state (cancelled, rescued), another
   * attempt's lease (`reclaimed`), or no job.
   */
  jobHeartbeat(params: LeaseParams): Promise<Transition>;
  jobProgress(params: JobProgressParams): Promise<Transition>;
  /** Refused: the attempt's outcome is discarded. */
  jobComplete(params: JobCompleteParams): Promise<Transition>;
  /**
   * Optional batch form of `jobComplete`, same fencing, one outcome per item in order. The
   * worker uses it when present to store the outcomes of handlers that finish together in one
   * round trip (no-op drains are bound by these writes).
   */
  jobCompleteMany?(params: ReadonlyArray<JobCompleteParams>): Promise<Transition[]>;
  jobFail(params: JobFailParams): Promise<Transition>;
  /** Gives an active job back (graceful stop): queued again, its attempt not counted. */
  jobRelease(params: LeaseParams): Promise<Transition>;
  /**
   * Queued/retrying jobs never run; an active one is marked cancelled and its handler aborted.
   * Stored: the job as cancelled. Refused: the job as found (completed, failed, cancelled) or null.
   */
  jobCancel(id: string): Promise<JobTransition>;
  /**
   * A failed or cancelled job runs again with a fresh attempt budget. Stored: the job as queued.
   * Refused: the job as found (queued, retrying, active, completed) or null.
   */
  jobRetry(id: string): Promise<JobTransition>;
  /**
   * Set-based operator actions (runtime/bulk.ts validates the params): cancel waiting jobs, or
   * retry failed ones, matching a filter, at most `limit` per call; returns how many moved.
   */
  jobCancelMany(params: JobBulkParams): Promise<number>;
  jobRetryMany(params: JobBulkParams): Promise<number>;
  /** How many jobs `action` would take with `params`, counting at most `params.limit` (≤ 10,001). */
  jobCountMany(action: BulkAction, params: JobBulkParams): Promise<number>;
  jobGet(id: string): Promise<Job | null>;
  jobList(params: JobListParams): Promise<Page<Job>>;
  jobCounts(now?: Date): Promise<KindCounts[]>;
  /** Active jobs whose lease expired go to retrying (or failed); returns how many moved. */
  jobRescueExpired(now?: Date): Promise<number>;
  jobPrune(params: PruneParams): Promise<number>;

  scheduleUpsert(schedule: Schedule): Promise<void>;
  scheduleDelete(name: string): Promise<boolean>;
  scheduleList(): Promise<Schedule[]>;
  /** Every schedule's state in one read (the console's and API's schedule views). */
  scheduleStates(): Promise<ScheduleState[]>;
  /**
   * Pauses (`paused: true`) or resumes a schedule at `now`; false when there is no such schedule.
   * A paused schedule fires no tick; resuming counts ticks from `now`, so the ticks missed while
   * paused never fire (runtime/cron.ts). Pausing a paused schedule, or resuming a running one,
   * changes nothing.
   */
  schedulePause(name: string, paused: boolean, now?: Date): Promise<boolean>;
  /**
   * One cron pass at `now` (maintenance runs it; tests call it with the clock they choose): each
   * schedule's latest tick, if later than the last it fired, is sent once (runtime/cron.ts).
   * Returns the jobs this call sent.
   */
  scheduleFireDue(now?: Date): Promise<Job[]>;

  /**
   * Leader election (runtime/maintenance.ts): takes or renews lease `name` for `holder` until
   * `expiresAt` if it is free, expired at `now`, or already `holder`'s; true while it holds it.
   */
  leaderAcquire(params: { name: string; holder: string; expiresAt: Date; now: Date }): Promise<boolean>;
  /** Gives lease `name` up if `holder` holds it. */
  leaderResign(params: { name: string; holder: string }): Promise<void>;

  /**
   * Calls `listener` promptly when jobs of these kinds may be ready (new, retried, released), so
   * idle workers claim without waiting for a poll. Best effort: workers also poll slowly.
   */
  onJobsAvailable(kinds: readonly string[], listener: () => void): Promise<Unsubscribe>;
  /** State and progress changes of any job, from any process (SSE, cancellation of handlers). */
  onJobEvent(listener: (event: JobEvent) => void): Promise<Unsubscribe>;
}
