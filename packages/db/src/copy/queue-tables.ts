// The queue's stored tables, read and written directly by SQL: the only module of the copy that
// knows them. The queue package owns these tables (packages/queue: `queue_*` in SQLite,
// pg-boss's `pgboss.job`/`pgboss.schedule` and our `offload_queue` beside them in PostgreSQL);
// the copy cannot go through its interface because that mints new ids and states, while a copied
// job must keep its id, kind, payload, priority, attempts, run-at time and key.
//
// Both shapes are read into one neutral record per job and per schedule, and written from it:
//
//   SQLite queue_jobs             neutral                pg-boss job
//   state queued/retrying         queued/retrying        created/retry
//   state active (lease dropped:  retrying               active → retry
//     no worker runs during a copy, so its lease can only expire)
//   attempts                      attempts               retry_count + (started_on IS NULL ? 0 : 1)
//   max_attempts                  max_attempts           retry_limit + 1
//   payload, owner, meta          …                      data {payload, owner?, meta?, backoff?}
//   backoff_base_ms/max_ms        …                      data.backoff (absent = 1 s / 60 s)
//   progress, result, error       …                      output {progress?, result?, error?}
//   lease_seconds                 …                      heartbeat_seconds (null = 30)
//   idempotency_key               …                      singleton_key
//   created_at, run_at,           …                      created_on, start_after,
//   started_at, finished_at                              started_on, completed_on
//
// The per-(kind, state) counters both queues keep are rebuilt from the copied rows; events,
// leader leases, maintenance stamps and cursor secrets are per database and not copied.
import type { Readable, Row, WriteTransaction } from './side.ts';
import { canonicalValue } from './values.ts';

/** The queue package's default schemas on PostgreSQL (PgBossBackendOptions). */
const BOSS = 'pgboss';
const OURS = 'offload_queue';

// The queue package's defaults, as its backends write them (DEFAULT_BACKOFF, DEFAULT_LEASE_SECONDS).
const DEFAULT_BACKOFF_BASE_MS = 1_000;
const DEFAULT_BACKOFF_MAX_MS = 60_000;
const DEFAULT_LEASE_SECONDS = 30;

// The options the pg-boss backend creates each kind's queue with (QUEUE_DEFAULTS in
// packages/queue/src/pgboss/backend.ts), in pg-boss's create_queue() option names.
const BOSS_QUEUE_OPTIONS = JSON.stringify({
  policy: 'standard',
  retryLimit: 2,
  retryDelay: 1,
  retryBackoff: true,
  retryDelayMax: 60,
  expireInSeconds: 24 * 60 * 60,
  heartbeatSeconds: DEFAULT_LEASE_SECONDS,
  retentionSeconds: 14 * 24 * 60 * 60,
  deleteAfterSeconds: 7 * 24 * 60 * 60,
  notify: true,
});

const PENDING = ['queued', 'retrying', 'active'];
const HISTORY = ['completed', 'failed', 'cancelled'];
const BOSS_STATE: Record<string, string> = {
  queued: 'created',
  retrying: 'retry',
  active: 'active',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};
const FROM_BOSS_STATE: Record<string, string> = {
  created: 'queued',
  retry: 'retrying',
  active: 'retrying',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};

/** A neutral job record's fields, in checksum order. */
const JOB_FIELDS = [
  ['id', 'text'],
  ['kind', 'text'],
  ['state', 'text'],
  ['payload', 'json'],
  ['priority', 'number'],
  ['attempts', 'number'],
  ['max_attempts', 'number'],
  ['progress', 'json'],
  ['result', 'json'],
  ['error', 'json'],
  ['owner', 'text'],
  ['meta', 'json'],
  ['idempotency_key', 'text'],
  ['created_at', 'text'],
  ['run_at', 'text'],
  ['started_at', 'text'],
  ['finished_at', 'text'],
  ['backoff_base_ms', 'number'],
  ['backoff_max_ms', 'number'],
  ['lease_seconds', 'number'],
] as const;

const SCHEDULE_FIELDS = [
  ['name', 'text'],
  ['kind', 'text'],
  ['cron', 'text'],
  ['timezone', 'text'],
  ['payload', 'json'],
  ['options', 'json'],
  ['paused', 'bool'],
  ['last_run_at', 'text'],
  ['last_job_id', 'text'],
] as const;

