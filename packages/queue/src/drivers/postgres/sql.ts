// Every statement the pg-boss adapter runs itself, one named builder per operation.
//
// Jobs live in pg-boss's own job table (`<boss>.job_common`, where every non-partitioned queue
// keeps its rows), so pg-boss's tooling sees them. What pg-boss lacks is added beside it, in a
// schema of ours (`<ours>`):
//
//   - fencing: the lease token is the claim's `started_on` (microseconds since the epoch), and every
//     transition out of `active` is an UPDATE guarded by `state = 'active'` and that token;
//   - idempotency: a unique index on (name, singleton_key) for keyed jobs;
//   - order: ids are UUIDv7 chosen at insert and `created_on` is the id's millisecond, so pg-boss's
//     primary key (name, id) is also creation order and serves newest-first pages;
//   - counts: `<ours>.job_count`, moved by every statement that moves a job between states (a
//     data-modifying CTE, planned once with the statement), sharded by backend pid so concurrent
//     writers rarely touch the same counter row. Every write to the job table is one of these
//     statements: pg-boss's own supervisor and timekeeper, which write jobs too, are not run;
//   - events and wake-ups: NOTIFY payloads built in the same statement, delivered at its commit.
//
// pg-boss bookkeeping is kept the way its own plans keep it: `retry_count` goes up when a job that
// has started before is claimed again (so attempts = retry_count + 1 while a job has a start),
// `completed_on` is set on every terminal state, `output` holds what the attempt left behind (ours
// is an object: result, error, progress, worker), and a failure with attempts left goes to `retry`
// with `start_after` pushed out by the backoff the runtime computed (runtime/retry.ts).
//
// Time: every time-dependent statement takes `now` as a parameter and falls back to the database
// clock (`now()`) when it is null, so tests control time and production agrees with one clock.
//
// Durability: inserts and operator actions commit synchronously. A worker's transitions (claim,
// heartbeat, progress, complete, fail, release, rescue) commit asynchronously (`asyncCommit`): a
// *database* crash may forget the last fraction of a second of them, which only makes a job run
// again (a forgotten claim is claimed again; a forgotten outcome leaves the job active until its
// lease is rescued) — the at-least-once delivery handlers are written for anyway. In exchange a
// commit does not wait for its WAL flush while holding PostgreSQL's NOTIFY commit lock, which
// serializes every transaction that notifies: with synchronous commits the events of a busy
// drain cost it about 40 % of its throughput.

import { LEASE_EXPIRED_ERROR } from '../../runtime/retry.ts';

/** Schema-qualified names every statement is built from. */
export interface SqlNames {
  /** pg-boss's schema (`pgboss` by default). */
  boss: string;
  /** Our schema beside it. */
  ours: string;
  /** pg-boss's NOTIFY channel for notify-enabled queues; ours carries `kind` or `kind@epochMs`. */
  wakeChannel: string;
  /** The NOTIFY channel job events go out on. */
  eventsChannel: string;
}

/** Counter rows per (kind, state): writers pick one by backend pid, readers sum them. */
const COUNT_SHARDS = 64;

/** A progress object larger than this is not inlined into an event; listeners read it back. */
const EVENT_PROGRESS_MAX_BYTES = 1000;

const table = (n: SqlNames) => `${n.boss}.job_common`;

/** The columns every `Job` is built from (rows.ts `JobRow`), in order. */
const JOB_COLUMN_NAMES = [
  'id',
  'name',
  'data',
  'priority',
  'state',
  'retry_count',
  'retry_limit',
  'start_after',
  'created_on',
  'started_on',
  'completed_on',
  'output',
  'singleton_key',
  'singleton_slot',
  'heartbeat_seconds',
] as const;

/** Those columns read from the job table (alias `j`); `singleton_slot` names a pg-boss throttle slot. */
const jobColumns = `j.id, j.name, j.data, j.priority, j.state::text AS state, j.retry_count, j.retry_limit,
  j.start_after, j.created_on, j.started_on, j.completed_on, j.output, j.singleton_key,
  to_char(j.singleton_on, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS singleton_slot, j.heartbeat_seconds`;

/** Those columns read back from a CTE that returned `jobColumns`. */
const jobColumnsOf = (alias: string) => JOB_COLUMN_NAMES.map((c) => `${alias}.${c}`).join(', ');

/** The lease token of an active job: its claim's start in microseconds since the epoch. */
const leaseToken = `(extract(epoch FROM j.started_on) * 1000000)::bigint::text`;

/** The token guard every fenced statement carries; `token` is a bigint parameter or column. */
const tokenMatches = (token: string) => `(extract(epoch FROM j.started_on) * 1000000)::bigint = ${token}`;

/**
 * The `reclaimed` of a refused lease transition by attempt (`kind`, `token`) on job j: active
 * under another attempt's lease. A null kind or token (a malformed one) holds no lease. The rule
 * is written here only; every refusal reads it from SQL.
 */
const reclaimedBy = (kind: string, token: string) =>
  `(j.state = 'active' AND (j.name = ${kind} AND ${tokenMatches(token)}) IS NOT TRUE)`;

/** The attempt that ends keeps its progress; everything else in `output` is replaced. */
const keptProgress = `CASE WHEN j.output ? 'progress' THEN jsonb_build_object('progress', j.output->'progress') ELSE '{}'::jsonb END`;

/**
 * A CTE making the statement's transaction commit without waiting for its WAL flush (SET LOCAL
 * synchronous_commit, as a function so it fits one prepared statement); see Durability above.
 * Volatile, so the CTE is materialized, and every statement using it reads it.
 */
const asyncCommit = `durability AS (SELECT set_config('synchronous_commit', 'off', true) AS setting)`;

/**
 * Marks the statement's inserts and deletes as counted by the statement itself, for the
 * `offload_count_*` triggers (install): they count the inserts and deletes made through pg-boss's
 * own API (its `send()`, its queue deletion), skip ours and clear the mark. A CTE; the statement
 * must read it (`CROSS JOIN counted_here`) so that it runs whenever a row is written.
 */
const countedHere = `counted_here AS (SELECT set_config('offload_queue.counted', 'on', true) AS mark)`;

/**
 * The counter moves of the rows in `source` (columns `name`, `state`: the state now or null when
 * deleted, `old_state`: the state before or null when inserted), as one upsert in (kind, state)
 * order, so two statements never lock counter rows in opposite orders.
 */
const countMoves = (n: SqlNames, source: string) => `
  INSERT INTO ${n.ours}.job_count AS c (kind, state, shard, n)
  SELECT m.kind, m.state, pg_backend_pid() % ${COUNT_SHARDS}, sum(m.d)::bigint
  FROM (
    SELECT s.name AS kind, s.state, 1 AS d FROM ${source} s WHERE s.state IS NOT NULL
    UNION ALL
    SELECT s.name, s.old_state, -1 FROM ${source} s WHERE s.old_state IS NOT NULL
  ) m
  GROUP BY m.kind, m.state HAVING sum(m.d) <> 0
  ORDER BY m.kind, m.state
  ON CONFLICT (kind, state, shard) DO UPDATE SET n = c.n + excluded.n`;

