// The SQLite queue's statements, one named constant per operation, each opening with what it does
// and its parameters (`?` in order, or `@name`). Time is always a parameter (`now`, ISO-8601 UTC
// text), never the database clock, so tests control it.
//
// Plans are pinned: reads name their index with INDEXED BY, and updates of leased rows say NOT
// INDEXED, which leaves SQLite the rowid (job_no, carried in the lease token) and nothing else,
// so that a guard such as `state = 'active'` can never tempt it into scanning an index instead.

const JOB_COLUMNS = `id, kind, state, payload, priority, progress, attempts, max_attempts, result, error,
  owner, meta, idempotency_key, created_at, run_at, started_at, finished_at, lease_seconds,
  backoff_base_ms, backoff_max_ms`;

/** The lease expiry `lease_seconds` after `now` (an ISO instant), as ISO text with milliseconds. */
const leaseExpiry = (now: string) =>
  `strftime('%Y-%m-%dT%H:%M:%fZ', ${now}, '+' || lease_seconds || ' seconds')`;

// ---- sending ----------------------------------------------------------------------------------

/**
 * insert_job: a new queued job, unless a retained job of the same kind has the same idempotency
 * key: then nothing changes (the caller reads the existing one). Parameters: id, kind, payload,
 * priority, max_attempts, backoff_base_ms, backoff_max_ms, lease_seconds, owner, meta,
 * idempotency_key, created_at, run_at. No RETURNING: on this table it more than doubles the cost
 * of an insert (measured); the row count (or job_exists) tells whether it was created.
 */
export const INSERT_JOB = `
INSERT INTO queue_jobs (id, kind, state, payload, priority, max_attempts, backoff_base_ms, backoff_max_ms,
  lease_seconds, owner, meta, idempotency_key, created_at, run_at)
VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (kind, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`;

/** job_exists: whether a job with this id exists (an insert through an executor, which reports no row count). Parameters: id. */
export const JOB_EXISTS = 'SELECT 1 AS found FROM queue_jobs WHERE id = ?';

/** find_by_idempotency_key: the retained job holding (kind, key). Parameters: kind, key. */
export const FIND_BY_IDEMPOTENCY_KEY = `
SELECT ${JOB_COLUMNS} FROM queue_jobs INDEXED BY queue_jobs_idempotency
WHERE kind = ? AND idempotency_key = ? AND idempotency_key IS NOT NULL`;

/** get_job: one job by its public id. Parameters: id. */
export const GET_JOB = `SELECT job_no, ${JOB_COLUMNS} FROM queue_jobs WHERE id = ?`;

// ---- bookkeeping, in the transaction of every change --------------------------------------------

/**
 * add_counts: moves the per-(kind, state) counters by signed deltas. Parameter: a JSON array of
 * [kind, state, delta].
 */
export const ADD_COUNTS = `
INSERT INTO queue_counts (kind, state, n)
SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?) WHERE true
ON CONFLICT (kind, state) DO UPDATE SET n = n + excluded.n`;

/**
 * append_event: one event row for jobs of one kind that entered a state (or reported progress)
 * together. Parameters: kind, state, job ids (JSON array), progress JSON or null, run_at, at.
 */
export const APPEND_EVENT = `
INSERT INTO queue_events (kind, state, job_ids, progress, run_at, at) VALUES (?, ?, ?, ?, ?, ?)
RETURNING seq`;

// ---- claiming -----------------------------------------------------------------------------------

/**
 * claim_candidates: the first ready jobs of one kind in claim order (priority, then due time,
 * then insertion), read off the partial ready index. Parameters: kind, now, limit.
 */
export const CLAIM_CANDIDATES = `
SELECT job_no, state, priority, run_at FROM queue_jobs INDEXED BY queue_jobs_ready
WHERE state IN ('queued', 'retrying') AND kind = ? AND run_at <= ?
ORDER BY priority DESC, run_at, job_no
LIMIT ?`;

/**
 * ready_priorities: the distinct priorities of one kind's ready jobs, highest first, read by
 * skipping along the ready index (one probe per priority). Parameter: kind.
 */
export const READY_PRIORITIES = `
WITH RECURSIVE p(priority) AS (
  SELECT max(priority) FROM queue_jobs INDEXED BY queue_jobs_ready
  WHERE state IN ('queued', 'retrying') AND kind = @kind
  UNION ALL
  SELECT (SELECT max(priority) FROM queue_jobs INDEXED BY queue_jobs_ready
          WHERE state IN ('queued', 'retrying') AND kind = @kind AND priority < p.priority)
  FROM p WHERE p.priority IS NOT NULL
)
SELECT priority FROM p WHERE priority IS NOT NULL`;

