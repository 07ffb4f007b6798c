// Our own queue on SQLite (better-sqlite3), in the application's database file, for the embedded
// shape (DESIGN.md §1): several worker processes on one machine share the file.
//
// - Jobs live in queue_jobs (schema.ts); every statement is a named constant in sql.ts, prepared
//   once per connection with the multi-statement transactions in transactions.ts.
// - Claims run in BEGIN IMMEDIATE (SQLite's one writer at a time): the best ready jobs of the
//   asked kinds become active, each under a fresh random lease token. Every transition out of
//   `active` is an UPDATE guarded by (id, state = 'active', lease_token) whose changed rows are
//   checked, so a worker whose lease expired and was rescued cannot touch the attempt that
//   followed.
// - The per-(kind, state) counters and the event log are written in the transaction of each
//   change, once per batch (changes.ts), never by a scan.
// - Wake-ups and events cross processes through the event log and PRAGMA data_version
//   (notifier.ts); maintenance (rescue, cron, prune, leader election) is the runtime's
//   (runtime/maintenance.ts, runtime/cron.ts) on this driver's primitives.
//
// better-sqlite3 is synchronous: each method does its database work at once and returns a settled
// promise, except while the file is busy, when connection.ts's retry waits off the event loop.
import { type CursorSigner, cursorSigner } from '@offload/db';
import type Database from 'better-sqlite3';
import { type BulkFilter, bulkFilter, MAX_BULK_COUNT } from '../../runtime/bulk.ts';
import { Coalescer, type Settled, settleTogether, unwrap } from '../../runtime/coalescer.ts';
import { countsOf, SCHEDULED_COUNT_CAP, splitWaiting } from '../../runtime/counts.ts';
import { dueTick, tickInsert, validateSchedule } from '../../runtime/cron.ts';
import type { KindDefaultsResolver } from '../../runtime/insert.ts';
import { listRange } from '../../runtime/list-range.ts';
import {
  bindMaintenance,
  type ErrorReporter,
  Maintenance,
  type MaintenanceSettings,
  maintenanceSettings,
  positive,
} from '../../runtime/maintenance.ts';
import { pageLimit } from '../../runtime/paging.ts';
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
  JobState,
  JobTransition,
  KindCounts,
  LeaseParams,
  Page,
  PruneParams,
  QueueBackend,
  Schedule,
  ScheduleState,
  SqlExecutor,
  Transition,
  Unsubscribe,
} from '../../types.ts';
import { Changes } from './changes.ts';
import { isBusy, openDatabase, retryBusy } from './connection.ts';
import { CursorCodec, type CursorPosition } from './cursor.ts';
import { Notifier } from './notifier.ts';
import {
  type JobRow,
  leaseJobNo,
  type NewJob,
  newJob,
  toJob,
  toJsonText,
  toNullableJsonText,
} from './rows.ts';
import { installSchema } from './schema.ts';
import * as sql from './sql.ts';
import {
  type CompleteItem,
  chooseReady,
  PRUNE_BATCH,
  prepareStatements,
  prepareTransactions,
  RESCUE_BATCH,
  type ScheduleRow,
  type Statements,
  type Transactions,
} from './transactions.ts';

export { InvalidCursorError } from '@offload/db';
export { InvalidPageError } from '../../runtime/paging.ts';