/**
 * Sends one event per row of `source` (columns id, name, state, at, progress) as JSON arrays
 * `[id, kind, pg-boss state, epoch ms, progress, truncated]`, as many per NOTIFY as fit under its
 * 8000-byte limit (a chunk closes past 6500 bytes; one event is at most ~1200). Concatenated, not
 * json_build_array: ids, kinds and states need no escaping, and it is a third cheaper.
 */
const emitEvents = (n: SqlNames, source: string) => `(
  SELECT count(pg_notify('${n.eventsChannel}', p.payload)) FROM (
    SELECT '[' || string_agg(c.e, ',' ORDER BY c.i) || ']' AS payload
    FROM (
      SELECT x.e, x.i, floor(sum(octet_length(x.e) + 1) OVER (ORDER BY x.i) / 6500) AS chunk
      FROM (
        SELECT '["' || s.id || '","' || s.name || '","' || s.state || '",'
          || floor(date_part('epoch', s.at) * 1000)::bigint
          || CASE
               WHEN s.progress IS NULL THEN ',null,false]'
               WHEN octet_length(s.progress::text) <= ${EVENT_PROGRESS_MAX_BYTES} THEN ',' || s.progress::text || ',false]'
               ELSE ',null,true]'
             END AS e,
          row_number() OVER () AS i
        FROM ${source} s
      ) x
    ) c
    GROUP BY c.chunk
  ) p)`;

/**
 * Wakes the workers of each kind in `source` (columns name, start_after): `kind` when one of its
 * jobs is ready now, `kind@epochMs` when the earliest becomes ready later (listeners set a timer).
 */
const wakeKinds = (n: SqlNames, source: string) => `(
  SELECT count(pg_notify('${n.wakeChannel}', CASE WHEN w.at <= now() THEN w.name
    ELSE w.name || '@' || floor(date_part('epoch', w.at) * 1000)::bigint END))
  FROM (SELECT s.name, min(s.start_after) AS at FROM ${source} s GROUP BY s.name) w)`;

/**
 * The distinct priorities of a kind's unclaimed jobs (the `kind` parameter of oldest_ready), one
 * seek each along pg-boss's fetch index: the `priorities` CTE of oldest_ready, in steps 1 and 5.
 */
const readyPriorities = (n: SqlNames) => `  WITH RECURSIVE priorities AS (
    (SELECT j.priority FROM ${table(n)} j
      WHERE j.name = kind AND j.state < 'active' AND NOT j.blocked
      ORDER BY j.priority DESC LIMIT 1)
    UNION ALL
    SELECT (SELECT j.priority FROM ${table(n)} j
      WHERE j.name = kind AND j.state < 'active' AND NOT j.blocked AND j.priority < p.priority
      ORDER BY j.priority DESC LIMIT 1)
    FROM priorities p WHERE p.priority IS NOT NULL
  )`;

/**
 * Our schema's numbered steps, in order. Step i runs once, in the install transaction of the first
 * process that finds `<ours>.version` below i; a released step is never edited, a change is a new
 * step. (Step 1 once also created a `retry_delay()` function; step 2 drops it where it exists.)
 */
const extrasSteps = (n: SqlNames): string[] => [
  // 1: counters, maintenance claims, the cursor secret, our indexes on pg-boss's job table, the
  //    oldest-ready probe; the counters seeded from the table, with writers kept out meanwhile.
  `
CREATE TABLE ${n.ours}.job_count (
  kind text NOT NULL,
  state text NOT NULL,
  shard int NOT NULL,
  n bigint NOT NULL,
  PRIMARY KEY (kind, state, shard)
);
CREATE TABLE ${n.ours}.maintenance (
  task text PRIMARY KEY,
  ran_at timestamptz NOT NULL
);
-- The key list cursors are signed with, shared by every process on this database.
CREATE TABLE ${n.ours}.secret (
  name text PRIMARY KEY,
  value text NOT NULL
);
INSERT INTO ${n.ours}.secret (name, value)
  VALUES ('cursor', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));
-- Idempotency: one retained job per (kind, key). (Rows pg-boss throttles, with a slot in
-- singleton_on, are deduplicated by its own job_i4 instead.)
CREATE UNIQUE INDEX IF NOT EXISTS offload_job_idempotency ON ${table(n)} (name, singleton_key)
  WHERE singleton_key IS NOT NULL AND singleton_on IS NULL;
-- The running set, small whatever the table's size (lease rescue, lists of active jobs).
CREATE INDEX IF NOT EXISTS offload_job_active ON ${table(n)} (name, id) WHERE state = 'active';
-- An owner's jobs, newest first; jobs without an owner are not in it. Pages of a kind, and the
-- unfiltered list merged over kinds, read pg-boss's primary key (name, id) instead: a full index
-- here would cost every claim and completion an extra entry (state changes are never HOT updates).
CREATE INDEX IF NOT EXISTS offload_job_owner ON ${table(n)} ((data->>'owner'), id)
  WHERE data->>'owner' IS NOT NULL;
-- When the oldest job of a kind that is ready at 'at' was created, read along pg-boss's fetch
-- index (name, priority DESC, created_on, start_after): one short probe per distinct priority.
CREATE FUNCTION ${n.ours}.oldest_ready(kind text, at timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $fn$
${readyPriorities(n)}
  SELECT min((SELECT j.created_on FROM ${table(n)} j
      WHERE j.name = kind AND j.priority = p.priority AND j.state < 'active' AND NOT j.blocked
        AND j.start_after <= at
      ORDER BY j.created_on LIMIT 1))
  FROM priorities p WHERE p.priority IS NOT NULL
$fn$;
LOCK TABLE ${table(n)} IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO ${n.ours}.job_count (kind, state, shard, n)
  SELECT name, state::text, 0, count(*) FROM ${table(n)} GROUP BY 1, 2;`,

  // 2: retry delays move to the runtime (runtime/retry.ts); per-schedule last ticks for the one
  //    cron policy (runtime/cron.ts); counters for jobs written through pg-boss's own API.
  `
DROP FUNCTION IF EXISTS ${n.ours}.retry_delay(jsonb, int);
-- The last tick each schedule fired (or, before its first, when it was saved).
CREATE TABLE ${n.ours}.schedule_tick (
  name text PRIMARY KEY,
  cron text NOT NULL,
  timezone text NOT NULL,
  last_tick_at timestamptz NOT NULL
);
-- Jobs written through pg-boss's own API (a send(), a queue deleted) are counted here, so our
-- counters stay right when pg-boss's tooling shares the table; our own statements count their
-- moves themselves and mark it (countedHere), which these skip and clear. Statement-level: one
-- upsert per statement. pg-boss's own fetch/complete/fail (its work()) are not counted: Offload's
-- workers run the jobs, whoever sent them (docs/queue.md).
CREATE FUNCTION ${n.ours}.count_foreign_writes() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  IF current_setting('offload_queue.counted', true) = 'on' THEN
    PERFORM set_config('offload_queue.counted', '', true);
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO ${n.ours}.job_count AS c (kind, state, shard, n)
      SELECT r.name, r.state::text, pg_backend_pid() % ${COUNT_SHARDS}, count(*) FROM new_rows r
      GROUP BY 1, 2 ORDER BY 1, 2
      ON CONFLICT (kind, state, shard) DO UPDATE SET n = c.n + excluded.n;
  ELSE
    INSERT INTO ${n.ours}.job_count AS c (kind, state, shard, n)
      SELECT r.name, r.state::text, pg_backend_pid() % ${COUNT_SHARDS}, -count(*) FROM old_rows r
      GROUP BY 1, 2 ORDER BY 1, 2
      ON CONFLICT (kind, state, shard) DO UPDATE SET n = c.n + excluded.n;
  END IF;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER offload_count_inserts AFTER INSERT ON ${table(n)}
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${n.ours}.count_foreign_writes();
CREATE TRIGGER offload_count_deletes AFTER DELETE ON ${table(n)}
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${n.ours}.count_foreign_writes();`,

  // 3: one leader election for cron and pruning (runtime/maintenance.ts), as on SQLite; the
  //    per-task interval claims of step 1 are no longer used.
  `
CREATE TABLE ${n.ours}.leader (
  name text PRIMARY KEY,
  holder text NOT NULL,
  expires_at timestamptz NOT NULL
);
DROP TABLE ${n.ours}.maintenance;`,

  // 4: list cursors are signed with the deployment's one cursor secret (@offload/db's `secrets`
  //    table or CURSOR_SECRET, passed in as cursorSecret), no longer with a key of the queue's own.
  `
DROP TABLE ${n.ours}.secret;`,

  // 5: oldest_ready answers when the longest-waiting ready job became due: the earliest
  //    greatest(created_on, start_after) (a retry is due at its start_after, not at its creation),
  //    as on SQLite. Per priority, the first ready job along the fetch index (by created_on)
  //    became due at d; a job due earlier was created before d, so only entries up to d are read.
  `
CREATE OR REPLACE FUNCTION ${n.ours}.oldest_ready(kind text, at timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $fn$
${readyPriorities(n)}
  SELECT min((SELECT min(greatest(j.created_on, j.start_after)) FROM ${table(n)} j
      WHERE j.name = kind AND j.priority = p.priority AND j.state < 'active' AND NOT j.blocked
        AND j.start_after <= at AND j.created_on <= f.due))
  FROM priorities p
  CROSS JOIN LATERAL (SELECT greatest(j.created_on, j.start_after) AS due FROM ${table(n)} j
      WHERE j.name = kind AND j.priority = p.priority AND j.state < 'active' AND NOT j.blocked
        AND j.start_after <= at
      ORDER BY j.created_on LIMIT 1) f
  WHERE p.priority IS NOT NULL
$fn$;`,

  // 6: schedules paused and resumed, and the job each one last sent (the schedule views); the
  //    waiting jobs of a kind in runAt order, to count those due later (count_jobs).
  `
ALTER TABLE ${n.ours}.schedule_tick
  ADD COLUMN paused_at timestamptz,
  ADD COLUMN last_run_at timestamptz,
  ADD COLUMN last_job_id text;
-- Waiting jobs only: a claim leaves it (as it leaves pg-boss's fetch index), a completion never enters it.
CREATE INDEX IF NOT EXISTS offload_job_waiting ON ${table(n)} (name, start_after) WHERE state < 'active';`,
];