/**
 * oldest_candidates: the ready jobs of one kind and priority that fell due first (the fairness
 * lane, runtime/fairness.ts), off the ready index. Parameters: kind, priority, now, limit.
 */
export const OLDEST_CANDIDATES = `
SELECT job_no, state, priority, run_at FROM queue_jobs INDEXED BY queue_jobs_ready
WHERE state IN ('queued', 'retrying') AND kind = ? AND priority = ? AND run_at <= ?
ORDER BY run_at, job_no
LIMIT ?`;

/**
 * claim_jobs: moves the chosen ready jobs to active, each under a fresh lease token
 * ('<job_no>.<64 random bits>') that expires lease_seconds after now; returns them with it. Runs in
 * the BEGIN IMMEDIATE transaction that chose them. Most jobs have the default lease, whose expiry
 * the caller computes once (date arithmetic per row is a measurable part of a claim); others get
 * theirs from SQLite's. The claiming worker is not stored (schema step 4): the row stays narrow.
 * Parameters: now (started_at), the default lease_seconds, its expiry, now (lease start), job_nos
 * as a JSON array.
 */
export const CLAIM_JOBS = `
UPDATE queue_jobs NOT INDEXED
SET state = 'active', attempts = attempts + 1, started_at = ?,
    lease_token = job_no || '.' || lower(hex(randomblob(8))),
    lease_expires_at = CASE lease_seconds WHEN ? THEN ? ELSE ${leaseExpiry('?')} END
WHERE job_no IN (SELECT value FROM json_each(?)) AND state IN ('queued', 'retrying')
RETURNING job_no, ${JOB_COLUMNS}, lease_token, lease_expires_at`;

// ---- leases: each statement below is fenced by (id, state = 'active', lease_token) --------------
// When one writes nothing, its transaction (transactions.ts) answers what it found with leases_found.

/**
 * heartbeat: renews the lease for lease_seconds from now. Parameters: now, job_no, id, lease_token.
 * Result: the row count (1: stored).
 */
export const HEARTBEAT = `
UPDATE queue_jobs NOT INDEXED SET lease_expires_at = ${leaseExpiry('?')}
WHERE job_no = ? AND id = ? AND state = 'active' AND lease_token = ?`;

/**
 * set_progress: stores the handler's progress. Parameters: progress JSON, job_no, id, lease_token.
 * Returns the job's kind and run_at when stored (for its event), no row otherwise.
 */
export const SET_PROGRESS = `
UPDATE queue_jobs NOT INDEXED SET progress = ?
WHERE job_no = ? AND id = ? AND state = 'active' AND lease_token = ?
RETURNING kind, run_at`;

/**
 * complete_many: the attempts succeeded; each item is fenced on its own. Parameter: a JSON array
 * of [job_no, id, lease_token, result JSON text or null, finished_at]. Returns the jobs completed.
 */
export const COMPLETE_MANY = `
UPDATE queue_jobs NOT INDEXED
SET state = 'completed', result = done.value ->> 3, error = NULL, finished_at = done.value ->> 4,
    lease_token = NULL, lease_expires_at = NULL
FROM json_each(?) AS done
WHERE queue_jobs.job_no = done.value ->> 0 AND queue_jobs.id = done.value ->> 1
  AND queue_jobs.state = 'active' AND queue_jobs.lease_token = done.value ->> 2
RETURNING queue_jobs.job_no, queue_jobs.id, queue_jobs.kind`;

/**
 * complete_without_result: the same for attempts that returned no result (null), finished at the
 * same instant, as one set-based update: no per-item values to pick out of the batch, so each row
 * is found by job_no and fenced by one lookup of its (id, lease_token) pair in the batch's set.
 * Parameters: finished_at, job_nos (JSON array), pairs (JSON array of id || ' ' || lease_token).
 * Returns the jobs completed.
 */
export const COMPLETE_WITHOUT_RESULT = `
UPDATE queue_jobs NOT INDEXED
SET state = 'completed', result = NULL, error = NULL, finished_at = ?,
    lease_token = NULL, lease_expires_at = NULL
WHERE job_no IN (SELECT value FROM json_each(?)) AND state = 'active'
  AND id || ' ' || lease_token IN (SELECT value FROM json_each(?))
RETURNING job_no, id, kind`;