/** One of the queue's stored sets, copied and verified like a table. */
export interface QueueSet {
  /** The name shown in progress and verification lines. */
  readonly name: string;
  /** Whether `side` has the queue's tables at all (a database no API or worker ever started on). */
  installed(side: Readable): Promise<boolean>;
  count(side: Readable, withHistory: boolean): Promise<number>;
  /** Neutral records, a batch at a time. */
  read(side: Readable, withHistory: boolean, batchSize: number): AsyncIterable<Row[]>;
  write(tx: WriteTransaction, dialect: Readable['dialect'], rows: readonly Row[]): Promise<void>;
  /** After the last batch, in the same transaction: the counters the queue keeps beside its rows. */
  finish(tx: WriteTransaction, dialect: Readable['dialect']): Promise<void>;
  canonical(row: Row): Array<string | null>;
}

const installed = (side: Readable) => side.hasTable(side.dialect === 'sqlite' ? 'queue_jobs' : `${BOSS}.job`);

const statesOf = (withHistory: boolean) => (withHistory ? [...PENDING, ...HISTORY] : PENDING);
const bossStates = (withHistory: boolean) => statesOf(withHistory).map((s) => BOSS_STATE[s]!);

const SQLITE_JOBS = (states: string[]) => `
  SELECT id, kind, CASE state WHEN 'active' THEN 'retrying' ELSE state END AS state, payload, priority,
         attempts, max_attempts, progress, result, error, owner, meta, idempotency_key, created_at,
         run_at, started_at, finished_at, backoff_base_ms, backoff_max_ms, lease_seconds
    FROM queue_jobs WHERE state IN (${states.map((s) => `'${s}'`).join(', ')})`;

// pg-boss's internal queues (names starting with `__pgboss`) are its own bookkeeping.
const BOSS_JOBS = `
  SELECT j.id::text AS id, j.name, j.state::text AS state, j.data, j.priority, j.retry_count,
         j.retry_limit, j.start_after, j.created_on, j.started_on, j.completed_on, j.output,
         j.singleton_key, j.heartbeat_seconds
    FROM ${BOSS}.job j
   WHERE j.state::text = ANY($1) AND j.name NOT LIKE '\\_\\_pgboss%'`;

function fromBossJob(row: Row): Row {
  const data = asObject(row['data']);
  const output = asObject(row['output']);
  const backoff = asObject(data['backoff']);
  const state = FROM_BOSS_STATE[String(row['state'])]!;
  const started = row['started_on'] ?? null;
  return {
    id: row['id'],
    kind: row['name'],
    state,
    // Rows pg-boss wrote itself carry the payload as their whole `data` (as rows.ts reads them).
    payload: JSON.stringify('payload' in data ? data['payload'] : (parse(row['data']) ?? null)),
    priority: row['priority'],
    attempts: Number(row['retry_count']) + (started === null ? 0 : 1),
    max_attempts: Number(row['retry_limit']) + 1,
    progress: jsonOrNull(output['progress']),
    result: state === 'completed' ? jsonOrNull(output['result']) : null,
    error: jsonOrNull(output['error']),
    owner: typeof data['owner'] === 'string' ? data['owner'] : null,
    meta: JSON.stringify(data['meta'] ?? {}),
    idempotency_key: row['singleton_key'] ?? null,
    created_at: row['created_on'],
    run_at: row['start_after'],
    started_at: started,
    finished_at: HISTORY.includes(state) ? (row['completed_on'] ?? null) : null,
    backoff_base_ms: typeof backoff['baseMs'] === 'number' ? backoff['baseMs'] : DEFAULT_BACKOFF_BASE_MS,
    backoff_max_ms: typeof backoff['maxMs'] === 'number' ? backoff['maxMs'] : DEFAULT_BACKOFF_MAX_MS,
    lease_seconds: row['heartbeat_seconds'] ?? DEFAULT_LEASE_SECONDS,
  };
}