/** The step our schema is at once `install` ran. */
export const EXTRAS_VERSION = 6;

/**
 * install: runs the steps of our schema the database has not had yet (extrasSteps), in one
 * transaction serialized by an advisory lock, so every process runs it at start-up and the first
 * one does the work. Each step is run by a DO block that checks the recorded version first.
 */
export const install = (n: SqlNames) => {
  const steps = extrasSteps(n);
  if (steps.length !== EXTRAS_VERSION) throw new Error('EXTRAS_VERSION must be the number of extrasSteps');
  return `
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('offload-queue-install:' || '${n.ours}'));
CREATE SCHEMA IF NOT EXISTS ${n.ours};
CREATE TABLE IF NOT EXISTS ${n.ours}.version (version int NOT NULL);
${steps
  .map(
    (step, i) => `DO $step$
BEGIN
  IF COALESCE((SELECT max(version) FROM ${n.ours}.version), 0) < ${i + 1} THEN
${step}
    DELETE FROM ${n.ours}.version;
    INSERT INTO ${n.ours}.version (version) VALUES (${i + 1});
  END IF;
END
$step$;`,
  )
  .join('\n')}
COMMIT;
`;
};

/** boss_version_table: whether pg-boss's version table exists in schema $1 (`present`). */
export const bossVersionTable = `SELECT to_regclass(quote_ident($1::text) || '.version') IS NOT NULL AS present`;

/** boss_version: pg-boss's schema version (its `version` table's one row). */
export const bossVersion = (n: SqlNames) => `SELECT version FROM ${n.boss}.version`;

/** The key list cursors are signed with. */

/** Queue names that exist (pg-boss's internal queues are left out by the callers). */
export const queueNames = (n: SqlNames) => `SELECT name FROM ${n.boss}.queue`;

/**
 * insert_jobs: adds a batch of jobs in one statement. $1 is a JSON array of rows (options at their
 * defaults left out) whose ids (UUIDv7) are chosen by the caller, so results map back to inputs and
 * the primary key is in creation order; $2 is the batch's creation instant, its ids' millisecond.
 * The rest comes from pg-boss's queue row as in its own insert. Only
 * the id and start_after come back: the caller knows the rest of what it inserted. A keyed job
 * whose (kind, key) is retained is skipped by ON CONFLICT and read back by `find_by_keys`. Run
 * through a caller's transaction, the wake-up is delivered at its commit.
 */
export const insertJobs = (n: SqlNames) => `
WITH ${countedHere},
input AS (
  SELECT * FROM json_to_recordset($1::json) AS x(
    id uuid, name text, data jsonb, priority int, start_after timestamptz, retry_limit int,
    retry_delay int, retry_delay_max int, heartbeat_seconds int, singleton_key text)
),
inserted AS (
  INSERT INTO ${table(n)} AS j (
    id, name, data, priority, state, retry_limit, retry_delay, retry_backoff, retry_delay_max,
    expire_seconds, deletion_seconds, singleton_key, start_after, created_on, keep_until, policy,
    heartbeat_seconds)
  SELECT i.id, i.name, i.data, COALESCE(i.priority, 0), 'created', COALESCE(i.retry_limit, 2),
    COALESCE(i.retry_delay, q.retry_delay), true, COALESCE(i.retry_delay_max, q.retry_delay_max),
    q.expire_seconds, q.deletion_seconds, i.singleton_key, COALESCE(i.start_after, now_ms.at), $2::timestamptz,
    COALESCE(i.start_after, now_ms.at) + q.retention_seconds * interval '1 second', q.policy,
    COALESCE(i.heartbeat_seconds, 30)
  FROM input i
  JOIN ${n.boss}.queue q ON q.name = i.name
  -- Milliseconds, as the interface shows them: a caller's clock read just after sees the job ready.
  CROSS JOIN (SELECT date_trunc('milliseconds', now()) AS at) now_ms
  CROSS JOIN counted_here
  ON CONFLICT DO NOTHING
  RETURNING j.id, j.name, j.start_after, 'created'::text AS state, NULL::text AS old_state
),
counted AS (${countMoves(n, 'inserted')})
SELECT inserted.id, inserted.start_after, ${wakeKinds(n, 'inserted')} AS woken FROM inserted`;