/**
 * leased_attempt: what deciding a failure needs (attempts, limit, backoff) of an attempt whose
 * lease is still ours. Parameters: job_no, id, lease_token. No row: the lease is not ours.
 */
export const LEASED_ATTEMPT = `
SELECT job_no, id, kind, lease_token, attempts, max_attempts, backoff_base_ms, backoff_max_ms, run_at
FROM queue_jobs NOT INDEXED WHERE job_no = ? AND id = ? AND state = 'active' AND lease_token = ?`;

/**
 * fail_attempt: the attempt failed (jobFail) or its lease expired (rescue): `retrying` at a
 * backed-off run_at, or `failed` for good with finished_at set. Parameters: state, run_at, error
 * JSON, finished_at (null when retrying), job_no, lease_token. Result: the row count (1: stored).
 */
export const FAIL_ATTEMPT = `
UPDATE queue_jobs NOT INDEXED
SET state = ?, run_at = ?, error = ?, finished_at = ?, lease_token = NULL, lease_expires_at = NULL
WHERE job_no = ? AND state = 'active' AND lease_token = ?`;

/**
 * release: a graceful stop gives the job back: queued again at its place, the attempt not counted.
 * Parameters: job_no, id, lease_token. Returns the job's kind and run_at when stored, no row otherwise.
 */
export const RELEASE = `
UPDATE queue_jobs NOT INDEXED
SET state = 'queued', attempts = attempts - 1, started_at = NULL, lease_token = NULL, lease_expires_at = NULL
WHERE job_no = ? AND id = ? AND state = 'active' AND lease_token = ?
RETURNING kind, run_at`;

/**
 * expired_leases: active jobs whose lease ran out before now (their worker died or hung), with
 * what rescuing them needs. Parameters: now, limit.
 */
export const EXPIRED_LEASES = `
SELECT job_no, id, kind, lease_token, attempts, max_attempts, backoff_base_ms, backoff_max_ms, run_at
FROM queue_jobs INDEXED BY queue_jobs_lease
WHERE state = 'active' AND lease_expires_at < ?
LIMIT ?`;

/**
 * leases_found: what refused lease transitions found instead, read in their transaction: each
 * job's state, and whether another attempt's lease holds it (active under another token), by the
 * attempt's place in the list (n). A job that does not exist has no row. Parameter: a JSON array
 * of [id, lease_token].
 */
export const LEASES_FOUND = `
SELECT tried.key AS n, j.state, j.state = 'active' AND j.lease_token IS NOT tried.value ->> 1 AS reclaimed
FROM json_each(?) AS tried JOIN queue_jobs j ON j.id = tried.value ->> 0`;

// ---- operator actions ---------------------------------------------------------------------------

/**
 * cancel: a queued, retrying or active job (read just before in the same transaction, in state
 * `from`) becomes cancelled; an active one's lease stops working at once. Parameters: now,
 * job_no, from. Returns the job as cancelled (no row: `from` is not a state it leaves).
 */
export const CANCEL = `
UPDATE queue_jobs NOT INDEXED
SET state = 'cancelled', finished_at = ?, lease_token = NULL, lease_expires_at = NULL
WHERE job_no = ? AND state = ? AND state IN ('queued', 'retrying', 'active')
RETURNING ${JOB_COLUMNS}`;

/**
 * retry: a failed or cancelled job (in state `from`) is queued again, due now, with a fresh
 * attempt budget and its last outcome cleared. Parameters: now, job_no, from. Returns the job as
 * queued (no row: `from` is not a state it leaves).
 */
export const RETRY = `
UPDATE queue_jobs NOT INDEXED
SET state = 'queued', attempts = 0, run_at = ?, error = NULL, result = NULL, progress = NULL,
    started_at = NULL, finished_at = NULL
WHERE job_no = ? AND state = ? AND state IN ('failed', 'cancelled')
RETURNING ${JOB_COLUMNS}`;

/** Which filters a bulk action's candidate query has (the states: how many placeholders). */
export interface BulkShape {
  states: number;
  kind: boolean;
  owner: boolean;
  from: boolean;
  before: boolean;
}

/**
 * bulk_candidates: the jobs a bulk action takes, oldest first. Parameters: the states, then kind,
 * owner, created from, created before for the filters present, then the limit.
 */