function toBossJob(job: Row): Record<string, unknown> {
  const attempts = Number(job['attempts']);
  const data: Record<string, unknown> = { payload: parse(job['payload']) };
  if (job['owner'] !== null) data['owner'] = job['owner'];
  const meta = parse(job['meta']);
  if (meta !== null && Object.keys(meta as object).length > 0) data['meta'] = meta;
  const baseMs = Number(job['backoff_base_ms']);
  const maxMs = Number(job['backoff_max_ms']);
  const customBackoff = baseMs !== DEFAULT_BACKOFF_BASE_MS || maxMs !== DEFAULT_BACKOFF_MAX_MS;
  if (customBackoff) data['backoff'] = { baseMs, maxMs };
  const output: Record<string, unknown> = {};
  for (const field of ['progress', 'result', 'error'] as const) {
    if (job[field] !== null && job[field] !== undefined) output[field] = parse(job[field]);
  }
  return {
    id: job['id'],
    name: job['kind'],
    data,
    priority: job['priority'],
    state: BOSS_STATE[String(job['state'])],
    retry_limit: Number(job['max_attempts']) - 1,
    retry_count: Math.max(0, attempts - 1),
    retry_delay: customBackoff ? Math.max(1, Math.ceil(baseMs / 1000)) : null,
    retry_delay_max: customBackoff ? Math.max(1, Math.ceil(maxMs / 1000)) : null,
    singleton_key: job['idempotency_key'],
    start_after: job['run_at'],
    created_on: job['created_at'],
    started_on: attempts > 0 ? (job['started_at'] ?? job['created_at']) : null,
    completed_on: job['finished_at'],
    output: Object.keys(output).length > 0 ? output : null,
    heartbeat_seconds: Math.ceil(Number(job['lease_seconds'])),
  };
}

// As the backend's insert_jobs: what the row does not say comes from the kind's queue row.
const INSERT_BOSS_JOBS = `
  INSERT INTO ${BOSS}.job (id, name, data, priority, state, retry_limit, retry_count, retry_delay,
    retry_backoff, retry_delay_max, expire_seconds, deletion_seconds, singleton_key, start_after,
    created_on, started_on, completed_on, keep_until, output, policy, heartbeat_seconds)
  SELECT i.id, i.name, i.data, i.priority, i.state::${BOSS}.job_state, i.retry_limit, i.retry_count,
    COALESCE(i.retry_delay, q.retry_delay), true, COALESCE(i.retry_delay_max, q.retry_delay_max),
    q.expire_seconds, q.deletion_seconds, i.singleton_key, i.start_after, i.created_on, i.started_on,
    i.completed_on, GREATEST(i.start_after, COALESCE(i.completed_on, i.start_after)) + q.retention_seconds * interval '1 second',
    i.output, q.policy, i.heartbeat_seconds
  FROM json_to_recordset($1::json) AS i(id uuid, name text, data jsonb, priority int, state text,
    retry_limit int, retry_count int, retry_delay int, retry_delay_max int, singleton_key text,
    start_after timestamptz, created_on timestamptz, started_on timestamptz, completed_on timestamptz,
    output jsonb, heartbeat_seconds int)
  JOIN ${BOSS}.queue q ON q.name = i.name`;

// pg-boss wants a queue row per kind before it holds the kind's jobs or schedules.
const CREATE_BOSS_QUEUES = `
  SELECT ${BOSS}.create_queue(k.name, $2::jsonb)
    FROM unnest($1::text[]) AS k(name)
   WHERE NOT EXISTS (SELECT 1 FROM ${BOSS}.queue q WHERE q.name = k.name)`;

const INSERT_SQLITE_JOB = `
  INSERT INTO queue_jobs (id, kind, state, payload, priority, attempts, max_attempts, progress, result,
    error, owner, meta, idempotency_key, created_at, run_at, started_at, finished_at, backoff_base_ms,
    backoff_max_ms, lease_seconds)
  VALUES (${JOB_FIELDS.map(() => '?').join(', ')})`;

