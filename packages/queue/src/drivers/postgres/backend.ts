// The PostgreSQL backend: pg-boss 12.35 for what it has, our own SQL for what it lacks.
//
// From pg-boss: the schema and its migrations (`start()`), a queue per kind (created lazily with
// our defaults: retries with exponential backoff, a 30 s heartbeat lease, notify on), its job table,
// fetch index and NOTIFY channel, and its schedule table and validation.
// Ours (sql.ts): claims across kinds with a lease token, every fenced transition out of `active`,
// idempotent and transactional inserts, counts, lists, events; rescue, pruning and the cron ticker
// (maintenance.ts, schedules.ts); wake-ups and events (subscriptions.ts, listener.ts); connection
// supervision (supervisor.ts).
// pg-boss's own supervisor and timekeeper are left off: its monitor pass couples lease expiry to a
// whole-table count (we keep counters, and rescue every few seconds), and its cron forwards ticks
// through its own send, without the per-tick idempotency key our contract fires them with.
import { createHash } from 'node:crypto';
import { cursorSigner, isRefusedData } from '@offload/db';
import { PgBoss } from 'pg-boss';
import { type BulkFilter, bulkFilter, MAX_BULK_COUNT } from '../../runtime/bulk.ts';
import { Coalescer, type Settled, settleTogether, unwrap } from '../../runtime/coalescer.ts';
import { countsOf, SCHEDULED_COUNT_CAP, splitWaiting } from '../../runtime/counts.ts';
import { dueTick, tickInsert } from '../../runtime/cron.ts';
import { DEFAULT_LEASE_SECONDS, type KindDefaultsResolver } from '../../runtime/insert.ts';
import { idBounds, listRange } from '../../runtime/list-range.ts';
import { Maintenance, type MaintenanceSettings } from '../../runtime/maintenance.ts';
import { pageLimit } from '../../runtime/paging.ts';
import { retryAt } from '../../runtime/retry.ts';
import type {
  BackendCapabilities,
  BackendStartOptions,
  BulkAction,
  ClaimedJob,
  Job,
  JobBulkParams,
  JobClaimParams,
  JobCompleteParams,
  JobEvent,
  JobFailParams,
  JobInsertParams,
  JobInsertResult,
  JobListParams,
  JobProgressParams,
  JobTransition,
  Json,
  KindCounts,
  LeaseParams,
  Page,
  PruneParams,
  QueueBackend,
  Refused,
  Schedule,
  ScheduleState,
  SqlExecutor,
  Transition,
  Unsubscribe,
} from '../../types.ts';
import { JOB_STATES, NO_JOB, STORED } from '../../types.ts';
import { CursorCodec } from './cursor.ts';
import { idTime, uuidv7 } from './ids.ts';
import {
  BOSS_STATES,
  CLAIM_TYPES,
  type ClaimRow,
  envelopeBackoff,
  type InsertRow,
  insertedJob,
  insertRowsJson,
  iso,
  type JobRow,
  toInsertRow,
  toJob,
  toState,
} from './rows.ts';
import { type BossScheduleRow, fromBossSchedule, scheduleKey, toBossSchedule } from './schedules.ts';
import * as sql from './sql.ts';
import { Subscriptions } from './subscriptions.ts';
import { type ErrorReporter, SupervisedPool } from './supervisor.ts';

export { InvalidCursorError } from '@offload/db';
export { InvalidPageError } from '../../runtime/paging.ts';

export interface PgBossBackendOptions extends MaintenanceSettings {
  connectionString: string;
  /** pg-boss's schema. Default `pgboss`. */
  schema?: string;
  /** Our tables and functions beside it. Default `offload_queue` (or `<schema>_offload` for another schema). */
  extrasSchema?: string;
  /** Connections in the pool shared by our statements and pg-boss's. Default 10. */
  poolMax?: number;
  /** How long a statement keeps retrying a lost connection before failing (ms). Default 60 s. */
  reconnectTimeoutMs?: number;
  /** Background and connection errors that are handled (retried, reconnected) but worth a log line. */
  onError?: ErrorReporter;
  /** Per-kind send options (the job catalog's), for what a send leaves out (runtime/insert.ts). */
  defaults?: KindDefaultsResolver;
  /**
   * The deployment's cursor secret (@offload/db's deploymentCursorSecret: CURSOR_SECRET, or the one
   * kept in the `secrets` table), which signs job list cursors; default the process's
   * (setDefaultCursorSecret), random until start-up sets it.
   */
  cursorSecret?: string;
}

/** Options every queue is created with (pg-boss's units: seconds). */
const QUEUE_DEFAULTS = {
  policy: 'standard',
  retryLimit: 2,
  retryDelay: 1,
  retryBackoff: true,
  retryDelayMax: 60,
  // pg-boss's absolute run-time cap, which we do not use: leases are kept alive by heartbeats and
  // expire after heartbeatSeconds without one. 24 h is the largest pg-boss accepts.
  expireInSeconds: 24 * 60 * 60,
  heartbeatSeconds: DEFAULT_LEASE_SECONDS,
  retentionSeconds: 14 * 24 * 60 * 60,
  deleteAfterSeconds: 7 * 24 * 60 * 60,
  notify: true,
} as const;

const INTERNAL_QUEUE = /^__pgboss__/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SCHEMA = /^[a-z_][a-z0-9_]{0,40}$/;
/** Expired leases read and rescued per statement. */
const RESCUE_BATCH = 500;

interface CompleteItem {
  name: string;
  id: string;
  token: string;
  result: Json;
  at: string | null;
}

