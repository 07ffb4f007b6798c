// The SQLite queue's tables, in the application's own database file (so that a job can be
// inserted in the same transaction as the domain writes that asked for it). Every name starts
// with `queue_`. `installSchema` is idempotent and safe to race: in one BEGIN IMMEDIATE
// transaction it runs the numbered steps (STEPS) the file has not had yet, each once, and records
// each in queue_schema_version. A released step is never edited; a change is a new step.
//
// Timestamps are ISO-8601 UTC text with milliseconds (`2026-11-22T10:00:00.123Z`) everywhere:
// fixed width, so text order is time order, and SQLite's date functions read them as they are.
//
// Built for the drain's hot path (claim a batch, complete a batch): no triggers, and no index
// whose key holds `state`, so a transition rewrites the row and touches only the partial indexes
// it enters or leaves. Counters and events are written by the backend, once per batch, in the
// transaction that makes the change (sql.ADD_COUNTS, sql.APPEND_EVENT).
import type Database from 'better-sqlite3';

/** The step the schema is at once installSchema ran: the number of STEPS. */
export const SCHEMA_VERSION = 4;

const BOOTSTRAP = `
-- One row per installed schema step (the highest is current).
CREATE TABLE IF NOT EXISTS queue_schema_version (
  version    INTEGER PRIMARY KEY,
  applied_at TEXT NOT NULL
);`;

const TABLES = `
-- Small settings of this queue: the secret that signs list cursors (shared by every process
-- on the file, so a cursor from one API process is good at another).
CREATE TABLE queue_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE queue_jobs (
  job_no           INTEGER PRIMARY KEY,         -- the rowid: leases carry it, fenced updates seek by it
  id               TEXT NOT NULL UNIQUE,        -- the public id, a UUIDv7 (time-ordered)
  kind             TEXT NOT NULL,
  state            TEXT NOT NULL CHECK (state IN ('queued', 'retrying', 'active', 'completed', 'failed', 'cancelled')),
  payload          TEXT NOT NULL,               -- JSON
  priority         INTEGER NOT NULL DEFAULT 0,
  progress         TEXT,                        -- JSON object
  attempts         INTEGER NOT NULL DEFAULT 0,
  max_attempts     INTEGER NOT NULL CHECK (max_attempts >= 1),
  backoff_base_ms  INTEGER NOT NULL,
  backoff_max_ms   INTEGER NOT NULL,
  lease_seconds    REAL NOT NULL CHECK (lease_seconds > 0),
  result           TEXT,                        -- JSON
  error            TEXT,                        -- JSON {kind, message, stack?}
  owner            TEXT,
  meta             TEXT NOT NULL DEFAULT '{}',  -- JSON object
  idempotency_key  TEXT,
  created_at       TEXT NOT NULL,
  run_at           TEXT NOT NULL,
  started_at       TEXT,
  finished_at      TEXT,
  lease_token      TEXT,                        -- '<job_no>.<random>' while active: fences every transition out
  lease_expires_at TEXT,
  worker_id        TEXT
);

-- Jobs per (kind, state), moved in the same transaction as the jobs: counts never scan queue_jobs.
CREATE TABLE queue_counts (
  kind  TEXT NOT NULL,
  state TEXT NOT NULL,
  n     INTEGER NOT NULL,
  PRIMARY KEY (kind, state)
) WITHOUT ROWID;

-- State changes and progress updates, appended in the changing transaction: one row per batch
-- and kind (job_ids, a JSON array), so a claim or completion of 500 jobs writes one row.
-- Listeners in every process tail it by seq (notifier.ts); maintenance prunes it.
CREATE TABLE queue_events (
  seq      INTEGER PRIMARY KEY AUTOINCREMENT,
  kind     TEXT NOT NULL,
  state    TEXT NOT NULL,
  job_ids  TEXT NOT NULL,                       -- JSON array of job ids
  progress TEXT,                                -- JSON object, for progress updates
  run_at   TEXT NOT NULL,                       -- when the jobs are due (wakes workers for retries)
  at       TEXT NOT NULL
);

CREATE TABLE queue_schedules (
  name         TEXT PRIMARY KEY,
  cron         TEXT NOT NULL,
  timezone     TEXT NOT NULL,
  kind         TEXT NOT NULL,
  payload      TEXT NOT NULL,                   -- JSON
  options      TEXT NOT NULL,                   -- JSON: priority, maxAttempts, leaseSeconds
  last_tick_at TEXT,                            -- the last tick fired (or the definition or resumption time)
  updated_at   TEXT NOT NULL
) WITHOUT ROWID;

-- Leases that elect one process for a task: whoever holds an unexpired row leads (runtime/maintenance.ts).
CREATE TABLE queue_leader (
  name       TEXT PRIMARY KEY,
  holder     TEXT NOT NULL,
  expires_at TEXT NOT NULL
) WITHOUT ROWID;
`;