export const queueJobs: QueueSet = {
  name: 'queue jobs',
  installed,
  async count(side, withHistory) {
    if (!(await installed(side))) return 0;
    const rows =
      side.dialect === 'sqlite'
        ? await side.all(`SELECT count(*) AS n FROM (${SQLITE_JOBS(statesOf(withHistory))})`)
        : await side.all(`SELECT count(*) AS n FROM (${BOSS_JOBS}) j`, [bossStates(withHistory)]);
    return Number(rows[0]!['n']);
  },
  async *read(side, withHistory, batchSize) {
    if (!(await installed(side))) return;
    if (side.dialect === 'sqlite') {
      yield* side.batches(SQLITE_JOBS(statesOf(withHistory)), [], batchSize);
      return;
    }
    for await (const rows of side.batches(BOSS_JOBS, [bossStates(withHistory)], batchSize)) {
      yield rows.map(fromBossJob);
    }
  },
  async write(tx, dialect, rows) {
    if (dialect === 'postgres') {
      const kinds = [...new Set(rows.map((r) => String(r['kind'])))];
      await tx.run(CREATE_BOSS_QUEUES, [kinds, BOSS_QUEUE_OPTIONS]);
      await tx.run(INSERT_BOSS_JOBS, [JSON.stringify(rows.map(toBossJob))]);
      return;
    }
    for (const row of rows)
      await tx.run(
        INSERT_SQLITE_JOB,
        JOB_FIELDS.map(([name]) => row[name] ?? null),
      );
  },
  async finish(tx, dialect) {
    if (dialect === 'postgres') {
      await tx.run(`DELETE FROM ${OURS}.job_count`);
      await tx.run(
        `INSERT INTO ${OURS}.job_count (kind, state, shard, n)
         SELECT name, state::text, 0, count(*) FROM ${BOSS}.job GROUP BY name, state`,
      );
      return;
    }
    await tx.run('DELETE FROM queue_counts');
    await tx.run(
      'INSERT INTO queue_counts (kind, state, n) SELECT kind, state, count(*) FROM queue_jobs GROUP BY kind, state',
    );
  },
  canonical(row) {
    return JOB_FIELDS.map(([name, kind]) => canonicalValue(kind, row[name]));
  },
};

// pg-boss keys schedules by (queue, key); ours by name. Names pg-boss would refuse as keys are
// stored base64url-encoded behind a prefix (packages/queue/src/pgboss/schedules.ts).
const ENCODED = 'b64.';
const PLAIN_KEY = /^[\w.\-/]+$/;
const scheduleKey = (name: string) =>
  PLAIN_KEY.test(name) && !name.startsWith(ENCODED)
    ? name
    : ENCODED + Buffer.from(name, 'utf8').toString('base64url');
const scheduleName = (key: string) =>
  key.startsWith(ENCODED) ? Buffer.from(key.slice(ENCODED.length), 'base64url').toString('utf8') : key;

const schedulesInstalled = (side: Readable) =>
  side.hasTable(side.dialect === 'sqlite' ? 'queue_schedules' : `${BOSS}.schedule`);