/** find_by_keys: the retained jobs holding (kind, key) pairs ($1: JSON array of {name, key}). */
export const findByKeys = (n: SqlNames) => `
SELECT ${jobColumns}
FROM json_to_recordset($1::json) AS k(name text, key text)
JOIN ${table(n)} j ON j.name = k.name AND j.singleton_key = k.key AND j.singleton_on IS NULL`;

/** find_by_ids: jobs by (kind, id) pairs ($1: JSON array of {name, id}), along the primary key. */
export const findByIds = (n: SqlNames) => `
SELECT ${jobColumns}
FROM json_to_recordset($1::json) AS k(name text, id uuid)
JOIN ${table(n)} j ON j.name = k.name AND j.id = k.id`;

/**
 * claim_available: moves up to $2 ready jobs of the kinds in $1 to `active`, highest priority then
 * oldest first, skipping rows other claimers hold. Each kind is read along pg-boss's fetch index
 * (job_i11) and the candidates merged, so the cost does not grow with the backlog. The new
 * `started_on` is the lease token: the claim instant plus random microseconds, and always after
 * the job's previous token, so a stale token can never match a later attempt. $3 is now (or null),
 * $4 the claiming worker's id (kept in output.worker), $5 how many of the $2 go to the fairness lane.
 */
export const claimAvailable = (n: SqlNames) => `
WITH ${asyncCommit},
clock AS (SELECT COALESCE($3::timestamptz, now()) AS at FROM durability),
-- The fairness lane ($5 of the $2, runtime/fairness.ts): the ready jobs created first, whatever
-- their priority. Each kind's ready priorities are found by skipping along job_i11 (one probe per
-- priority), then each priority's first rows read along it. Skipped when $5 is 0.
priorities AS (
  SELECT k.name, p.priority
  FROM unnest($1::text[]) AS k(name)
  CROSS JOIN LATERAL (
    WITH RECURSIVE ps AS (
      (SELECT j.priority FROM ${table(n)} j
        WHERE j.name = k.name AND j.state < 'active' AND NOT j.blocked
        ORDER BY j.priority DESC LIMIT 1)
      UNION ALL
      SELECT (SELECT j.priority FROM ${table(n)} j
        WHERE j.name = k.name AND j.state < 'active' AND NOT j.blocked AND j.priority < ps.priority
        ORDER BY j.priority DESC LIMIT 1)
      FROM ps WHERE ps.priority IS NOT NULL
    )
    SELECT ps.priority FROM ps WHERE ps.priority IS NOT NULL
  ) p
  WHERE $5::int > 0
),
oldest AS (
  SELECT c.ctid, c.name, c.id, c.state, c.priority, c.created_on
  FROM priorities pr
  CROSS JOIN clock
  CROSS JOIN LATERAL (
    SELECT j.ctid, j.name, j.id, j.state::text AS state, j.priority, j.created_on
    FROM ${table(n)} j
    WHERE j.name = pr.name AND j.priority = pr.priority AND j.state < 'active' AND NOT j.blocked
      AND j.start_after <= clock.at
    ORDER BY j.created_on
    LIMIT $5
    FOR UPDATE SKIP LOCKED
  ) c
  ORDER BY c.created_on
  LIMIT $5
),
by_priority AS (
  SELECT c.ctid, c.name, c.id, c.state, c.priority, c.created_on
  FROM unnest($1::text[]) AS k(name)
  CROSS JOIN clock
  CROSS JOIN LATERAL (
    SELECT j.ctid, j.name, j.id, j.state::text AS state, j.priority, j.created_on
    FROM ${table(n)} j
    WHERE j.name = k.name AND j.state < 'active' AND NOT j.blocked AND j.start_after <= clock.at
    ORDER BY j.priority DESC, j.created_on
    LIMIT $2
    FOR UPDATE SKIP LOCKED
  ) c
  ORDER BY c.priority DESC, c.created_on
  LIMIT $2
),
picked AS (
  SELECT o.ctid, o.name, o.id, o.state FROM oldest o
  UNION ALL
  SELECT b.ctid, b.name, b.id, b.state FROM (
    SELECT b.* FROM by_priority b
    -- The rows the oldest lane took, by address, collected once (a NOT EXISTS on (name, id) was
    -- planned as a nested loop rescanning the lane for every candidate).
    WHERE b.ctid <> ALL (COALESCE((SELECT array_agg(o.ctid) FROM oldest o), '{}'::tid[]))
    ORDER BY b.priority DESC, b.created_on
    LIMIT $2 - (SELECT count(*) FROM oldest)
  ) b
),
claimed AS (
  UPDATE ${table(n)} AS j SET
    state = 'active',
    retry_count = CASE WHEN j.started_on IS NOT NULL THEN j.retry_count + 1 ELSE j.retry_count END,
    started_on = GREATEST(
      clock.at + floor(random() * 1000) * interval '1 microsecond',
      COALESCE(j.started_on, j.heartbeat_on) + interval '1 microsecond'),
    heartbeat_on = clock.at,
    -- A new attempt starts without progress; the last attempt's error stays until this one ends.
    output = (COALESCE(j.output, '{}'::jsonb) - 'progress') || jsonb_build_object('worker', $4::text)
  FROM picked, clock
  -- By the row's address: one TID probe per job. Joined on (name, id) alone, the generic plan
  -- hashes the picks and scans the whole table. A pick updated by another transaction after this
  -- statement's snapshot was locked at its new address, which this snapshot cannot see: it is
  -- left out of this claim (not lost: still ready, the next claim takes it), so a claim of fewer
  -- than its limit does not mean nothing else is ready.
  WHERE j.ctid = picked.ctid AND j.name = picked.name AND j.id = picked.id
  RETURNING ${jobColumns}, ${leaseToken} AS lease_token,
    j.heartbeat_on + COALESCE(j.heartbeat_seconds, 30) * interval '1 second' AS lease_expires_on,
    clock.at AS at, picked.state AS old_state
),
counted AS (${countMoves(n, 'claimed')})
SELECT claimed.*,
  ${emitEvents(n, '(SELECT id, name, state, at, NULL::jsonb AS progress FROM claimed)')} AS events
FROM claimed`;