interface Lease {
  kind: string;
  id: string;
  micros: string;
}

export function createPgBossBackend(options: PgBossBackendOptions): QueueBackend {
  return new PgBossBackend(options);
}

class PgBossBackend implements QueueBackend {
  readonly name = 'pg-boss' as const;
  readonly capabilities: BackendCapabilities = { supportsListenNotify: true, supportsRemoteWorkers: true };

  readonly #options: PgBossBackendOptions;
  readonly #names: sql.SqlNames;
  readonly #sql: {
    insertJobs: string;
    findByKeys: string;
    findByIds: string;
    claimAvailable: string;
    heartbeat: string;
    progress: string;
    complete: string;
    endedWithToken: string;
    leasedAttempt: string;
    leasesFoundById: string;
    fail: string;
    expiredLeases: string;
    rescueExpired: string;
    release: string;
    getJob: string;
    cancel: string;
    retry: string;
    countJobs: string;
    prune: string;
  };
  readonly #onError: ErrorReporter;
  #pool: SupervisedPool | null = null;
  #boss: PgBoss | null = null;
  #subscriptions: Subscriptions | null = null;
  #cursors: CursorCodec | null = null;
  #maintenance: Maintenance | null = null;
  #starting: Promise<void> | null = null;
  readonly #queues = new Set<string>();
  readonly #queuesCreating = new Map<string, Promise<void>>();
  readonly #completer: Coalescer<CompleteItem, Transition>;
  readonly #inserter: Coalescer<JobInsertParams<unknown>, Settled<JobInsertResult<unknown>>>;
  /** stop() is draining: new sends are refused rather than queued behind it. */
  #stopping = false;

  constructor(options: PgBossBackendOptions) {
    const schema = options.schema ?? 'pgboss';
    const ours = options.extrasSchema ?? (schema === 'pgboss' ? 'offload_queue' : `${schema}_offload`);
    for (const [option, value] of [
      ['schema', schema],
      ['extrasSchema', ours],
    ] as const) {
      if (!SCHEMA.test(value))
        throw new TypeError(`${option} must be a lower-case SQL identifier (got ${value})`);
    }
    if (schema === ours) throw new TypeError('schema and extrasSchema must differ');
    this.#options = options;
    this.#onError =
      options.onError ?? ((error, context) => console.error(`[queue:pg-boss] ${context}: ${error.message}`));
    this.#names = {
      boss: schema,
      ours,
      // pg-boss's own channel for the schema (its notifyChannelSql): a job sent through pg-boss's
      // API wakes our workers, and ours wake pg-boss `work()` consumers.
      wakeChannel: `pgboss_${createHash('sha224').update(schema).digest('hex').slice(0, 24)}`,
      eventsChannel: `offload_events_${ours}`,
    };
    const n = this.#names;
    this.#sql = {
      insertJobs: sql.insertJobs(n),
      findByKeys: sql.findByKeys(n),
      findByIds: sql.findByIds(n),
      claimAvailable: sql.claimAvailable(n),
      heartbeat: sql.heartbeat(n),
      progress: sql.progress(n),
      complete: sql.complete(n),
      endedWithToken: sql.endedWithToken(n),
      leasedAttempt: sql.leasedAttempt(n),
      leasesFoundById: sql.leasesFoundById(n),
      fail: sql.fail(n),
      expiredLeases: sql.expiredLeases(n),
      rescueExpired: sql.rescueExpired(n),
      release: sql.release(n),
      getJob: sql.getJob(n),
      cancel: sql.cancel(n),
      retry: sql.retry(n),
      countJobs: sql.countJobs(n),
      prune: sql.prune(n),
    };
    this.#completer = new Coalescer((items) => this.#completeBatch(items), { maxBatch: 500, maxInFlight: 2 });
    this.#inserter = new Coalescer((list) => this.#insertTogether(list), {
      maxBatch: 500,
      maxInFlight: 2,
      maxWeight: MAX_SEND_BATCH_BYTES,
    });
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  async start(startOptions: BackendStartOptions = {}): Promise<void> {
    if (this.#pool !== null) return this.#starting ?? undefined;
    const options = this.#options;
    const pool = new SupervisedPool({
      connectionString: options.connectionString,
      max: options.poolMax ?? 10,
      reconnectTimeoutMs: options.reconnectTimeoutMs ?? 60_000,
      onError: this.#onError,
    });
    this.#pool = pool;
    this.#starting = (async () => {
      const maintenance = startOptions.maintenance === true;
      const boss = new PgBoss({
        // pg-boss runs on our supervised pool: a lost connection is retried, never fatal to it.
        db: { executeSql: (text, values) => pool.rawQuery(text, values) as Promise<{ rows: unknown[] }> },
        schema: this.#names.boss,
        migrate: true,
        supervise: false,
        schedule: false,
        persistWarnings: false,
      });
      boss.on('error', (error) => this.#onError(toError(error), 'pg-boss'));
      boss.on('warning', (warning) => this.#onError(new Error(warning.message), 'pg-boss warning'));
      // Our SQL reads and writes pg-boss's tables: refuse a schema another pg-boss version wrote
      // (before pg-boss could touch it), and one our pinned pg-boss did not leave at its version.
      assertBossVersion(await this.#bossVersion(), this.#names.boss, 'found');
      await boss.start();
      assertBossVersion(await this.#bossVersion(), this.#names.boss, 'installed');
      this.#boss = boss;
      await pool.query(sql.install(this.#names));
      const { rows } = await pool.query(sql.queueNames(this.#names));
      for (const row of rows) this.#queues.add(row['name'] as string);
      this.#cursors = new CursorCodec(cursorSigner(options.cursorSecret));
      this.#subscriptions = new Subscriptions({
        connectionString: options.connectionString,
        wakeChannel: this.#names.wakeChannel,
        eventsChannel: this.#names.eventsChannel,
        readProgress: async (id) => (await this.jobGet(id))?.progress ?? null,
        onError: this.#onError,
      });
      if (maintenance) {
        this.#maintenance = new Maintenance(this, options, (error, context) =>
          this.#onError(toError(error), context),
        );
        this.#maintenance.start();
      }
    })();
    try {
      await this.#starting;
    } catch (error) {
      await this.stop().catch(() => {});
      throw error;
    } finally {
      this.#starting = null;
    }
  }

  async stop(): Promise<void> {
    const pool = this.#pool;
    if (pool === null) return;
    this.#stopping = true;
    await this.#maintenance?.stop();
    this.#maintenance = null;
    await Promise.all([this.#completer.drained(), this.#inserter.drained()]);
    await this.#subscriptions?.close();
    this.#subscriptions = null;
    await this.#boss?.stop({ graceful: false, close: false }).catch((error: unknown) => {
      this.#onError(toError(error), 'stopping pg-boss');
    });
    this.#boss = null;
    this.#pool = null;
    this.#queues.clear();
    this.#stopping = false;
    await pool.end();
  }

  // ---- sending ---------------------------------------------------------------------------------

  /**
   * A send outside a caller's transaction shares one statement and one commit with the sends of
   * the same turn of the event loop (group commit). Each such commit notifies (events, wake-ups),
   * and PostgreSQL holds one lock for every notifying transaction while it flushes its WAL: sent
   * one by one, concurrent API requests would queue on that lock. A send with an idempotency key
   * goes alone: finding the job that holds its key takes statements after the insert committed,
   * and a failure there must not fail other callers whose jobs are stored.
   */
  async jobInsert<P = Json>(params: JobInsertParams<P>): Promise<JobInsertResult<P>> {
    if (params.executor !== undefined || params.idempotencyKey !== undefined) {
      const [result] = await this.jobInsertMany([params]);
      return result!;
    }
    if (this.#pool === null || this.#stopping)
      throw new Error('the pg-boss backend is not started or stopping');
    // Bad options, or a payload or meta JSON cannot hold, fail this call alone; the JSON's length
    // weighs the job in its batch.
    const row = toInsertRow(params as JobInsertParams<unknown>, VALIDATION_ID, this.#options.defaults);
    const settled = await this.#inserter.push(params as JobInsertParams<unknown>, row.dataJson.length);
    return unwrap(settled) as JobInsertResult<P>;
  }

  /** The inserter's batch; a data or constraint error (SQLSTATE class 22 or 23) is one job's alone. */
  #insertTogether(list: Array<JobInsertParams<unknown>>): Promise<Array<Settled<JobInsertResult<unknown>>>> {
    return settleTogether(list, (some) => this.jobInsertMany(some), isRefusedData);
  }

  async jobInsertMany<P = Json>(list: ReadonlyArray<JobInsertParams<P>>): Promise<Array<JobInsertResult<P>>> {
    if (list.length === 0) return [];
    const executor = list[0]!.executor;
    if (list.some((params) => params.executor !== executor)) {
      throw new TypeError('jobInsertMany: every job must use the same executor');
    }
    if (executor !== undefined && executor.dialect !== 'postgres') {
      throw new TypeError(`the pg-boss backend needs a postgres executor (got ${executor.dialect})`);
    }
    const now = Date.now();
    const rows = list.map((params) =>
      toInsertRow(params as JobInsertParams<unknown>, uuidv7(now), this.#options.defaults),
    );
    // The batch's creation instant is its first id's millisecond (later ones share it, or exceed it
    // by a millisecond past 2048 ids), so ordering by id is ordering by creation.
    const createdAt = new Date(idTime(rows[0]!.id)).toISOString();
    await this.#ensureQueues(new Set(rows.map((row) => row.name)));
    const run = (text: string, values: unknown[]) => this.#run(executor, text, values);

    // Items are inserted as if one after another: a repeated (kind, key) in the same call is the
    // first one's job, not created again.
    const firstWithKey = new Map<string, InsertRow>();
    const repeats = new Map<InsertRow, InsertRow>();
    for (const row of rows) {
      if (row.singleton_key === undefined) continue;
      const key = `${row.name}\u0000${row.singleton_key}`;
      const first = firstWithKey.get(key);
      if (first === undefined) firstWithKey.set(key, row);
      else repeats.set(row, first);
    }

    const results = new Map<string, { job: Job; created: boolean }>();
    let pending = rows.filter((row) => !repeats.has(row));
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt === 3) throw new Error('jobInsert: could not insert or find a job after 3 attempts');
      const inserted = await run(this.#sql.insertJobs, [insertRowsJson(pending), createdAt]);
      const startAfter = new Map(
        inserted.rows.map((row) => [row['id'] as string, row['start_after'] as Date]),
      );
      const missing = pending.filter((row) => {
        const start = startAfter.get(row.id);
        if (start !== undefined)
          results.set(row.id, { job: insertedJob(row, createdAt, start), created: true });
        return start === undefined;
      });
      if (missing.length === 0) break;
      // Not inserted: a retained job holds its key, or (after a lost connection) the first try
      // committed it already. Read both back; anything still missing (a keyed job pruned meanwhile)
      // is inserted again.
      const found = new Map<string, JobRow>();
      if (inserted.retried) {
        const ids = missing.map((row) => ({ name: row.name, id: row.id }));
        for (const row of (await run(this.#sql.findByIds, [JSON.stringify(ids)])).rows) {
          found.set(`${row['name']}\u0000${row['id']}`, row as unknown as JobRow);
        }
      }
      const keyed = missing.filter(
        (row) => row.singleton_key !== undefined && !found.has(`${row.name}\u0000${row.id}`),
      );
      if (keyed.length > 0) {
        const keys = keyed.map((row) => ({ name: row.name, key: row.singleton_key }));
        for (const row of (await run(this.#sql.findByKeys, [JSON.stringify(keys)])).rows) {
          found.set(`${row['name']}\u0000key:${row['singleton_key']}`, row as unknown as JobRow);
        }
      }
      pending = [];
      for (const row of missing) {
        const job =
          found.get(`${row.name}\u0000${row.id}`) ?? found.get(`${row.name}\u0000key:${row.singleton_key}`);
        if (job !== undefined) results.set(row.id, { job: toJob(job), created: job.id === row.id });
        else if (row.singleton_key !== undefined || inserted.retried) pending.push(row);
        else throw new Error(`jobInsert: job of kind ${row.name} was not inserted`);
      }
    }
    return rows.map((row) => {
      const first = repeats.get(row);
      if (first === undefined) return results.get(row.id) as JobInsertResult<P>;
      return { job: results.get(first.id)!.job, created: false } as JobInsertResult<P>;
    });
  }

  // ---- working ---------------------------------------------------------------------------------

  async jobClaim(params: JobClaimParams): Promise<ClaimedJob[]> {
    if (params.limit < 1 || params.kinds.length === 0) return [];
    const { rows } = await this.#pool!.query(
      this.#sql.claimAvailable,
      [
        params.kinds,
        params.limit,
        params.now?.toISOString() ?? null,
        params.workerId,
        Math.max(0, Math.floor(params.oldest ?? 0)),
      ],
      { prepare: true, types: CLAIM_TYPES },
    );
    return (rows as unknown as ClaimRow[])
      .sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : 1))
      .map((row) => ({
        job: toJob(row),
        leaseToken: `${row.lease_token}.${row.name}`,
        leaseExpiresAt: iso(row.lease_expires_on),
      }));
  }

  async jobHeartbeat(params: LeaseParams): Promise<Transition> {
    const lease = parseLease(params);
    if (lease === null) return this.#malformedLease(params);
    const { rows } = await this.#prepared(this.#sql.heartbeat, [
      lease.kind,
      lease.id,
      lease.micros,
      params.now?.toISOString() ?? null,
    ]);
    return this.#orInAnyQueue(lease.id, toTransition(rows[0]));
  }

  async jobProgress(params: JobProgressParams): Promise<Transition> {
    const lease = parseLease(params);
    if (lease === null) return this.#malformedLease(params);
    const { rows } = await this.#prepared(this.#sql.progress, [
      lease.kind,
      lease.id,
      lease.micros,
      JSON.stringify(params.progress),
    ]);
    return this.#orInAnyQueue(lease.id, toTransition(rows[0]));
  }

  async jobComplete(params: JobCompleteParams): Promise<Transition> {
    const lease = parseLease(params);
    if (lease === null) return this.#malformedLease(params);
    const outcome = await this.#completer.push({
      name: lease.kind,
      id: lease.id,
      token: lease.micros,
      result: params.result ?? null,
      at: params.now?.toISOString() ?? null,
    });
    return this.#orInAnyQueue(lease.id, outcome);
  }

  /** Completes attempts in one statement (per 1000); each is fenced by its own lease. */
  async jobCompleteMany(list: ReadonlyArray<JobCompleteParams>): Promise<Transition[]> {
    const results: Transition[] = [];
    const items: Array<{ index: number; item: CompleteItem }> = [];
    const malformed: Array<{ index: number; id: string }> = [];
    list.forEach((params, index) => {
      const lease = parseLease(params);
      if (lease === null) {
        malformed.push({ index, id: params.id });
        return;
      }
      items.push({
        index,
        item: {
          name: lease.kind,
          id: lease.id,
          token: lease.micros,
          result: params.result ?? null,
          at: params.now?.toISOString() ?? null,
        },
      });
    });
    for (let start = 0; start < items.length; start += 1000) {
      const chunk = items.slice(start, start + 1000);
      const stored = await this.#completeBatch(chunk.map((entry) => entry.item));
      chunk.forEach((entry, i) => {
        results[entry.index] = stored[i]!;
      });
    }
    // Tokens that hold no lease on their id (made up, or of another kind than the job's) are
    // answered with the job as it is in whichever queue holds it, in one read.
    for (const { index, item } of items)
      if (results[index] === NO_JOB) malformed.push({ index, id: item.id });
    if (malformed.length > 0) {
      const found = await this.#foundById(malformed.map((entry) => entry.id));
      for (const entry of malformed) results[entry.index] = found.get(entry.id.toLowerCase()) ?? NO_JOB;
    }
    return results;
  }

  async #completeBatch(items: CompleteItem[]): Promise<Transition[]> {
    // Outcomes are keyed by the item's place (n): a batch may hold two attempts of one job.
    const numbered = items.map((item, n) => ({ n, ...item }));
    const { rows, retried } = await this.#prepared(this.#sql.complete, [JSON.stringify(numbered)]);
    const outcomes = new Map(rows.map((row) => [row['n'] as number, toTransition(row)]));
    if (retried) {
      const refused = numbered.filter((item) => outcomes.get(item.n)?.stored !== true);
      if (refused.length > 0) {
        for (const n of await this.#endedWithToken(refused, ['completed'])) outcomes.set(n, STORED);
      }
    }
    return numbered.map((item) => outcomes.get(item.n) ?? NO_JOB);
  }

  async jobFail(params: JobFailParams): Promise<Transition> {
    const lease = parseLease(params);
    if (lease === null) return this.#malformedLease(params);
    const error = {
      message: String(params.error.message),
      kind: String(params.error.kind || 'Error'),
      ...(params.error.stack !== undefined ? { stack: String(params.error.stack) } : {}),
    };
    // The retry policy is the runtime's (runtime/retry.ts): read the attempt under its lease, ask
    // it, store the answer with a guarded update (a lease lost in between leaves the row alone).
    const attempt = await this.#prepared(this.#sql.leasedAttempt, [lease.kind, lease.id, lease.micros]);
    const row = attempt.rows[0];
    if (row === undefined) return this.#orInAnyQueue(lease.id, NO_JOB);
    if (row['ours'] !== true) return refusedAs(row['state'] as string, row['reclaimed'] === true);
    const now = params.now ?? new Date();
    const next = retryAt(
      {
        attempts: Number(row['attempts']),
        maxAttempts: Number(row['max_attempts']),
        backoff: envelopeBackoff({ backoff: row['backoff'] }),
        final: params.final === true,
      },
      now,
    );
    const { rows, retried } = await this.#prepared(this.#sql.fail, [
      lease.kind,
      lease.id,
      lease.micros,
      JSON.stringify(error),
      next,
      now.toISOString(),
    ]);
    const outcome = await this.#orInAnyQueue(lease.id, toTransition(rows[0]));
    if (outcome.stored || !retried) return outcome;
    const ended = await this.#endedWithToken(
      [{ n: 0, name: lease.kind, id: lease.id, token: lease.micros }],
      ['retry', 'failed'],
    );
    return ended.length > 0 ? STORED : outcome;
  }

  async jobRelease(params: LeaseParams): Promise<Transition> {
    const lease = parseLease(params);
    if (lease === null) return this.#malformedLease(params);
    const { rows } = await this.#prepared(this.#sql.release, [
      lease.kind,
      lease.id,
      lease.micros,
      params.now?.toISOString() ?? null,
    ]);
    return this.#orInAnyQueue(lease.id, toTransition(rows[0]));
  }

  /** A lease token this backend never issued: refused, with the state its job is in. */
  async #malformedLease(params: LeaseParams): Promise<Refused> {
    return (await this.#foundById([params.id])).get(params.id.toLowerCase()) ?? NO_JOB;
  }

  /**
   * A fenced statement looks its job up by the token's kind (one index probe); finding none, the
   * token may be of another kind than the job's: the job is then looked up in every queue.
   */
  async #orInAnyQueue(id: string, outcome: Transition): Promise<Transition> {
    if (outcome !== NO_JOB) return outcome;
    return (await this.#foundById([id])).get(id.toLowerCase()) ?? NO_JOB;
  }

  /** What lease transitions found whose tokens hold no lease on these ids (lower case), in one read. */
  async #foundById(ids: readonly string[]): Promise<Map<string, Refused>> {
    const found = new Map<string, Refused>();
    const valid = [...new Set(ids.filter((id) => UUID.test(id)))];
    if (valid.length === 0) return found;
    const { rows } = await this.#prepared(this.#sql.leasesFoundById, [valid]);
    for (const row of rows) found.set(row['id'] as string, toTransition(row) as Refused);
    return found;
  }

  /** Which of these attempts (numbered by n) already ended in one of `states`: their n. */
  async #endedWithToken(
    attempts: ReadonlyArray<{ n: number; name: string; id: string; token: string }>,
    states: readonly string[],
  ): Promise<number[]> {
    const { rows } = await this.#pool!.query(this.#sql.endedWithToken, [
      JSON.stringify(attempts.map(({ n, name, id, token }) => ({ n, name, id, token }))),
      states,
    ]);
    return rows.map((row) => row['n'] as number);
  }

  // ---- operators and readers -------------------------------------------------------------------

  async jobCancel(id: string): Promise<JobTransition> {
    if (!UUID.test(id)) return { ...NO_JOB, job: null };
    const { rows } = await this.#pool!.query(this.#sql.cancel, [id, null]);
    return toJobTransition(rows[0]);
  }

  async jobRetry(id: string): Promise<JobTransition> {
    if (!UUID.test(id)) return { ...NO_JOB, job: null };
    const { rows } = await this.#pool!.query(this.#sql.retry, [id, null]);
    return toJobTransition(rows[0]);
  }

  async jobCancelMany(params: JobBulkParams): Promise<number> {
    return this.#operateMany(sql.cancelMany(this.#names), bulkFilter('cancel', params));
  }

  async jobRetryMany(params: JobBulkParams): Promise<number> {
    return this.#operateMany(sql.retryMany(this.#names), bulkFilter('retry', params));
  }

  async jobCountMany(action: BulkAction, params: JobBulkParams): Promise<number> {
    const filter = bulkFilter(action, params, MAX_BULK_COUNT);
    const { rows } = await this.#requirePool().query(
      sql.countMany(this.#names, action === 'cancel'),
      bulkValues(filter),
    );
    return (rows[0]?.['n'] as number | undefined) ?? 0;
  }

  async #operateMany(text: string, filter: BulkFilter): Promise<number> {
    const { rows } = await this.#requirePool().query(text, [...bulkValues(filter), null]);
    return (rows[0]?.['moved'] as number | undefined) ?? 0;
  }

  async jobGet(id: string): Promise<Job | null> {
    if (!UUID.test(id)) return null;
    const { rows } = await this.#prepared(this.#sql.getJob, [id]);
    return rows.length === 0 ? null : toJob(rows[0] as unknown as JobRow);
  }

  async jobList(params: JobListParams): Promise<Page<Job>> {
    const limit = pageLimit(params.limit);
    const cursors = this.#cursors;
    if (cursors === null) throw new Error('the pg-boss backend is not started');
    const after = params.cursor ? cursors.decode(params.cursor) : null;
    if (params.state !== undefined && !(JOB_STATES as readonly string[]).includes(params.state)) {
      throw new TypeError(`state must be one of ${JOB_STATES.join(', ')}`);
    }
    const range = idBounds(listRange(params));
    const { text, params: names } = sql.listJobs(this.#names, {
      kind: params.kind !== undefined,
      state: params.state !== undefined,
      owner: params.owner !== undefined,
      idFrom: range.idFrom !== null,
      idBefore: range.idBefore !== null,
      cursor: after !== null,
    });
    const values: Record<string, unknown> = {
      kind: params.kind,
      state: params.state === undefined ? undefined : BOSS_STATES[params.state],
      owner: params.owner,
      idFrom: range.idFrom,
      idBefore: range.idBefore,
      cursor: after,
    };
    const { rows } = await this.#pool!.query(text, [limit + 1, ...names.map((name) => values[name])], {
      prepare: true,
    });
    const page = rows.slice(0, limit) as unknown as JobRow[];
    const last = page.at(-1);
    return {
      items: page.map(toJob),
      nextCursor: rows.length > limit && last !== undefined ? cursors.encode(last.id) : null,
    };
  }

  async jobCounts(now?: Date): Promise<KindCounts[]> {
    const { rows } = await this.#prepared(this.#sql.countJobs, [
      now?.toISOString() ?? null,
      SCHEDULED_COUNT_CAP,
    ]);
    const at = (now ?? new Date()).getTime();
    const byKind = new Map<string, KindCounts>();
    const later = new Map<string, number>();
    for (const row of rows) {
      const kind = row['kind'] as string;
      if (INTERNAL_QUEUE.test(kind)) continue;
      if (row['state'] !== null) {
        countsOf(byKind, kind)[toState(row['state'] as string)] += Number(row['n']);
        continue;
      }
      later.set(kind, Number(row['later']));
      const oldest = row['oldest_ready'] as Date | null;
      if (oldest !== null)
        countsOf(byKind, kind).oldestQueuedAgeSeconds = Math.max(0, at - oldest.getTime()) / 1000;
    }
    for (const [kind, n] of later) splitWaiting(countsOf(byKind, kind), n);
    return [...byKind.values()]
      .filter((c) => JOB_STATES.some((state) => c[state] > 0))
      .sort((a, b) => a.kind.localeCompare(b.kind));
  }

  // ---- maintenance -----------------------------------------------------------------------------

  /** Expired leases in batches: read them, ask the runtime's retry policy, store its answers (guarded). */
  async jobRescueExpired(now?: Date): Promise<number> {
    const at = now ?? new Date();
    let moved = 0;
    for (;;) {
      const { rows } = await this.#prepared(this.#sql.expiredLeases, [
        now?.toISOString() ?? null,
        RESCUE_BATCH,
      ]);
      if (rows.length === 0) return moved;
      const items = rows.map((row) => ({
        name: row['name'] as string,
        id: row['id'] as string,
        token: row['token'] as string,
        retry_at: retryAt(
          {
            attempts: Number(row['attempts']),
            maxAttempts: Number(row['max_attempts']),
            backoff: envelopeBackoff({ backoff: row['backoff'] }),
          },
          at,
        ),
      }));
      const result = await this.#pool!.query(this.#sql.rescueExpired, [
        JSON.stringify(items),
        now?.toISOString() ?? null,
      ]);
      moved += (result.rows[0]?.['moved'] as number | undefined) ?? 0;
      if (rows.length < RESCUE_BATCH) return moved;
    }
  }

  async jobPrune(params: PruneParams): Promise<number> {
    const { rows } = await this.#pool!.query(sql.queueNames(this.#names));
    let deleted = 0;
    for (const row of rows) {
      const result = await this.#prepared(this.#sql.prune, [
        params.completedBefore.toISOString(),
        params.failedBefore.toISOString(),
        row['name'],
      ]);
      deleted += (result.rows[0]?.['deleted'] as number | undefined) ?? 0;
    }
    return deleted;
  }

  // ---- leader election (runtime/maintenance.ts) --------------------------------------------------

  async leaderAcquire(params: {
    name: string;
    holder: string;
    expiresAt: Date;
    now: Date;
  }): Promise<boolean> {
    const { rows } = await this.#requirePool().query(sql.leaderAcquire(this.#names), [
      params.name,
      params.holder,
      params.expiresAt.toISOString(),
      params.now.toISOString(),
    ]);
    return rows.length > 0;
  }

  async leaderResign(params: { name: string; holder: string }): Promise<void> {
    await this.#requirePool().query(sql.leaderResign(this.#names), [params.name, params.holder]);
  }

  /**
   * One cron pass at `now` (runtime/cron.ts's policy): each schedule's latest tick, if later than the
   * last one it fired, is sent (idempotently, by its key) and then recorded as fired; a crash in
   * between sends it again next pass, which its key turns into the job already sent. A schedule
   * with no tick recorded (saved through pg-boss's own API) counts from now. Returns the jobs sent.
   */
  async scheduleFireDue(now: Date = new Date()): Promise<Job[]> {
    const pool = this.#requirePool();
    const schedules = await this.scheduleList();
    const { rows } = await pool.query(sql.scheduleTicks(this.#names));
    const lastTicks = new Map(rows.map((row) => [row['name'] as string, row['last_tick_at'] as string]));
    const paused = new Set(rows.filter((row) => row['paused'] === true).map((row) => row['name'] as string));
    const fired: Job[] = [];
    for (const schedule of schedules) {
      if (paused.has(schedule.name)) continue;
      const last = lastTicks.get(schedule.name);
      try {
        if (last === undefined) {
          await pool.query(sql.scheduleTickSave(this.#names), [
            schedule.name,
            schedule.cron,
            schedule.timezone,
            now.toISOString(),
          ]);
          continue;
        }
        const tick = dueTick(schedule, last, now);
        if (tick === null) continue;
        const [sent] = await this.jobInsertMany([tickInsert(schedule, tick)]);
        await pool.query(sql.scheduleTickAdvance(this.#names), [schedule.name, tick, last, sent!.job.id]);
        if (sent!.created) fired.push(sent!.job);
      } catch (error) {
        this.#onError(toError(error), `schedule ${schedule.name} could not be fired`);
      }
    }
    return fired;
  }

  // ---- schedules -------------------------------------------------------------------------------

  async scheduleUpsert(schedule: Schedule): Promise<void> {
    const boss = this.#requireBoss();
    const target = toBossSchedule(schedule);
    await this.#ensureQueues(new Set([target.queue]));
    // A schedule keeps its name when its kind changes: drop the row filed under the old kind.
    for (const row of await this.#bossSchedules()) {
      if (row.key === target.key && row.name !== target.queue) await boss.unschedule(row.name, row.key);
    }
    await boss.schedule(target.queue, target.cron, target.data, target.options);
    await this.#requirePool().query(sql.scheduleTickSave(this.#names), [
      schedule.name,
      schedule.cron,
      schedule.timezone || 'UTC',
      new Date().toISOString(),
    ]);
  }

  async scheduleDelete(name: string): Promise<boolean> {
    const boss = this.#requireBoss();
    const key = scheduleKey(name);
    let found = false;
    for (const row of await this.#bossSchedules()) {
      if (row.key !== key) continue;
      await boss.unschedule(row.name, row.key);
      found = true;
    }
    await this.#requirePool().query(sql.scheduleTickDelete(this.#names), [name]);
    return found;
  }

  async scheduleStates(): Promise<ScheduleState[]> {
    const { rows } = await this.#requirePool().query(sql.scheduleStates(this.#names));
    return rows.map((row) => ({
      name: row['name'] as string,
      paused: row['paused'] === true,
      lastRunAt: (row['last_run_at'] as string | null) ?? null,
      lastJobId: (row['last_job_id'] as string | null) ?? null,
    }));
  }

  async schedulePause(name: string, paused: boolean, now: Date = new Date()): Promise<boolean> {
    const schedule = (await this.scheduleList()).find((candidate) => candidate.name === name);
    if (schedule === undefined) return false;
    await this.#requirePool().query(
      paused ? sql.schedulePause(this.#names) : sql.scheduleResume(this.#names),
      [name, schedule.cron, schedule.timezone || 'UTC', now.toISOString()],
    );
    return true;
  }

  async scheduleList(): Promise<Schedule[]> {
    return (await this.#bossSchedules()).map(fromBossSchedule).sort((a, b) => a.name.localeCompare(b.name));
  }

  async #bossSchedules(): Promise<BossScheduleRow[]> {
    const rows = (await this.#requireBoss().getSchedules()) as unknown as BossScheduleRow[];
    return rows.filter((row) => !INTERNAL_QUEUE.test(row.name));
  }

  // ---- subscriptions (subscriptions.ts) -------------------------------------------------------

  onJobsAvailable(kinds: readonly string[], listener: () => void): Promise<Unsubscribe> {
    return this.#requireSubscriptions().onJobsAvailable(kinds, listener);
  }

  onJobEvent(listener: (event: JobEvent) => void): Promise<Unsubscribe> {
    return this.#requireSubscriptions().onJobEvent(listener);
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** Creates the queues pg-boss needs before it accepts jobs of a kind (once per kind per process). */
  async #ensureQueues(kinds: ReadonlySet<string>): Promise<void> {
    const boss = this.#requireBoss();
    const waits: Array<Promise<void>> = [];
    for (const kind of kinds) {
      if (this.#queues.has(kind)) continue;
      let creating = this.#queuesCreating.get(kind);
      if (creating === undefined) {
        creating = boss
          .createQueue(kind, QUEUE_DEFAULTS)
          .then(() => {
            this.#queues.add(kind);
          })
          .finally(() => this.#queuesCreating.delete(kind));
        this.#queuesCreating.set(kind, creating);
      }
      waits.push(creating);
    }
    await Promise.all(waits);
  }

  /** Through the caller's transaction (never retried: it is the caller's), else our pool. */
  async #run(
    executor: SqlExecutor | undefined,
    text: string,
    values: unknown[],
  ): Promise<{ rows: Array<Record<string, unknown>>; retried: boolean }> {
    if (executor !== undefined) return { rows: (await executor.query(text, values)).rows, retried: false };
    return this.#prepared(text, values);
  }

  /** A hot-path statement: named, so each pooled connection parses and plans it once. */
  #prepared(text: string, values: readonly unknown[] = []) {
    return this.#pool!.query(text, values, { prepare: true });
  }

  /** pg-boss's schema version in the database, or null before pg-boss installed it. */
  async #bossVersion(): Promise<number | null> {
    const pool = this.#requirePool();
    const { rows } = await pool.query(sql.bossVersionTable, [this.#names.boss]);
    if (rows[0]?.['present'] !== true) return null;
    const version = await pool.query(sql.bossVersion(this.#names));
    return version.rows.length === 0 ? null : Number(version.rows[0]!['version']);
  }

  #requirePool(): SupervisedPool {
    if (this.#pool === null) throw new Error('the pg-boss backend is not started');
    return this.#pool;
  }

  #requireBoss(): PgBoss {
    if (this.#boss === null) throw new Error('the pg-boss backend is not started');
    return this.#boss;
  }

  #requireSubscriptions(): Subscriptions {
    if (this.#subscriptions === null) throw new Error('the pg-boss backend is not started');
    return this.#subscriptions;
  }
}

/**
 * The pg-boss schema version this adapter's SQL was written and tested against: pg-boss 12.35.0's
 * (its package.json `pgboss.schema`). docs/queue.md lists every pg-boss table and column we use.
 */
export const PGBOSS_SCHEMA_VERSION = 43;
export const PGBOSS_PACKAGE_VERSION = '12.35.0';

/** Start-up refused: the database's pg-boss schema is not the version our SQL was written against. */
export class PgBossVersionError extends Error {
  readonly found: number;

  constructor(schema: string, found: number, when: 'found' | 'installed') {
    super(
      `the pg-boss schema "${schema}" is at version ${found}${when === 'installed' ? ' after pg-boss started' : ''}, ` +
        `but Offload's PostgreSQL queue was written against version ${PGBOSS_SCHEMA_VERSION} ` +
        `(pg-boss ${PGBOSS_PACKAGE_VERSION}) and reads and writes pg-boss's tables directly. ` +
        (found > PGBOSS_SCHEMA_VERSION || when === 'installed'
          ? `Run the Offload release whose pinned pg-boss matches this database (or restore it from a backup taken ` +
            `before the newer pg-boss migrated it); to move Offload to a newer pg-boss, update pg-boss in ` +
            `packages/queue, check the tables and columns docs/queue.md lists, run the queue's conformance ` +
            `suite, then change PGBOSS_SCHEMA_VERSION.`
          : `Start Offload once against this database with migrations allowed (pg-boss upgrades its own schema), ` +
            `or check that the schema is pg-boss's.`),
    );
    this.name = 'PgBossVersionError';
    this.found = found;
  }
}

function assertBossVersion(found: number | null, schema: string, when: 'found' | 'installed'): void {
  if (found === null) {
    if (when === 'found') return; // a new database: pg-boss installs its schema at its own version
    throw new PgBossVersionError(schema, 0, when);
  }
  // An older schema is upgraded by pg-boss's own migrations at start; the check after start holds it.
  if (when === 'found' ? found > PGBOSS_SCHEMA_VERSION : found !== PGBOSS_SCHEMA_VERSION) {
    throw new PgBossVersionError(schema, found, when);
  }
}

/** The id toInsertRow is given when it only checks a send's options. */
const VALIDATION_ID = '00000000-0000-7000-8000-000000000000';
/** Payload and meta JSON per grouped statement at most: a heavier send goes alone. */
const MAX_SEND_BATCH_BYTES = 8 * 1024 * 1024;

function refusedAs(bossState: string, reclaimed = false): Refused {
  return { stored: false, found: toState(bossState), reclaimed };
}

/** A fenced statement's outcome row (sql.ts `outcome`); none: there is no such job. */
function toTransition(row: Record<string, unknown> | undefined): Transition {
  if (row === undefined) return NO_JOB;
  if (row['stored'] === true) return STORED;
  return row['found'] === null ? NO_JOB : refusedAs(row['found'] as string, row['reclaimed'] === true);
}

/** Cancel's or retry's row: the job as stored, or as found; none: no such job. */
function toJobTransition(row: Record<string, unknown> | undefined): JobTransition {
  if (row === undefined) return { ...NO_JOB, job: null };
  const job = toJob(row as unknown as JobRow);
  return row['stored'] === true
    ? { stored: true, job }
    : { stored: false, found: job.state, reclaimed: false, job };
}

/** A lease token is `<claim start in µs>.<kind>`: the kind lets every fenced statement use the key. */
function parseLease(params: LeaseParams): Lease | null {
  const match = /^(\d{1,19})\.(.+)$/.exec(params.leaseToken);
  if (match === null || !UUID.test(params.id)) return null;
  return { micros: match[1]!, kind: match[2]!, id: params.id };
}

function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'object' && value !== null && 'message' in value)
    return new Error(String(value.message));
  return new Error(String(value));
}

/** bulkTarget's parameters $1…$6 for a filter. */
function bulkValues(filter: BulkFilter): unknown[] {
  return [
    filter.states.map((state) => BOSS_STATES[state]),
    filter.kind,
    filter.owner,
    filter.createdFrom,
    filter.createdBefore,
    filter.limit,
  ];
}