export interface SqliteBackendOptions extends MaintenanceSettings {
  /** The SQLite file (the application's own database). */
  path: string;
  /** How long an operation keeps retrying while another connection holds the write lock (ms). Default 10 s. */
  busyTimeoutMs?: number;
  /** How often a listening backend checks for commits by others (ms). Default 1. */
  watchIntervalMs?: number;
  /** How long finished jobs and events are kept (runtime/maintenance.ts); events default 1 hour. */
  retention?: { completedMs?: number; failedMs?: number; eventsMs?: number };
  /** Background errors that were handled (a maintenance tick, a listener) but deserve a log line. */
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

/** The SQLite backend: QueueBackend plus its maintenance entry points (called by tests with their own `now`). */
export interface SqliteQueueBackend extends QueueBackend {
  jobCompleteMany(params: ReadonlyArray<JobCompleteParams>): Promise<Transition[]>;
  /** Fires every schedule's due tick that has not fired yet; returns the jobs sent. */
  scheduleFireDue(now?: Date): Promise<Job[]>;
  /** Deletes events older than `before`. */
  eventPrune(before: Date): Promise<number>;
}

/** Payload JSON per grouped send transaction at most: a heavier send goes alone. */
const MAX_SEND_BATCH_BYTES = 8 * 1024 * 1024;
const CLAIM_MAX = 1000;

interface Open {
  db: Database.Database;
  statements: Statements;
  notifier: Notifier;
  cursors: CursorCodec;
  lists: Map<string, Database.Statement<unknown[], JobRow>>;
  bulk: Map<string, Database.Statement<unknown[], { job_no: number; state: JobState }>>;
  bulkCounts: Map<string, Database.Statement<unknown[], { n: number }>>;
  tx: Transactions;
}

class SqliteBackend implements SqliteQueueBackend {
  readonly name = 'sqlite' as const;
  readonly capabilities: BackendCapabilities = { supportsListenNotify: false, supportsRemoteWorkers: false };
  readonly #path: string;
  readonly #busyTimeoutMs: number;
  readonly #watchIntervalMs: number;
  readonly #maintenanceSettings: MaintenanceSettings;
  readonly #eventsRetentionMs: number;
  readonly #onError: ErrorReporter;
  readonly #defaults: KindDefaultsResolver | undefined;
  readonly #cursorSigner: CursorSigner;
  #open: Open | null = null;
  #starting: Promise<void> | null = null;
  #maintenance: Maintenance | null = null;
  #stopped = false;
  readonly #inserter = new Coalescer<JobInsertParams<unknown>, Settled<JobInsertResult<unknown>>>(
    (list) => this.#insertTogether(list),
    { maxBatch: 500, maxInFlight: 1, maxWeight: MAX_SEND_BATCH_BYTES },
  );