export const queueSchedules: QueueSet = {
  name: 'queue schedules',
  installed: schedulesInstalled,
  async count(side) {
    if (!(await schedulesInstalled(side))) return 0;
    const table = side.dialect === 'sqlite' ? 'queue_schedules' : `${BOSS}.schedule`;
    return Number((await side.all(`SELECT count(*) AS n FROM ${table}`))[0]!['n']);
  },
  async *read(side, _withHistory, batchSize) {
    if (!(await schedulesInstalled(side))) return;
    if (side.dialect === 'sqlite') {
      // A paused schedule stays paused, and keeps its last run (queue schema step 3; an older
      // file has neither).
      const step3 = (
        await side.all("SELECT 1 FROM pragma_table_info('queue_schedules') WHERE name = 'paused_at'")
      ).length;
      const extra = step3
        ? 'paused_at IS NOT NULL AS paused, last_run_at, last_job_id'
        : '0 AS paused, NULL AS last_run_at, NULL AS last_job_id';
      yield* side.batches(
        `SELECT name, kind, cron, timezone, payload, options, ${extra} FROM queue_schedules`,
        [],
        batchSize,
      );
      return;
    }
    // Pauses and last runs live beside pg-boss's schedules, in ours (by schedule name): read them once.
    const ticks = new Map<string, { paused: boolean; lastRunAt: string | null; lastJobId: string | null }>();
    if (await side.hasTable(`${OURS}.schedule_tick`)) {
      for (const row of await side.all(`SELECT * FROM ${OURS}.schedule_tick`)) {
        const lastRunAt = row['last_run_at'];
        ticks.set(String(row['name']), {
          paused: row['paused_at'] !== null && row['paused_at'] !== undefined,
          lastRunAt:
            lastRunAt === null || lastRunAt === undefined
              ? null
              : new Date(lastRunAt instanceof Date ? lastRunAt : String(lastRunAt)).toISOString(),
          lastJobId: (row['last_job_id'] as string | null | undefined) ?? null,
        });
      }
    }
    const sql = `SELECT name, key, cron, timezone, data, options FROM ${BOSS}.schedule`;
    for await (const rows of side.batches(sql, [], batchSize)) {
      yield rows.map((row) => {
        const data = asObject(row['data']);
        const options = asObject(asObject(row['options'])['offload'])['options'] ?? {};
        const name = scheduleName(String(row['key']));
        return {
          name,
          kind: row['name'],
          cron: row['cron'],
          timezone: row['timezone'] ?? 'UTC',
          payload: JSON.stringify('payload' in data ? data['payload'] : null),
          options: JSON.stringify(options),
          paused: ticks.get(name)?.paused ?? false,
          last_run_at: ticks.get(name)?.lastRunAt ?? null,
          last_job_id: ticks.get(name)?.lastJobId ?? null,
        };
      });
    }
  },
  async write(tx, dialect, rows) {
    // The next tick fires from the copy on, not from the schedules' last run on the source.
    const now = new Date().toISOString();
    if (dialect === 'postgres') {
      const kinds = [...new Set(rows.map((r) => String(r['kind'])))];
      await tx.run(CREATE_BOSS_QUEUES, [kinds, BOSS_QUEUE_OPTIONS]);
      for (const row of rows) {
        const key = scheduleKey(String(row['name']));
        await tx.run(
          `INSERT INTO ${BOSS}.schedule (name, key, cron, timezone, data, options, created_on, updated_on)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
          [
            row['kind'],
            key,
            row['cron'],
            row['timezone'],
            JSON.stringify({ payload: parse(row['payload']) }),
            JSON.stringify({ tz: row['timezone'], key, offload: { options: parse(row['options']) } }),
            now,
          ],
        );
        const paused = isPaused(row['paused']);
        if (paused || row['last_run_at'] !== null) {
          await tx.run(
            `INSERT INTO ${OURS}.schedule_tick (name, cron, timezone, last_tick_at, paused_at, last_run_at, last_job_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (name) DO UPDATE SET paused_at = excluded.paused_at,
               last_run_at = excluded.last_run_at, last_job_id = excluded.last_job_id`,
            [
              row['name'],
              row['cron'],
              row['timezone'],
              now,
              paused ? now : null,
              row['last_run_at'],
              row['last_job_id'],
            ],
          );
        }
      }
      return;
    }
    for (const row of rows) {
      await tx.run(
        `INSERT INTO queue_schedules
           (name, cron, timezone, kind, payload, options, last_tick_at, updated_at, paused_at, last_run_at, last_job_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          row['name'],
          row['cron'],
          row['timezone'],
          row['kind'],
          row['payload'],
          row['options'],
          now,
          now,
          isPaused(row['paused']) ? now : null,
          row['last_run_at'] ?? null,
          row['last_job_id'] ?? null,
        ],
      );
    }
  },
  async finish() {},
  canonical(row) {
    return SCHEDULE_FIELDS.map(([name, kind]) => canonicalValue(kind, row[name]));
  },
};

export const QUEUE_SETS: readonly QueueSet[] = [queueJobs, queueSchedules];

/** A boolean as either database's driver reads it back (PostgreSQL true, SQLite 1). */
function isPaused(value: unknown): boolean {
  return value === true || value === 1 || value === 't';
}

function asObject(value: unknown): Record<string, unknown> {
  const parsed = typeof value === 'string' ? JSON.parse(value) : value;
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : {};
}

function parse(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : (value ?? null);
}

function jsonOrNull(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}