// Each index serves named queries (sql.ts), which name it with INDEXED BY so that a plan never
// depends on statistics. Partial indexes hold only the rows their queries can want.
const INDEXES = `
-- claim_candidates, oldest_ready: ready jobs of a kind in claim order.
CREATE INDEX queue_jobs_ready
  ON queue_jobs (kind, priority DESC, run_at, job_no) WHERE state IN ('queued', 'retrying');
-- expired_leases, and lists of active jobs (as many as there are worker slots).
CREATE INDEX queue_jobs_lease
  ON queue_jobs (lease_expires_at) WHERE state = 'active';
-- insert_job: one retained job per (kind, key).
CREATE UNIQUE INDEX queue_jobs_idempotency
  ON queue_jobs (kind, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- list_jobs, newest first: all, per kind, per owner (never rewritten: created_at is fixed) …
CREATE INDEX queue_jobs_list ON queue_jobs (created_at, id);
CREATE INDEX queue_jobs_kind_list ON queue_jobs (kind, created_at, id);
CREATE INDEX queue_jobs_owner_list
  ON queue_jobs (owner, created_at, id) WHERE owner IS NOT NULL;
-- … and per kind in a state group (also prune_finished's path to old finished jobs).
CREATE INDEX queue_jobs_queued_list
  ON queue_jobs (kind, created_at, id) WHERE state = 'queued';
CREATE INDEX queue_jobs_completed_list
  ON queue_jobs (kind, created_at, id) WHERE state = 'completed';
CREATE INDEX queue_jobs_unhappy_list
  ON queue_jobs (kind, created_at, id) WHERE state IN ('retrying', 'failed', 'cancelled');
`;

/**
 * The schema's numbered steps, in order (step i is STEPS[i - 1]). Step 1 is the schema as first
 * released; files installed by it record version 1 and never run it again.
 */
const STEPS: readonly string[] = [
  TABLES.replaceAll('', '') + INDEXES.replaceAll('', ''),
  // 2: list cursors are signed with the deployment's one cursor secret (@offload/db's `secrets`
  //    table or CURSOR_SECRET, passed in as cursorSecret); the queue's own key and its table go.
  'DROP TABLE queue_meta;',
  // 3: schedules paused and resumed, and the job each one last sent (the schedule views).
  `
ALTER TABLE queue_schedules ADD COLUMN paused_at TEXT;   -- set while paused: no tick fires
ALTER TABLE queue_schedules ADD COLUMN last_run_at TEXT; -- the tick of the last job sent
ALTER TABLE queue_schedules ADD COLUMN last_job_id TEXT;`,
  // 4: the claiming worker's id is no longer stored: nothing read it, and its ~60 bytes were the
  //    largest part of what a claim adds to the row (the drain's claim rewrites every claimed row).
  //    Rewrites queue_jobs once (one transaction at the upgrade, every job kept; 0.3 s at 100,000
  //    jobs, measured on a loaded machine: well inside the other processes' 10 s busy timeout).
  'ALTER TABLE queue_jobs DROP COLUMN worker_id;',
];

/** Runs the steps this file has not had; returns the installed version. */
export function installSchema(db: Database.Database, now: string): number {
  if (STEPS.length !== SCHEMA_VERSION) throw new Error('SCHEMA_VERSION must be the number of STEPS');
  const install = db.transaction(() => {
    db.exec(BOOTSTRAP);
    const current =
      (db.prepare('SELECT max(version) FROM queue_schema_version').pluck().get() as number | null) ?? 0;
    for (let step = current + 1; step <= STEPS.length; step += 1) {
      db.exec(STEPS[step - 1]!);
      db.prepare('INSERT INTO queue_schema_version (version, applied_at) VALUES (?, ?)').run(step, now);
    }
    return Math.max(current, STEPS.length);
  });
  const installed = install.immediate();
  if (installed > SCHEMA_VERSION) {
    throw new Error(
      `the queue tables are at version ${installed}, newer than this code's ${SCHEMA_VERSION}: upgrade the code`,
    );
  }
  return installed;
}