export function bulkCandidates(shape: BulkShape): string {
  return `SELECT job_no, state FROM queue_jobs WHERE ${bulkWhere(shape)} ORDER BY created_at, id LIMIT ?`;
}

/**
 * bulk_count: how many jobs in one `state` bulkCandidates would pick, at most the limit, read
 * along that state's partial list index (only rows in its states, so a few failed jobs among a
 * million completed ones cost a few reads). Parameters: the state, then as bulkCandidates.
 */
export function bulkCount(shape: BulkShape, state: keyof typeof STATE_INDEX): string {
  const { index, term } = STATE_INDEX[state];
  return `SELECT count(*) AS n FROM (SELECT 1 FROM queue_jobs INDEXED BY ${index}
    WHERE ${term} AND ${bulkWhere({ ...shape, states: 1 })} LIMIT ?)`;
}

function bulkWhere(shape: BulkShape): string {
  const where = [`state IN (${Array.from({ length: shape.states }, () => '?').join(', ')})`];
  if (shape.kind) where.push('kind = ?');
  if (shape.owner) where.push('owner = ?');
  if (shape.from) where.push('created_at >= ?');
  if (shape.before) where.push('created_at < ?');
  return where.join(' AND ');
}

// ---- reads --------------------------------------------------------------------------------------

/** counts: jobs per (kind, state) from the maintained counters. No parameters. */
export const COUNTS = 'SELECT kind, state, n FROM queue_counts WHERE n <> 0 ORDER BY kind';

/** kinds_in_state: the kinds that have jobs in a state (to list a state across kinds). Parameters: state. */
export const KINDS_IN_STATE = 'SELECT kind FROM queue_counts WHERE state = ? AND n > 0 ORDER BY kind';

/** `levels`: a kind's distinct priorities among its waiting jobs, one seek of the ready index each. */
const READY_LEVELS_CTE = `
WITH RECURSIVE levels(priority) AS (
  SELECT (SELECT priority FROM queue_jobs INDEXED BY queue_jobs_ready
          WHERE state IN ('queued', 'retrying') AND kind = @kind ORDER BY priority DESC LIMIT 1)
  UNION ALL
  SELECT (SELECT priority FROM queue_jobs INDEXED BY queue_jobs_ready
          WHERE state IN ('queued', 'retrying') AND kind = @kind AND priority < levels.priority
          ORDER BY priority DESC LIMIT 1)
  FROM levels WHERE levels.priority IS NOT NULL
)`;

/**
 * oldest_ready: when the longest-waiting of a kind's jobs ready at @now became due: the earliest
 * max(run_at, created_at) (a job inserted with a past runAt is due since its creation), as on
 * PostgreSQL. Read off the ready index without a scan: the recursive part walks the kind's
 * distinct priorities (one seek each); per priority, the first entry by run_at became due at d,
 * and a job due earlier has run_at <= its due time < d, so only the entries up to d are read.
 * Parameters: @kind, @now.
 */
export const OLDEST_READY = `
${READY_LEVELS_CTE}
SELECT min((SELECT min(max(run_at, created_at)) FROM queue_jobs INDEXED BY queue_jobs_ready
            WHERE state IN ('queued', 'retrying') AND kind = @kind AND priority = levels.priority
              -- One upper bound, so that it bounds the index range (two would leave @now to bound
              -- it and read every ready entry of the priority).
              AND run_at <= min(@now, (SELECT max(run_at, created_at) FROM queue_jobs INDEXED BY queue_jobs_ready
                             WHERE state IN ('queued', 'retrying') AND kind = @kind
                               AND priority = levels.priority AND run_at <= @now
                             ORDER BY run_at LIMIT 1))))
FROM levels WHERE levels.priority IS NOT NULL`;

/** ready_levels: a kind's distinct priorities among waiting jobs, one seek each. Parameters: @kind. */
export const READY_LEVELS = `
${READY_LEVELS_CTE}
SELECT priority FROM levels WHERE priority IS NOT NULL`;

/**
 * waiting_later: how many of a kind's waiting jobs of one priority are due after @now, counted
 * along the ready index (a range of it, index-only) up to @cap. Parameters: @kind, @priority,
 * @now, @cap.
 */