/**
 * The outcome of a fenced statement on attempt ($1 kind, $2 id, $3 token), appended to its WITH
 * list: `stored` true with a row per row of `moved` (the CTE of what it wrote; `columns` are its
 * further columns), or, when it wrote nothing, the row the attempt found instead: its pg-boss
 * state (`found`) and whether another attempt's lease holds it (`reclaimed`), with `nulls` in
 * place of the further columns. No row at all: no job of that kind has that id (the driver then
 * looks the id up in every queue, leasesFoundById, as a token of another kind finds the job as it
 * is: the by-kind lookup keeps the common case one index probe). The refusal is a locking
 * read (FOR SHARE), so it answers with the newest committed row: a plain read would see the
 * statement's snapshot, taken before a concurrent cancel or rescue that the UPDATE waited for
 * and then found. It is gated by a one-time NOT EXISTS, so a stored transition never reads it.
 */
const outcome = (n: SqlNames, moved: string, columns: string, nulls: string) => `,
found AS (
  SELECT j.state::text AS state, ${reclaimedBy('$1', '$3::bigint')} AS reclaimed
  FROM ${table(n)} j
  WHERE j.name = $1 AND j.id = $2 AND NOT EXISTS (SELECT 1 FROM ${moved})
  FOR SHARE
)
SELECT true AS stored, NULL::text AS found, false AS reclaimed${columns} FROM ${moved}
UNION ALL
SELECT false, f.state, f.reclaimed${nulls} FROM found f`;

/**
 * heartbeat: renews the lease of attempt ($1 kind, $2 id, $3 token) from now ($4 or the clock).
 * It writes heartbeat_on alone, which no index covers, so the update stays HOT. Returns the
 * outcome (stored, found, reclaimed; see outcome).
 */
export const heartbeat = (n: SqlNames) => `
WITH ${asyncCommit},
renewed AS (
  UPDATE ${table(n)} AS j SET heartbeat_on = COALESCE($4::timestamptz, now())
  FROM durability
  WHERE j.name = $1 AND j.id = $2 AND j.state = 'active' AND ${tokenMatches('$3::bigint')}
  RETURNING j.id
)${outcome(n, 'renewed', '', '')}`;

/**
 * progress: stores $4 as the progress of attempt ($1, $2, $3) and announces it. Returns the
 * outcome (stored, found, reclaimed; see outcome).
 */
export const progress = (n: SqlNames) => `
WITH ${asyncCommit},
changed AS (
  UPDATE ${table(n)} AS j SET output = COALESCE(j.output, '{}'::jsonb) || jsonb_build_object('progress', $4::jsonb)
  FROM durability
  WHERE j.name = $1 AND j.id = $2 AND j.state = 'active' AND ${tokenMatches('$3::bigint')}
  RETURNING j.id, j.name, j.state::text AS state, now() AS at, j.output->'progress' AS progress
)${outcome(n, 'changed', `, ${emitEvents(n, 'changed')} AS events`, ', NULL')}`;

/**
 * complete: completes a batch of attempts in one statement ($1: JSON array of {n, name, id, token,
 * result, at}; n numbers the items), each fenced by its own token. Returns one row per item, by
 * n: `stored` true for those still ours; for the others, what they found instead (`found`, the
 * pg-boss state, null when there is no such job; `reclaimed`, another attempt's lease holds it).
 * An item whose job another item of the batch completed (a stale attempt beside the current one)
 * found it completed. The others are read only when there are any (a materialized anti-join of
 * the input with what was completed), each by its key, with a locking read (FOR SHARE, in a CTE:
 * a locking clause is not allowed in a UNION branch) so that they answer with the newest
 * committed row (see outcome).
 */
export const complete = (n: SqlNames) => `
WITH ${asyncCommit},
input AS (
  SELECT x.* FROM durability,
    json_to_recordset($1::json) AS x(n int, name text, id uuid, token bigint, result jsonb, at timestamptz)
),
done AS (
  UPDATE ${table(n)} AS j SET
    state = 'completed',
    completed_on = COALESCE(i.at, now()),
    output = jsonb_build_object('result', i.result) || ${keptProgress}
  FROM input i
  WHERE j.name = i.name AND j.id = i.id AND j.state = 'active' AND ${tokenMatches('i.token')}
  RETURNING j.id, j.name, j.state::text AS state, 'active'::text AS old_state, j.completed_on AS at,
    j.output->'progress' AS progress, i.n
),
counted AS (${countMoves(n, 'done')}),
refused AS MATERIALIZED (SELECT i.* FROM input i WHERE NOT EXISTS (SELECT 1 FROM done d WHERE d.n = i.n)),
found AS (
  SELECT r.n, j.state::text AS state, ${reclaimedBy('r.name', 'r.token')} AS reclaimed
  FROM refused r JOIN ${table(n)} j ON j.name = r.name AND j.id = r.id
  -- A row this statement completed cannot be locked again by it (it would be skipped).
  WHERE NOT EXISTS (SELECT 1 FROM done d WHERE d.id = r.id)
  FOR SHARE OF j
)
SELECT done.n, true AS stored, NULL::text AS found, false AS reclaimed, ${emitEvents(n, 'done')} AS events
FROM done
UNION ALL
SELECT r.n, false, COALESCE(d.state, f.state), COALESCE(f.reclaimed, false), NULL
FROM refused r LEFT JOIN done d ON d.id = r.id LEFT JOIN found f ON f.n = r.n`;

/**
 * ended_with_token: which of these attempts ($1: JSON array of {n, name, id, token}) already ended
 * in one of the states $2, by n. Settles an outcome whose statement was retried after a lost
 * connection: the first try may have committed before the connection dropped.
 */
export const endedWithToken = (n: SqlNames) => `
SELECT i.n
FROM json_to_recordset($1::json) AS i(n int, name text, id uuid, token bigint)
JOIN ${table(n)} j ON j.name = i.name AND j.id = i.id
WHERE j.state::text = ANY($2::text[]) AND ${tokenMatches('i.token')}`;

/**
 * A failed attempt's next state, decided by the runtime (runtime/retry.ts): `retry` from
 * `retryAt` on when it is not null, else `failed`.
 */
const failTransition = (n: SqlNames, at: string, retryAt: string, error: string) => `
    state = CASE WHEN ${retryAt} IS NOT NULL THEN 'retry' ELSE 'failed' END::${n.boss}.job_state,
    start_after = COALESCE(${retryAt}, j.start_after),
    completed_on = CASE WHEN ${retryAt} IS NOT NULL THEN NULL ELSE ${at} END,
    output = jsonb_build_object('error', ${error}) || ${keptProgress}`;

/**
 * leased_attempt: what the retry policy needs of attempt ($1 kind, $2 id, $3 token): `ours`, true
 * while its lease holds (active under this token); attempts started (retry_count + 1),
 * maxAttempts (retry_limit + 1), the envelope's backoff (null for the default); and, for a lease
 * no longer ours, what fail answers: the pg-boss `state` found and `reclaimed`. No row: no job of
 * that kind has that id (the driver then looks in every queue, leasesFoundById).
 */