  constructor(options: SqliteBackendOptions) {
    if (typeof options.path !== 'string' || options.path.length === 0)
      throw new TypeError('path is required');
    this.#path = options.path;
    this.#defaults = options.defaults;
    this.#cursorSigner = cursorSigner(options.cursorSecret);
    this.#busyTimeoutMs = positive(options.busyTimeoutMs ?? 10_000, 'busyTimeoutMs');
    this.#watchIntervalMs = positive(options.watchIntervalMs ?? 1, 'watchIntervalMs');
    this.#maintenanceSettings = maintenanceSettings(options);
    this.#eventsRetentionMs = positive(options.retention?.eventsMs ?? 60 * 60_000, 'retention.eventsMs');
    this.#onError =
      options.onError ??
      ((error, context) => {
        const text = error instanceof Error ? error.message : String(error);
        process.stderr.write(`queue (sqlite): ${context}: ${text}\n`);
      });
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  async start(options: BackendStartOptions = {}): Promise<void> {
    if (this.#stopped) throw new Error('the queue backend is stopped');
    this.#starting ??= this.#connect();
    await this.#starting;
    if (options.maintenance === true && this.#maintenance === null) {
      this.#maintenance = new Maintenance(
        {
          ...bindMaintenance(this),
          pruneExtra: async (now) => {
            await this.eventPrune(new Date(now.getTime() - this.#eventsRetentionMs));
          },
        },
        this.#maintenanceSettings,
        this.#onError,
      );
      this.#maintenance.start();
    }
  }

  async #connect(): Promise<void> {
    const db = await retryBusy(() => openDatabase(this.#path), this.#busyTimeoutMs);
    try {
      await retryBusy(() => installSchema(db, new Date().toISOString()), this.#busyTimeoutMs);
      const statements = prepareStatements(db);
      this.#open = {
        db,
        statements,
        notifier: new Notifier({
          open: () => openDatabase(this.#path),
          intervalMs: this.#watchIntervalMs,
          onError: this.#onError,
        }),
        cursors: new CursorCodec(this.#cursorSigner),
        lists: new Map(),
        bulk: new Map(),
        bulkCounts: new Map(),
        tx: prepareTransactions(db, statements),
      };
    } catch (error) {
      db.close();
      throw error;
    }
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#starting?.catch(() => undefined);
    await this.#inserter.drained();
    await this.#maintenance?.stop();
    this.#maintenance = null;
    const open = this.#open;
    this.#open = null;
    if (open !== null) {
      open.notifier.close();
      open.db.close();
    }
  }

  #ready(): Open {
    if (this.#open === null) {
      throw new Error(this.#stopped ? 'the queue backend is stopped' : 'the queue backend is not started');
    }
    return this.#open;
  }

  /** Runs a synchronous database operation, retrying while another connection holds the lock. */
  #run<T>(fn: (open: Open) => T): Promise<T> {
    const open = this.#ready();
    return retryBusy(() => fn(open), this.#busyTimeoutMs);
  }

  // ---- sending -----------------------------------------------------------------------------------

  /**
   * A send outside a caller's transaction shares one transaction with the sends of the same turn
   * of the event loop (group commit): concurrent API requests take the file's one write lock,
   * and write the pages of the job table and its indexes, once per batch instead of once each.
   */
  async jobInsert<P>(params: JobInsertParams<P>): Promise<JobInsertResult<P>> {
    if (params.executor !== undefined) {
      const [result] = await this.jobInsertMany([params]);
      return result!;
    }
    this.#ready();
    // Bad options, or a payload or meta JSON cannot hold, fail this call alone; the payload's
    // length weighs the job in its batch.
    const { values } = newJob(params, new Date(), this.#defaults);
    const settled = await this.#inserter.push(params as JobInsertParams<unknown>, String(values[2]).length);
    return unwrap(settled) as JobInsertResult<P>;
  }

  /** The inserter's batch; any error but a file still busy after the timeout is one job's alone. */
  #insertTogether(list: Array<JobInsertParams<unknown>>): Promise<Array<Settled<JobInsertResult<unknown>>>> {
    return settleTogether(
      list,
      (some) => this.jobInsertMany(some),
      (error) => !isBusy(error),
    );
  }

  async jobInsertMany<P>(params: ReadonlyArray<JobInsertParams<P>>): Promise<Array<JobInsertResult<P>>> {
    if (params.length === 0) return [];
    const now = new Date();
    const at = now.toISOString();
    const jobs = params.map((p) => newJob(p, now, this.#defaults));
    const executor = params[0]!.executor;
    if (params.some((p) => p.executor !== executor)) {
      throw new TypeError('jobInsertMany: every job must be sent through the same executor (or none)');
    }
    if (executor !== undefined)
      return (await this.#insertThrough(executor, jobs, at)) as Array<JobInsertResult<P>>;

    const open = this.#ready();
    const { results, dueSeqs } = await this.#run(({ tx }) => tx.insertMany.immediate(jobs, at));
    open.notifier.announce(
      results.filter((r) => r.created && r.job.runAt <= at).map((r) => r.job.kind),
      dueSeqs,
    );
    return results as Array<JobInsertResult<P>>;
  }

  /**
   * Inserts inside the caller's transaction, on the caller's connection, with the same
   * statements: the jobs (and their counters and events) exist if and only if it commits. The
   * commit reaches listeners through data_version like any other.
   */
  async #insertThrough(
    executor: SqlExecutor,
    jobs: readonly NewJob[],
    at: string,
  ): Promise<JobInsertResult[]> {
    if (executor.dialect !== 'sqlite') {
      throw new TypeError(`the SQLite queue cannot insert through a ${executor.dialect} executor`);
    }
    this.#ready();
    const changes = new Changes();
    const results: JobInsertResult[] = [];
    for (const { values, job } of jobs) {
      await executor.query(sql.INSERT_JOB, values);
      // The id is new: if a row has it, this insert created it.
      if ((await executor.query(sql.JOB_EXISTS, [job.id])).rows.length > 0) {
        changes.move(job.kind, null, 'queued').event(job.kind, 'queued', job.id, job.runAt, at);
        results.push({ job, created: true });
        continue;
      }
      const existing = await executor.query(sql.FIND_BY_IDEMPOTENCY_KEY, [job.kind, job.idempotencyKey]);
      const row = existing.rows[0] as unknown as JobRow | undefined;
      if (row === undefined)
        throw new Error('insert_job returned no row and no job holds its idempotency key');
      results.push({ job: toJob(row), created: false });
    }
    const counts = changes.countsJson();
    if (counts !== null) await executor.query(sql.ADD_COUNTS, [counts]);
    for (const e of changes.events()) {
      await executor.query(sql.APPEND_EVENT, [
        e.kind,
        e.state,
        JSON.stringify(e.jobIds),
        e.progress,
        e.runAt,
        e.at,
      ]);
    }
    return results;
  }

  // ---- claiming and leases -----------------------------------------------------------------------

  async jobClaim(params: JobClaimParams): Promise<ClaimedJob[]> {
    const kinds = [...new Set(params.kinds)];
    if (kinds.some((kind) => typeof kind !== 'string')) throw new TypeError('kinds must be strings');
    if (!Number.isInteger(params.limit) || params.limit < 0) {
      throw new TypeError(`limit must be a non-negative integer (got ${params.limit})`);
    }
    const limit = Math.min(params.limit, CLAIM_MAX);
    if (limit === 0 || kinds.length === 0) return [];
    const now = (params.now ?? new Date()).toISOString();
    const rows = await this.#run(({ statements, tx }) => {
      // A look without the write lock first: idle workers polling do not queue for the writer.
      if (chooseReady(statements, kinds, 1, now).length === 0) return [];
      return tx.claim.immediate(kinds, limit, Math.max(0, Math.floor(params.oldest ?? 0)), now);
    });
    return rows.map((row) => ({
      job: toJob(row),
      leaseToken: row.lease_token,
      leaseExpiresAt: row.lease_expires_at,
    }));
  }

  async jobHeartbeat(params: LeaseParams): Promise<Transition> {
    const now = isoNow(params.now);
    return this.#run(({ tx }) => tx.heartbeat.immediate(leaseJobNo(params.leaseToken), params, now));
  }

  async jobProgress(params: JobProgressParams): Promise<Transition> {
    const at = isoNow(params.now);
    return this.#run(({ tx }) => tx.progress.immediate(leaseJobNo(params.leaseToken), params, at));
  }

  async jobComplete(params: JobCompleteParams): Promise<Transition> {
    const [outcome] = await this.jobCompleteMany([params]);
    return outcome!;
  }

  /** One transaction for the whole batch (set-based statements, sql.ts), each item fenced by its own lease. */
  async jobCompleteMany(params: ReadonlyArray<JobCompleteParams>): Promise<Transition[]> {
    if (params.length === 0) return [];
    const at = new Date().toISOString();
    // A malformed token (job_no null) is not completed, only refused with what its id finds.
    const items: CompleteItem[] = params.map((p) => [
      leaseJobNo(p.leaseToken),
      p.id,
      p.leaseToken,
      toNullableJsonText(p.result),
      p.now?.toISOString() ?? at,
    ]);
    return this.#run(({ tx }) => tx.completeMany.immediate(items, at));
  }

  async jobFail(params: JobFailParams): Promise<Transition> {
    const now = params.now ?? new Date();
    return this.#run(({ tx }) => tx.fail.immediate(leaseJobNo(params.leaseToken), params, now));
  }

  async jobRelease(params: LeaseParams): Promise<Transition> {
    const at = isoNow(params.now);
    return this.#run(({ tx }) => tx.release.immediate(leaseJobNo(params.leaseToken), params, at));
  }

  async jobRescueExpired(now: Date = new Date()): Promise<number> {
    const at = now.toISOString();
    let total = 0;
    for (;;) {
      const moved = await this.#run(({ statements, tx }) => {
        // Most passes find nothing: look before taking the write lock.
        if (statements.expired.all(at, 1).length === 0) return 0;
        return tx.rescue.immediate(now);
      });
      total += moved;
      if (moved < RESCUE_BATCH) return total;
    }
  }

  // ---- operator actions and reads ----------------------------------------------------------------

  jobCancel(id: string): Promise<JobTransition> {
    return this.#operate(id, 'cancelled');
  }

  jobRetry(id: string): Promise<JobTransition> {
    return this.#operate(id, 'queued');
  }

  async #operate(id: string, to: 'cancelled' | 'queued'): Promise<JobTransition> {
    if (typeof id !== 'string') return { stored: false, found: null, reclaimed: false, job: null };
    const at = new Date().toISOString();
    const open = this.#ready();
    const { outcome, seqs } = await this.#run(({ tx }) => tx.operate.immediate(id, to, at));
    if (to === 'queued' && outcome.stored && seqs.length > 0)
      open.notifier.announce([outcome.job.kind], seqs);
    return outcome;
  }

  async jobCancelMany(params: JobBulkParams): Promise<number> {
    return this.#operateMany(bulkFilter('cancel', params), 'cancelled');
  }

  async jobRetryMany(params: JobBulkParams): Promise<number> {
    return this.#operateMany(bulkFilter('retry', params), 'queued');
  }

  async jobCountMany(action: BulkAction, params: JobBulkParams): Promise<number> {
    const filter = bulkFilter(action, params, MAX_BULK_COUNT);
    const open = this.#ready();
    let total = 0;
    // One count per state, each along its own partial index, until the limit is reached.
    for (const state of filter.states) {
      if (total >= filter.limit) break;
      const { shape, values } = bulkShape({ ...filter, states: [state], limit: filter.limit - total });
      const key = `${state}:${JSON.stringify(shape)}`;
      let count = open.bulkCounts.get(key);
      if (count === undefined) {
        count = open.db.prepare<unknown[], { n: number }>(sql.bulkCount(shape, state));
        open.bulkCounts.set(key, count);
      }
      const statement = count;
      total += await this.#run(() => statement.get(...values)?.n ?? 0);
    }
    return total;
  }

  async #operateMany(filter: BulkFilter, to: 'cancelled' | 'queued'): Promise<number> {
    const open = this.#ready();
    const { select, values } = this.#bulkCandidates(open, filter);
    const at = new Date().toISOString();
    const { moved, kinds, seqs } = await this.#run(({ tx }) =>
      tx.operateMany.immediate(select, values, to, at),
    );
    if (to === 'queued' && moved > 0) open.notifier.announce(kinds, seqs);
    return moved;
  }

  /** The prepared statement (sql.bulkCandidates) and its values for a bulk filter. */
  #bulkCandidates(open: Open, filter: BulkFilter) {
    const { shape, values } = bulkShape(filter);
    const key = `bulk:${JSON.stringify(shape)}`;
    let select = open.bulk.get(key);
    if (select === undefined) {
      select = open.db.prepare<unknown[], { job_no: number; state: JobState }>(sql.bulkCandidates(shape));
      open.bulk.set(key, select);
    }
    return { select, values };
  }