export const WAITING_LATER = `
SELECT count(*) FROM (
  SELECT 1 FROM queue_jobs INDEXED BY queue_jobs_ready
  WHERE state IN ('queued', 'retrying') AND kind = @kind AND priority = @priority AND run_at > @now
  LIMIT @cap)`;

export interface ListFilter {
  kind: boolean;
  state: 'queued' | 'retrying' | 'active' | 'completed' | 'failed' | 'cancelled' | null;
  owner: boolean;
  /** created_at from and before, id from and before (runtime/list-range.ts). */
  createdFrom: boolean;
  createdBefore: boolean;
  idFrom: boolean;
  idBefore: boolean;
  after: boolean;
}

/** The partial index that holds the jobs of a state, with the term that lets SQLite use it. */
const STATE_INDEX = {
  queued: { index: 'queue_jobs_queued_list', term: "state = 'queued'" },
  completed: { index: 'queue_jobs_completed_list', term: "state = 'completed'" },
  retrying: { index: 'queue_jobs_unhappy_list', term: "state IN ('retrying', 'failed', 'cancelled')" },
  failed: { index: 'queue_jobs_unhappy_list', term: "state IN ('retrying', 'failed', 'cancelled')" },
  cancelled: { index: 'queue_jobs_unhappy_list', term: "state IN ('retrying', 'failed', 'cancelled')" },
  // Active jobs are as many as there are worker slots: all of them, sorted.
  active: { index: 'queue_jobs_lease', term: "state = 'active'" },
} as const;

/**
 * list_jobs: one page, newest first, keyset on (created_at, id), along the index that fits the
 * filters: an owner's jobs; a kind's jobs in a state (that state's partial index); a kind's jobs;
 * all jobs. A state across kinds is one such query per kind, merged by the caller. Parameters:
 * kind, state, owner, created from and before, id from and before (those filtered on, in that
 * order), then the cursor's created_at and id
 * when paging on, then limit (one more than the page, to learn whether another follows).
 */
export function listJobs(filter: ListFilter): string {
  let index: string;
  const terms: string[] = [];
  if (filter.owner) index = 'queue_jobs_owner_list';
  else if (filter.state !== null) {
    index = STATE_INDEX[filter.state].index;
    terms.push(STATE_INDEX[filter.state].term);
  } else index = filter.kind ? 'queue_jobs_kind_list' : 'queue_jobs_list';
  if (filter.kind) terms.push('kind = ?');
  if (filter.state !== null) terms.push('state = ?');
  if (filter.owner) terms.push('owner = ?');
  // Ranges on the index's created_at (after its equality columns), then exact bounds on the id.
  if (filter.createdFrom) terms.push('created_at >= ?');
  if (filter.createdBefore) terms.push('created_at < ?');
  if (filter.idFrom) terms.push('id >= ?');
  if (filter.idBefore) terms.push('id < ?');
  if (filter.after) terms.push('(created_at, id) < (?, ?)');
  // An id prefix reads the id's unique index and sorts what it spans (few rows for a few digits).
  return `
SELECT ${JOB_COLUMNS} FROM queue_jobs ${filter.idFrom ? '' : `INDEXED BY ${index}`}
${terms.length > 0 ? `WHERE ${terms.join(' AND ')}` : ''}
ORDER BY created_at DESC, id DESC
LIMIT ?`;
}

// ---- events and wake-ups --------------------------------------------------------------------------

/**
 * data_version: changes whenever another connection (of any process) commits to the file. A
 * dedicated connection polls it every millisecond or two; it costs a read of shared memory.
 */
export const DATA_VERSION = 'PRAGMA data_version';

/** last_event_seq: where a new listener starts tailing. No parameters. */
export const LAST_EVENT_SEQ =
  "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'queue_events'), 0)";

/** events_after: the events committed after seq, in order. Parameters: seq, limit. */
export const EVENTS_AFTER = `
SELECT seq, kind, state, job_ids, progress, run_at, at FROM queue_events
WHERE seq > ? ORDER BY seq LIMIT ?`;

// ---- maintenance ----------------------------------------------------------------------------------

/**
 * prune_completed: deletes up to limit of a kind's completed jobs that finished before a cutoff,
 * oldest first (a job finishes after it was created, so only jobs created before the cutoff are
 * looked at). Returns what it deleted, for the counters. Parameters: kind, cutoff, cutoff, limit.
 */