export const leasedAttempt = (n: SqlNames) => `
SELECT j.state = 'active' AND ${tokenMatches('$3::bigint')} IS TRUE AS ours,
  j.state::text AS state, ${reclaimedBy('$1', '$3::bigint')} AS reclaimed,
  j.retry_count + 1 AS attempts, j.retry_limit + 1 AS max_attempts, j.data->'backoff' AS backoff
FROM ${table(n)} j
WHERE j.name = $1 AND j.id = $2`;

/**
 * leases_found_by_id: what lease transitions found whose tokens hold no lease on these ids $1
 * (uuid[]): tokens this backend never issued, or of another kind than the job's. Each job's
 * pg-boss state, and `reclaimed` (such a token holds no lease, so any active job is another
 * attempt's). Looked up in every queue (see byId); no row: no such job.
 */
export const leasesFoundById = (n: SqlNames) => `
SELECT j.id, j.state::text AS found, ${reclaimedBy('NULL::text', 'NULL::bigint')} AS reclaimed
FROM unnest($1::uuid[]) AS i(id)
CROSS JOIN ${n.boss}.queue q
CROSS JOIN LATERAL (SELECT * FROM ${table(n)} WHERE name = q.name AND id = i.id) j`;

/**
 * fail: ends attempt ($1 kind, $2 id, $3 token) with error $4; $5 = when it runs again (null: it
 * fails for good); $6 = now. Returns the outcome (stored, found, reclaimed; see outcome).
 */
export const fail = (n: SqlNames) => `
WITH ${asyncCommit},
clock AS (SELECT COALESCE($6::timestamptz, now()) AS at FROM durability),
failed AS (
  UPDATE ${table(n)} AS j SET ${failTransition(n, 'clock.at', '$5::timestamptz', '$4::jsonb')}
  FROM clock
  WHERE j.name = $1 AND j.id = $2 AND j.state = 'active' AND ${tokenMatches('$3::bigint')}
  RETURNING j.id, j.name, j.state::text AS state, 'active'::text AS old_state, j.start_after,
    clock.at AS at, j.output->'progress' AS progress
),
counted AS (${countMoves(n, 'failed')})${outcome(
  n,
  'failed',
  `, ${emitEvents(n, 'failed')} AS events,
  ${wakeKinds(n, "(SELECT * FROM failed WHERE state = 'retry')")} AS woken`,
  ', NULL, NULL',
)}`;

/**
 * expired_leases: up to $2 active jobs whose lease ran out (heartbeat_on + lease < now, $1 or the
 * clock), with what the retry policy needs (as leased_attempt) and the attempt's token. Read
 * through offload_job_active, the small running set; nothing is locked.
 */
export const expiredLeases = (n: SqlNames) => `
SELECT j.name, j.id, ${leaseToken} AS token, j.retry_count + 1 AS attempts,
  j.retry_limit + 1 AS max_attempts, j.data->'backoff' AS backoff
FROM ${table(n)} j
WHERE j.state = 'active'
  AND COALESCE(j.heartbeat_on, j.started_on) + COALESCE(j.heartbeat_seconds, 30) * interval '1 second'
    < COALESCE($1::timestamptz, now())
LIMIT $2`;

/**
 * rescue_expired: ends the attempts in $1 (JSON array of {name, id, token, retry_at}, from
 * expired_leases and the runtime's retry policy) with a LeaseExpired error: `retry` at retry_at,
 * or `failed` when it is null. Guarded: an attempt that heartbeat since it was read (its lease no
 * longer expired at $2, or the clock), or ended, or was claimed again, is left alone. Returns how
 * many moved.
 */
export const rescueExpired = (n: SqlNames) => `
WITH ${asyncCommit},
clock AS (SELECT COALESCE($2::timestamptz, now()) AS at FROM durability),
input AS (
  SELECT x.* FROM json_to_recordset($1::json) AS x(name text, id uuid, token bigint, retry_at timestamptz)
),
rescued AS (
  UPDATE ${table(n)} AS j SET ${failTransition(
    n,
    'clock.at',
    'i.retry_at',
    `jsonb_build_object('message', ${sqlText(LEASE_EXPIRED_ERROR.message)}, 'kind', ${sqlText(LEASE_EXPIRED_ERROR.kind)})`,
  )}
  FROM input i, clock
  WHERE j.name = i.name AND j.id = i.id AND j.state = 'active' AND ${tokenMatches('i.token')}
    AND COALESCE(j.heartbeat_on, j.started_on) + COALESCE(j.heartbeat_seconds, 30) * interval '1 second' < clock.at
  RETURNING j.id, j.name, j.state::text AS state, 'active'::text AS old_state, j.start_after,
    clock.at AS at, j.output->'progress' AS progress
),
counted AS (${countMoves(n, 'rescued')})
SELECT count(*)::int AS moved, ${emitEvents(n, 'rescued')} AS events,
  ${wakeKinds(n, "(SELECT * FROM rescued WHERE state = 'retry')")} AS woken
FROM rescued`;