  jobGet(id: string): Promise<Job | null> {
    return this.#run(({ statements }) => {
      const row = typeof id === 'string' ? statements.get.get(id) : undefined;
      return row === undefined ? null : toJob(row);
    });
  }

  async jobList(params: JobListParams): Promise<Page<Job>> {
    const limit = pageLimit(params.limit);
    const open = this.#ready();
    const after = params.cursor ? open.cursors.decode(params.cursor) : null;
    const state = params.state ?? null;
    const rows = await this.#run(({ statements }) => {
      // A state across kinds: each kind along its state's index, merged (kinds are few).
      if (state !== null && state !== 'active' && params.kind === undefined && params.owner === undefined) {
        const kinds = statements.kindsInState.all(state);
        const merged = kinds.flatMap((kind) =>
          this.#listPage(open, { ...params, kind, state }, after, limit),
        );
        merged.sort((a, b) => compareDesc(a, b));
        return merged.slice(0, limit + 1);
      }
      return this.#listPage(open, params, after, limit);
    });
    const items = rows.slice(0, limit).map((row) => toJob(row));
    const last = rows.length > limit ? items[limit - 1]! : null;
    return {
      items,
      nextCursor: last === null ? null : open.cursors.encode({ createdAt: last.createdAt, id: last.id }),
    };
  }

  /** Up to limit + 1 rows of one list query (sql.listJobs), newest first. */
  #listPage(open: Open, params: JobListParams, after: CursorPosition | null, limit: number): JobRow[] {
    const range = listRange(params);
    const filter: sql.ListFilter = {
      kind: params.kind !== undefined,
      state: params.state ?? null,
      owner: params.owner !== undefined,
      createdFrom: range.createdFrom !== null,
      createdBefore: range.createdBefore !== null,
      idFrom: range.prefixFrom !== null,
      idBefore: range.prefixBefore !== null,
      after: after !== null,
    };
    if (filter.state !== null && !Object.hasOwn(STATE_NAMES, filter.state)) return [];
    const key = JSON.stringify(filter);
    let statement = open.lists.get(key);
    if (statement === undefined) {
      statement = open.db.prepare<unknown[], JobRow>(sql.listJobs(filter));
      open.lists.set(key, statement);
    }
    const values: unknown[] = [];
    if (params.kind !== undefined) values.push(params.kind);
    if (params.state !== undefined) values.push(params.state);
    if (params.owner !== undefined) values.push(params.owner);
    for (const bound of [range.createdFrom, range.createdBefore, range.prefixFrom, range.prefixBefore]) {
      if (bound !== null) values.push(bound);
    }
    if (after !== null) values.push(after.createdAt, after.id);
    values.push(limit + 1);
    return statement.all(...values);
  }

  jobCounts(now: Date = new Date()): Promise<KindCounts[]> {
    const at = now.toISOString();
    return this.#run(({ statements }) => {
      const byKind = new Map<string, KindCounts>();
      for (const { kind, state, n } of statements.counts.all()) {
        const counts = countsOf(byKind, kind);
        if (Object.hasOwn(STATE_NAMES, state)) counts[state] = n;
      }
      for (const counts of byKind.values()) {
        if (counts.queued + counts.retrying === 0) continue;
        const oldest = statements.oldestReady.get({ kind: counts.kind, now: at });
        if (oldest != null) counts.oldestQueuedAgeSeconds = (now.getTime() - Date.parse(oldest)) / 1000;
        let later = 0;
        for (const priority of statements.readyLevels.all({ kind: counts.kind })) {
          if (later >= SCHEDULED_COUNT_CAP) break;
          const cap = SCHEDULED_COUNT_CAP - later;
          later += statements.waitingLater.get({ kind: counts.kind, priority, now: at, cap }) ?? 0;
        }
        splitWaiting(counts, later);
      }
      return [...byKind.values()];
    });
  }

  async jobPrune(params: PruneParams): Promise<number> {
    const open = this.#ready();
    const passes: Array<['completed' | 'failed', string]> = [
      ['completed', params.completedBefore.toISOString()],
      ['failed', params.failedBefore.toISOString()],
    ];
    let total = 0;
    for (const [which, cutoff] of passes) {
      const kinds = new Set<string>();
      for (const state of which === 'completed' ? ['completed'] : ['failed', 'cancelled']) {
        for (const kind of open.statements.kindsInState.all(state)) kinds.add(kind);
      }
      for (const kind of kinds) {
        for (;;) {
          // Bounded transactions, and a turn of the event loop between them, so claims interleave.
          const deleted = await this.#run(({ tx }) => tx.prune.immediate(kind, which, cutoff));
          total += deleted;
          if (deleted < PRUNE_BATCH) break;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    }
    return total;
  }

  async eventPrune(before: Date): Promise<number> {
    const cutoff = before.toISOString();
    let total = 0;
    for (;;) {
      const deleted = await this.#run(
        ({ statements }) => statements.pruneEvents.run(cutoff, PRUNE_BATCH * 10).changes,
      );
      total += deleted;
      if (deleted < PRUNE_BATCH * 10) return total;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  // ---- leader election (runtime/maintenance.ts) ------------------------------------------------------

  leaderAcquire(params: { name: string; holder: string; expiresAt: Date; now: Date }): Promise<boolean> {
    return this.#run(
      ({ statements }) =>
        statements.leaderAcquire.run(
          params.name,
          params.holder,
          params.expiresAt.toISOString(),
          params.now.toISOString(),
        ).changes === 1,
    );
  }

  async leaderResign(params: { name: string; holder: string }): Promise<void> {
    await this.#run(({ statements }) => statements.leaderResign.run(params.name, params.holder));
  }

  // ---- schedules ---------------------------------------------------------------------------------

  async scheduleUpsert(schedule: Schedule): Promise<void> {
    validateSchedule(schedule);
    const now = new Date().toISOString();
    await this.#run(({ statements }) =>
      statements.scheduleUpsert.run(
        schedule.name,
        schedule.cron,
        schedule.timezone || 'UTC',
        schedule.kind,
        toJsonText(schedule.payload),
        JSON.stringify(schedule.options ?? {}),
        now,
        now,
      ),
    );
  }

  scheduleDelete(name: string): Promise<boolean> {
    return this.#run(({ statements }) => statements.scheduleDelete.run(name).changes > 0);
  }

  scheduleList(): Promise<Schedule[]> {
    return this.#run(({ statements }) => statements.scheduleList.all().map(toSchedule));
  }

  scheduleStates(): Promise<ScheduleState[]> {
    return this.#run(({ statements }) =>
      statements.scheduleStates.all().map((row) => ({
        name: row.name,
        paused: row.paused === 1,
        lastRunAt: row.last_run_at,
        lastJobId: row.last_job_id,
      })),
    );
  }

  schedulePause(name: string, paused: boolean, now: Date = new Date()): Promise<boolean> {
    return this.#run(({ statements }) => {
      const statement = paused ? statements.schedulePause : statements.scheduleResume;
      return statement.run(now.toISOString(), name).changes > 0;
    });
  }

  async scheduleFireDue(now: Date = new Date()): Promise<Job[]> {
    const open = this.#ready();
    const at = now.toISOString();
    const schedules = await this.#run(({ statements }) => statements.scheduleList.all());
    const fired: Job[] = [];
    for (const schedule of schedules) {
      if (schedule.paused === 1) continue;
      const definition = toSchedule(schedule);
      let tick: string | null;
      let job: NewJob;
      try {
        tick = dueTick(definition, schedule.last_tick_at, now);
        if (tick === null) continue;
        job = newJob(tickInsert(definition, tick), now, this.#defaults);
      } catch (error) {
        this.#onError(error, `schedule ${schedule.name} could not be evaluated`);
        continue;
      }
      const inserted = await this.#run(({ tx }) => tx.fireTick.immediate(schedule, tick, job, at));
      if (inserted === null) continue;
      fired.push(job.job);
      open.notifier.announce([job.job.kind], inserted.dueSeqs);
    }
    return fired;
  }

  // ---- listening -----------------------------------------------------------------------------------

  async onJobsAvailable(kinds: readonly string[], listener: () => void): Promise<Unsubscribe> {
    return this.#ready().notifier.onJobsAvailable(kinds, listener);
  }

  async onJobEvent(listener: (event: JobEvent) => void): Promise<Unsubscribe> {
    return this.#ready().notifier.onJobEvent(listener);
  }
}