export const PRUNE_COMPLETED = `
DELETE FROM queue_jobs WHERE job_no IN (
  SELECT job_no FROM queue_jobs INDEXED BY queue_jobs_completed_list
  WHERE state = 'completed' AND kind = ? AND created_at < ? AND finished_at < ?
  ORDER BY created_at LIMIT ?)
RETURNING kind, state`;

/** prune_failed: the same for failed and cancelled jobs. Parameters: kind, cutoff, cutoff, limit. */
export const PRUNE_FAILED = `
DELETE FROM queue_jobs WHERE job_no IN (
  SELECT job_no FROM queue_jobs INDEXED BY queue_jobs_unhappy_list
  WHERE state IN ('retrying', 'failed', 'cancelled') AND kind = ? AND created_at < ?
    AND state IN ('failed', 'cancelled') AND finished_at < ?
  ORDER BY created_at LIMIT ?)
RETURNING kind, state`;

/** prune_events: deletes up to limit of the oldest events older than a cutoff. Parameters: cutoff, limit. */
export const PRUNE_EVENTS = `
DELETE FROM queue_events WHERE seq IN (
  SELECT seq FROM queue_events WHERE at < ? ORDER BY seq LIMIT ?)`;

/**
 * leader_acquire: takes or renews the named lease until expires_at when it is free, expired, or
 * already ours; one row changed means we hold it. Parameters: name, holder, expires_at, now.
 */
export const LEADER_ACQUIRE = `
INSERT INTO queue_leader (name, holder, expires_at) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
WHERE queue_leader.holder = excluded.holder OR queue_leader.expires_at < ?`;

/** leader_resign: gives the lease up at stop, so another process leads at once. Parameters: name, holder. */
export const LEADER_RESIGN = 'DELETE FROM queue_leader WHERE name = ? AND holder = ?';

// ---- schedules --------------------------------------------------------------------------------------

/**
 * schedule_upsert: adds or replaces a schedule. A new or re-timed schedule (cron or time zone
 * changed) counts its ticks from now, so no backlog fires. Parameters: name, cron, timezone,
 * kind, payload JSON, options JSON, now (last_tick_at), now (updated_at).
 */
export const SCHEDULE_UPSERT = `
INSERT INTO queue_schedules (name, cron, timezone, kind, payload, options, last_tick_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET
  last_tick_at = CASE WHEN queue_schedules.cron IS excluded.cron AND queue_schedules.timezone IS excluded.timezone
                      THEN queue_schedules.last_tick_at ELSE excluded.last_tick_at END,
  cron = excluded.cron, timezone = excluded.timezone, kind = excluded.kind, payload = excluded.payload,
  options = excluded.options, updated_at = excluded.updated_at`;

/** schedule_delete: Parameters: name. */
export const SCHEDULE_DELETE = 'DELETE FROM queue_schedules WHERE name = ?';

/** schedule_list: every schedule by name. No parameters. */
export const SCHEDULE_LIST = `
SELECT name, cron, timezone, kind, payload, options, last_tick_at, paused_at IS NOT NULL AS paused
FROM queue_schedules ORDER BY name`;

/** schedule_states: every schedule's pause and last job (ScheduleState). No parameters. */
export const SCHEDULE_STATES = `
SELECT name, paused_at IS NOT NULL AS paused, last_run_at, last_job_id FROM queue_schedules ORDER BY name`;

/**
 * schedule_advance: records that a schedule fired its tick and the job it sent, unless somebody
 * else moved it first (a leader that overlapped ours) or it was paused meanwhile. Parameters:
 * tick, jobId, name, last (the last_tick_at read before).
 */
export const SCHEDULE_ADVANCE = `
UPDATE queue_schedules SET last_tick_at = @tick, last_run_at = @tick, last_job_id = @jobId
WHERE name = @name AND last_tick_at IS @last AND paused_at IS NULL`;

/** schedule_pause: pauses a schedule from now on (a paused one keeps its time). Parameters: now, name. */
export const SCHEDULE_PAUSE = 'UPDATE queue_schedules SET paused_at = coalesce(paused_at, ?) WHERE name = ?';

/**
 * schedule_resume: a paused schedule counts its ticks from now, so the ticks missed while it was
 * paused never fire; a running one is left as it is. Parameters: now, name.
 */
export const SCHEDULE_RESUME = `
UPDATE queue_schedules SET last_tick_at = CASE WHEN paused_at IS NULL THEN last_tick_at ELSE ? END, paused_at = NULL
WHERE name = ?`;