/** A constant as an SQL string literal. */
function sqlText(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * release: gives attempt ($1, $2, $3) back on graceful stop: `created` again and not counted
 * (started_on cleared, as pg-boss's restore does, so the next claim does not bump retry_count). The
 * old token is parked in heartbeat_on so the next claim's token still comes after it. $4 is now.
 * Returns the outcome (stored, found, reclaimed; see outcome).
 */
export const release = (n: SqlNames) => `
WITH ${asyncCommit},
released AS (
  UPDATE ${table(n)} AS j SET state = 'created', heartbeat_on = j.started_on, started_on = NULL
  FROM durability
  WHERE j.name = $1 AND j.id = $2 AND j.state = 'active' AND ${tokenMatches('$3::bigint')}
  RETURNING j.id, j.name, j.state::text AS state, 'active'::text AS old_state, j.start_after,
    COALESCE($4::timestamptz, now()) AS at, j.output->'progress' AS progress
),
counted AS (${countMoves(n, 'released')})${outcome(
  n,
  'released',
  `, ${emitEvents(n, 'released')} AS events, ${wakeKinds(n, 'released')} AS woken`,
  ', NULL, NULL',
)}`;

/**
 * The job with id $1, whatever its kind, locked, as `jobColumns`: the job table's key is (name,
 * id), so it is probed once per queue (a handful) rather than scanned. Under READ COMMITTED a
 * locking read returns the newest committed row, so a refusal answers from it alone (a join
 * back to the table would read the statement's snapshot, older than a concurrent cancel or
 * retry this one waited for).
 */
const byId = (n: SqlNames) => `(
  SELECT ${jobColumns} FROM ${n.boss}.queue q
  CROSS JOIN LATERAL (
    SELECT * FROM ${table(n)} WHERE name = q.name AND id = $1::uuid FOR UPDATE
  ) j)`;

/** get_job: one job by id. */
export const getJob = (n: SqlNames) => `
SELECT ${jobColumns}
FROM ${n.boss}.queue q
CROSS JOIN LATERAL (SELECT * FROM ${table(n)} WHERE name = q.name AND id = $1::uuid) j`;

/**
 * cancel: a queued, retrying or active job ($1) becomes `cancelled` at now ($2 or the clock); the
 * event lets the running handler's process abort it. Returns the job either way, `stored` true
 * when this statement cancelled it (false: the state it has refuses; no row: no such job).
 */
export const cancel = (n: SqlNames) => `
WITH target AS ${byId(n)},
cancelled AS (
  UPDATE ${table(n)} AS j SET state = 'cancelled', completed_on = COALESCE($2::timestamptz, now())
  FROM target t
  WHERE j.name = t.name AND j.id = t.id AND j.state < 'completed'
  RETURNING ${jobColumns}, t.state AS old_state, j.completed_on AS at
),
counted AS (${countMoves(n, 'cancelled')})
SELECT ${jobColumnsOf('cancelled')}, true AS stored,
  ${emitEvents(n, "(SELECT id, name, state, at, output->'progress' AS progress FROM cancelled)")} AS events
FROM cancelled
UNION ALL
SELECT ${jobColumnsOf('t')}, false, NULL FROM target t
WHERE NOT EXISTS (SELECT 1 FROM cancelled)`;

/**
 * A failed or cancelled job made ready again at `at` (a timestamptz parameter, or null for the
 * clock) with a fresh attempt budget; its previous token is parked in heartbeat_on (see release).
 */
const retried = (at: string) => `
    state = 'created', retry_count = 0, heartbeat_on = COALESCE(j.started_on, j.heartbeat_on),
    started_on = NULL, completed_on = NULL, output = NULL,
    start_after = COALESCE(${at}::timestamptz, date_trunc('milliseconds', now())),
    keep_until = GREATEST(j.keep_until, COALESCE(${at}::timestamptz, now()) + interval '14 days')`;

/**
 * retry: a failed or cancelled job ($1) runs again with a fresh attempt budget, ready at now ($2
 * or the clock). Its previous token is parked in heartbeat_on (see release). Returns the job
 * either way, `stored` true when this statement retried it (false: the state it has refuses; no
 * row: no such job).
 */
export const retry = (n: SqlNames) => `
WITH target AS ${byId(n)},
retried AS (
  UPDATE ${table(n)} AS j SET ${retried('$2')}
  FROM target t
  WHERE j.name = t.name AND j.id = t.id AND j.state IN ('failed', 'cancelled')
  RETURNING ${jobColumns}, t.state AS old_state, j.start_after AS at
),
counted AS (${countMoves(n, 'retried')})
SELECT ${jobColumnsOf('retried')}, true AS stored,
  ${emitEvents(n, '(SELECT id, name, state, at, NULL::jsonb AS progress FROM retried)')} AS events,
  ${wakeKinds(n, 'retried')} AS woken
FROM retried
UNION ALL
SELECT ${jobColumnsOf('t')}, false, NULL, NULL FROM target t
WHERE NOT EXISTS (SELECT 1 FROM retried)`;

/**
 * The jobs a bulk action takes: states $1 (pg-boss's names), kind $2, owner $3, created from $4
 * and before $5 (each null for any), at most $6, oldest first, skipping rows others hold.
 */
const bulkMatch = (n: SqlNames) => `FROM ${table(n)} j
  WHERE j.state::text = ANY($1::text[])
    AND ($2::text IS NULL OR j.name = $2)
    AND ($3::text IS NULL OR j.data->>'owner' = $3)
    AND ($4::timestamptz IS NULL OR j.created_on >= $4)
    AND ($5::timestamptz IS NULL OR j.created_on < $5)`;

const bulkTarget = (n: SqlNames) => `(
  SELECT j.name, j.id, j.state::text AS state ${bulkMatch(n)}
  -- ids are UUIDv7: id order is creation order, and with a kind it is pg-boss's key (name, id).
  ORDER BY j.id
  LIMIT $6
  FOR UPDATE SKIP LOCKED)`;

/**
 * count_many: how many jobs bulkTarget would pick, at most $6, locking none; unordered, so the
 * planner may read any index that holds the matching states. Waiting jobs (a cancel's) are read
 * along pg-boss's partial index of unstarted jobs (its `state < 'active'`, stated literally so
 * the planner can use it); failed ones have no such index, so a retry's count reads the kind's
 * rows until it has counted $6.
 */
export const countMany = (n: SqlNames, waiting: boolean) =>
  `SELECT count(*)::int AS n FROM (SELECT 1 ${bulkMatch(n)}${waiting ? " AND j.state < 'active'" : ''} LIMIT $6) AS target`;

/** cancel_many: the waiting jobs bulkTarget picks become `cancelled` at $7 (or the clock); returns how many. */
export const cancelMany = (n: SqlNames) => `
WITH target AS ${bulkTarget(n)},
cancelled AS (
  UPDATE ${table(n)} AS j SET state = 'cancelled', completed_on = COALESCE($7::timestamptz, now())
  FROM target t
  WHERE j.name = t.name AND j.id = t.id AND j.state IN ('created', 'retry')
  RETURNING j.id, j.name, j.state::text AS state, t.state AS old_state, j.completed_on AS at,
    j.output->'progress' AS progress
),
counted AS (${countMoves(n, 'cancelled')})
SELECT count(*)::int AS moved, ${emitEvents(n, 'cancelled')} AS events FROM cancelled`;

/**
 * retry_many: the failed or cancelled jobs bulkTarget picks run again with a fresh attempt budget,
 * ready at $7 (or the clock), as `retry` does one; returns how many.
 */
export const retryMany = (n: SqlNames) => `
WITH target AS ${bulkTarget(n)},
retried AS (
  UPDATE ${table(n)} AS j SET ${retried('$7')}
  FROM target t
  WHERE j.name = t.name AND j.id = t.id AND j.state IN ('failed', 'cancelled')
  RETURNING j.id, j.name, j.state::text AS state, t.state AS old_state, j.start_after AS at,
    j.start_after, NULL::jsonb AS progress
),
counted AS (${countMoves(n, 'retried')})
SELECT count(*)::int AS moved, ${emitEvents(n, 'retried')} AS events, ${wakeKinds(n, 'retried')} AS woken
FROM retried`;

export interface ListFilters {
  kind: boolean;
  state: boolean;
  owner: boolean;
  /** Bounds on the id: a created range or an id prefix (runtime/list-range.ts). */
  idFrom: boolean;
  idBefore: boolean;
  cursor: boolean;
}

/**
 * list_jobs: one page, newest first: ids are time-ordered, so (id DESC) is creation order and the
 * keyset is the id alone. Parameters in order: $1 the limit (+1 to learn whether a next page
 * exists), then kind, state, owner, the id's bounds and the cursor's id for the filters present
 * (a created range is an id range: created_on is the id's millisecond). A kind is read
 * backwards along pg-boss's primary key (name, id), an owner along offload_job_owner; with no kind,
 * each queue's newest rows are read along its key and merged, so no plan sorts the table.
 */
export const listJobs = (n: SqlNames, f: ListFilters) => {
  const params: string[] = [];
  const where: string[] = [];
  const filter = (param: string, condition: (placeholder: string) => string) => {
    params.push(param);
    where.push(condition(`$${params.length + 1}`));
  };
  if (f.kind) filter('kind', (p) => `j.name = ${p}`);
  if (f.state) filter('state', (p) => `j.state = ${p}::${n.boss}.job_state`);
  if (f.owner) filter('owner', (p) => `j.data->>'owner' = ${p}`);
  if (f.idFrom) filter('idFrom', (p) => `j.id >= ${p}::uuid`);
  if (f.idBefore) filter('idBefore', (p) => `j.id < ${p}::uuid`);
  if (f.cursor) filter('cursor', (p) => `j.id < ${p}::uuid`);
  const page = (extra: string) => `
    SELECT ${jobColumns} FROM ${table(n)} j
    WHERE ${[extra, ...where].filter(Boolean).join(' AND ') || 'true'}
    ORDER BY j.id DESC LIMIT $1`;
  const text =
    f.kind || f.owner
      ? page('')
      : `SELECT p.* FROM ${n.boss}.queue q CROSS JOIN LATERAL (${page('j.name = q.name')}) p
         WHERE q.name NOT LIKE '\\_\\_pgboss\\_\\_%'
         ORDER BY p.id DESC LIMIT $1`;
  return { text, params };
};

/**
 * count_jobs: jobs per kind and pg-boss state from the maintained counters (a few rows per kind,
 * whatever the table's size), and per kind with unclaimed jobs when the longest-waiting one
 * ready at $1 (or now) became due, from `oldest_ready`, and how many of them are due after it,
 * counted up to $2 along `offload_job_waiting` (a bounded range of the index).
 */
export const countJobs = (n: SqlNames) => `
WITH counts AS (
  SELECT kind, state, sum(n)::bigint AS n FROM ${n.ours}.job_count GROUP BY kind, state HAVING sum(n) <> 0
),
waiting AS (
  SELECT DISTINCT kind FROM counts WHERE state IN ('created', 'retry') AND n > 0
)
SELECT c.kind, c.state, c.n::text AS n, NULL::timestamptz AS oldest_ready, NULL::bigint AS later FROM counts c
UNION ALL
SELECT w.kind, NULL, NULL, ${n.ours}.oldest_ready(w.kind, COALESCE($1::timestamptz, now())),
  (SELECT count(*) FROM (
    SELECT 1 FROM ${table(n)} j
    WHERE j.name = w.kind AND j.state < 'active' AND j.start_after > COALESCE($1::timestamptz, now())
    LIMIT $2) l)
FROM waiting w`;

/**
 * prune: deletes completed jobs finished before $1 and failed or cancelled ones finished before
 * $2, for kind $3 (one statement per kind keeps each transaction bounded).
 */
export const prune = (n: SqlNames) => `
WITH ${countedHere},
deleted AS (
  DELETE FROM ${table(n)} j USING counted_here
  WHERE j.name = $3
    AND ((j.state = 'completed' AND j.completed_on < $1::timestamptz)
      OR (j.state IN ('failed', 'cancelled') AND j.completed_on < $2::timestamptz))
  RETURNING j.name, NULL::text AS state, j.state::text AS old_state
),
counted AS (${countMoves(n, 'deleted')})
SELECT count(*)::int AS deleted FROM deleted`;

/**
 * schedule_tick_save: a schedule was saved ($1 name, $2 cron, $3 timezone, $4 now): a new or
 * re-timed one counts its ticks from now; an unchanged one keeps its last tick.
 */
export const scheduleTickSave = (n: SqlNames) => `
INSERT INTO ${n.ours}.schedule_tick AS t (name, cron, timezone, last_tick_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (name) DO UPDATE SET cron = excluded.cron, timezone = excluded.timezone,
  last_tick_at = CASE WHEN t.cron = excluded.cron AND t.timezone = excluded.timezone
                      THEN t.last_tick_at ELSE excluded.last_tick_at END`;

/** schedule_tick_delete: forgets schedule $1's last tick. */
export const scheduleTickDelete = (n: SqlNames) => `DELETE FROM ${n.ours}.schedule_tick WHERE name = $1`;

const isoText = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** schedule_ticks: every schedule's last tick, as ISO text, and whether it is paused. */
export const scheduleTicks = (n: SqlNames) => `
SELECT name, ${isoText('last_tick_at')} AS last_tick_at, paused_at IS NOT NULL AS paused
FROM ${n.ours}.schedule_tick`;

/** schedule_states: every schedule's pause and last job (ScheduleState), one row per schedule. */
export const scheduleStates = (n: SqlNames) => `
SELECT name, paused_at IS NOT NULL AS paused, ${isoText('last_run_at')} AS last_run_at, last_job_id
FROM ${n.ours}.schedule_tick`;

/**
 * schedule_tick_advance: moves schedule $1's last tick to $2 if it is still $3 (both ISO text)
 * and the schedule is not paused, recording $4 as the job the tick sent. Returns the row when it
 * moved: a pass that overlapped another finds it moved already.
 */
export const scheduleTickAdvance = (n: SqlNames) => `
UPDATE ${n.ours}.schedule_tick SET last_tick_at = $2::timestamptz, last_run_at = $2::timestamptz, last_job_id = $4
WHERE name = $1 AND last_tick_at = $3::timestamptz AND paused_at IS NULL
RETURNING name`;

/**
 * schedule_pause: pauses schedule $1 ($2 cron, $3 timezone, for a schedule with no row yet) at $4;
 * a paused one stays paused since its first pause.
 */
export const schedulePause = (n: SqlNames) => `
INSERT INTO ${n.ours}.schedule_tick AS t (name, cron, timezone, last_tick_at, paused_at)
VALUES ($1, $2, $3, $4::timestamptz, $4::timestamptz)
ON CONFLICT (name) DO UPDATE SET paused_at = COALESCE(t.paused_at, excluded.paused_at)`;

/**
 * schedule_resume: resumes schedule $1 at $4: a paused one counts its ticks from $4 (the ticks
 * missed while paused never fire); a running one is left as it is.
 */
export const scheduleResume = (n: SqlNames) => `
INSERT INTO ${n.ours}.schedule_tick AS t (name, cron, timezone, last_tick_at) VALUES ($1, $2, $3, $4::timestamptz)
ON CONFLICT (name) DO UPDATE SET paused_at = NULL,
  last_tick_at = CASE WHEN t.paused_at IS NULL THEN t.last_tick_at ELSE excluded.last_tick_at END`;

/**
 * leader_acquire: takes or renews lease $1 for holder $2 until $3, if it is free, expired at $4, or
 * already $2's. Returns a row while $2 holds it.
 */
export const leaderAcquire = (n: SqlNames) => `
INSERT INTO ${n.ours}.leader AS l (name, holder, expires_at) VALUES ($1, $2, $3::timestamptz)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
WHERE l.holder = excluded.holder OR l.expires_at < $4::timestamptz
RETURNING l.name`;

/** leader_resign: gives lease $1 up if holder $2 holds it, so another process leads at once. */
export const leaderResign = (n: SqlNames) => `DELETE FROM ${n.ours}.leader WHERE name = $1 AND holder = $2`;