const STATE_NAMES: Record<JobState, true> = {
  queued: true,
  retrying: true,
  active: true,
  completed: true,
  failed: true,
  cancelled: true,
};

function toSchedule(row: ScheduleRow): Schedule {
  return {
    name: row.name,
    cron: row.cron,
    timezone: row.timezone,
    kind: row.kind,
    payload: JSON.parse(row.payload),
    options: JSON.parse(row.options),
  };
}

/** Newest first: (created_at, id) descending, as list pages are ordered. */
function compareDesc(a: JobRow, b: JobRow): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** A new, unstarted SQLite backend on `options.path`; `start()` creates its tables if needed. */
export function createSqliteBackend(options: SqliteBackendOptions): SqliteQueueBackend {
  return new SqliteBackend(options);
}

function isoNow(now: Date | undefined): string {
  return (now ?? new Date()).toISOString();
}

/** A bulk filter's statement shape (sql.bulkCandidates, sql.bulkCount) and its parameters. */
function bulkShape(filter: BulkFilter): { shape: sql.BulkShape; values: unknown[] } {
  const shape: sql.BulkShape = {
    states: filter.states.length,
    kind: filter.kind !== null,
    owner: filter.owner !== null,
    from: filter.createdFrom !== null,
    before: filter.createdBefore !== null,
  };
  const values: unknown[] = [...filter.states];
  for (const value of [filter.kind, filter.owner, filter.createdFrom, filter.createdBefore]) {
    if (value !== null) values.push(value);
  }
  values.push(filter.limit);
  return { shape, values };
}
