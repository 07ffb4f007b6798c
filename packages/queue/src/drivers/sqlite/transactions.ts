// The SQLite queue's prepared statements and its multi-statement operations (each one BEGIN
// IMMEDIATE transaction), prepared once per connection so that hot paths never parse SQL. Every
// transaction that moves jobs also writes its counter moves and events (changes.ts) before it
// commits. backend.ts turns the interface's calls into these.
import type Database from 'better-sqlite3';
import { DEFAULT_LEASE_SECONDS } from '../../runtime/insert.ts';
import { LEASE_EXPIRED_ERROR, retryAt } from '../../runtime/retry.ts';
import type {
  Job,
  JobFailParams,
  JobProgressParams,
  JobState,
  JobTransition,
  LeaseParams,
  Refused,
  Transition,
} from '../../types.ts';
import { NO_JOB, STORED } from '../../types.ts';
import { Changes } from './changes.ts';
import { type AttemptRow, type ClaimedRow, errorText, type JobRow, type NewJob, toJob } from './rows.ts';
import * as sql from './sql.ts';

export const RESCUE_BATCH = 500;
export const PRUNE_BATCH = 1000;
const LEASE_EXPIRED = errorText(LEASE_EXPIRED_ERROR);

export interface ScheduleRow {
  name: string;
  cron: string;
  timezone: string;
  kind: string;
  payload: string;
  options: string;
  last_tick_at: string | null;
  paused: 0 | 1;
}

/** An insert's outcome: the jobs, and the seqs of the events announcing those due now. */
export interface Inserted {
  results: Array<{ job: Job; created: boolean }>;
  dueSeqs: number[];
}

/** One item of sql.COMPLETE_MANY: [job_no (null: a malformed token), id, lease_token, result JSON, finished_at]. */
export type CompleteItem = [number | null, string, string, string | null, string];

/** Prepared once per connection: the hot paths never parse SQL. */
export function prepareStatements(db: Database.Database) {
  return {
    insert: db.prepare<unknown[]>(sql.INSERT_JOB),
    findByKey: db.prepare<[string, string], JobRow>(sql.FIND_BY_IDEMPOTENCY_KEY),
    get: db.prepare<[string], JobRow & { job_no: number }>(sql.GET_JOB),
    addCounts: db.prepare<[string]>(sql.ADD_COUNTS),
    appendEvent: db
      .prepare<[string, string, string, string | null, string, string], number>(sql.APPEND_EVENT)
      .pluck(),
    candidates: db.prepare<
      [string, string, number],
      { job_no: number; state: JobState; priority: number; run_at: string }
    >(sql.CLAIM_CANDIDATES),
    readyPriorities: db.prepare<[{ kind: string }], number>(sql.READY_PRIORITIES).pluck(),
    oldestCandidates: db.prepare<
      [string, number, string, number],
      { job_no: number; state: JobState; priority: number; run_at: string }
    >(sql.OLDEST_CANDIDATES),
    claim: db.prepare<[string, number, string, string, string], ClaimedRow>(sql.CLAIM_JOBS),
    heartbeat: db.prepare<[string, number, string, string]>(sql.HEARTBEAT),
    progress: db.prepare<[string, number, string, string], { kind: string; run_at: string }>(
      sql.SET_PROGRESS,
    ),
    completeMany: db.prepare<[string], { job_no: number; id: string; kind: string }>(sql.COMPLETE_MANY),
    leasesFound: db.prepare<[string], { n: number; state: JobState; reclaimed: 0 | 1 }>(sql.LEASES_FOUND),
    completeWithoutResult: db.prepare<[string, string, string], { job_no: number; id: string; kind: string }>(
      sql.COMPLETE_WITHOUT_RESULT,
    ),
    leasedAttempt: db.prepare<[number, string, string], AttemptRow>(sql.LEASED_ATTEMPT),
    failAttempt: db.prepare<[string, string, string, string | null, number, string]>(sql.FAIL_ATTEMPT),
    release: db.prepare<[number, string, string], { kind: string; run_at: string }>(sql.RELEASE),
    expired: db.prepare<[string, number], AttemptRow>(sql.EXPIRED_LEASES),
    cancel: db.prepare<[string, number, string], JobRow>(sql.CANCEL),
    retry: db.prepare<[string, number, string], JobRow>(sql.RETRY),
    counts: db.prepare<[], { kind: string; state: JobState; n: number }>(sql.COUNTS),
    kindsInState: db.prepare<[string], string>(sql.KINDS_IN_STATE).pluck(),
    oldestReady: db.prepare<[{ kind: string; now: string }], string | null>(sql.OLDEST_READY).pluck(),
    readyLevels: db.prepare<[{ kind: string }], number>(sql.READY_LEVELS).pluck(),
    waitingLater: db
      .prepare<[{ kind: string; priority: number; now: string; cap: number }], number>(sql.WAITING_LATER)
      .pluck(),
    pruneCompleted: db.prepare<[string, string, string, number], { kind: string; state: JobState }>(
      sql.PRUNE_COMPLETED,
    ),
    pruneFailed: db.prepare<[string, string, string, number], { kind: string; state: JobState }>(
      sql.PRUNE_FAILED,
    ),
    pruneEvents: db.prepare<[string, number]>(sql.PRUNE_EVENTS),
    leaderAcquire: db.prepare<[string, string, string, string]>(sql.LEADER_ACQUIRE),
    leaderResign: db.prepare<[string, string]>(sql.LEADER_RESIGN),
    scheduleUpsert: db.prepare<[string, string, string, string, string, string, string, string]>(
      sql.SCHEDULE_UPSERT,
    ),
    scheduleDelete: db.prepare<[string]>(sql.SCHEDULE_DELETE),
    scheduleList: db.prepare<[], ScheduleRow>(sql.SCHEDULE_LIST),
    scheduleAdvance: db.prepare<[{ tick: string; jobId: string; name: string; last: string | null }]>(
      sql.SCHEDULE_ADVANCE,
    ),
    scheduleStates: db.prepare<
      [],
      { name: string; paused: 0 | 1; last_run_at: string | null; last_job_id: string | null }
    >(sql.SCHEDULE_STATES),
    schedulePause: db.prepare<[string, string]>(sql.SCHEDULE_PAUSE),
    scheduleResume: db.prepare<[string, string]>(sql.SCHEDULE_RESUME),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

export type Transactions = ReturnType<typeof prepareTransactions>;

/**
 * What refused lease transitions ([id, token] each) found instead, in their order
 * (sql.LEASES_FOUND): two attempts of one job may find different things.
 */
function leasesFound(s: Statements, tried: ReadonlyArray<readonly [string, string]>): Refused[] {
  const found: Refused[] = tried.map(() => NO_JOB);
  for (const row of s.leasesFound.all(JSON.stringify(tried))) {
    found[row.n] = { stored: false, found: row.state, reclaimed: row.reclaimed === 1 };
  }
  return found;
}

/** What one refused lease transition found instead. */
export function leaseFound(s: Statements, params: LeaseParams): Refused {
  return leasesFound(s, [[params.id, params.leaseToken]])[0]!;
}

/** Writes a transaction's counter moves and events; returns the events' seqs, in order. */
function record(s: Statements, changes: Changes): number[] {
  const counts = changes.countsJson();
  if (counts !== null) s.addCounts.run(counts);
  return changes
    .events()
    .map((e) => s.appendEvent.get(e.kind, e.state, JSON.stringify(e.jobIds), e.progress, e.runAt, e.at)!);
}

/**
 * The operations that take more than one statement, each one transaction: better-sqlite3 wraps
 * them, and callers run them with `.immediate()` (BEGIN IMMEDIATE: the write lock from the start,
 * so a transaction never fails half-way for want of it). Prepared once per connection.
 */
export function prepareTransactions(db: Database.Database, s: Statements) {
  return {
    insertMany: db.transaction((jobs: readonly NewJob[], at: string): Inserted => {
      const changes = new Changes();
      const results = jobs.map(({ values, job }) => {
        if (s.insert.run(...values).changes === 1) {
          changes.move(job.kind, null, 'queued').event(job.kind, 'queued', job.id, job.runAt, at);
          return { job, created: true };
        }
        // The key is held by a retained job: that one is the answer.
        return { job: toJob(s.findByKey.get(job.kind, job.idempotencyKey!)!), created: false };
      });
      const drafts = changes.events();
      const seqs = record(s, changes);
      return { results, dueSeqs: seqs.filter((_, i) => drafts[i]!.runAt <= at) };
    }),

    claim: db.transaction((kinds: readonly string[], limit: number, oldest: number, now: string) => {
      const chosen =
        oldest > 0 ? chooseFair(s, kinds, limit, oldest, now) : chooseReady(s, kinds, limit, now);
      if (chosen.length === 0) return [];
      const from = new Map(chosen.map((c, i) => [c.job_no, { state: c.state, order: i }]));
      const defaultExpiry = new Date(Date.parse(now) + DEFAULT_LEASE_SECONDS * 1000).toISOString();
      const jobNos = JSON.stringify(chosen.map((c) => c.job_no));
      const rows = s.claim.all(now, DEFAULT_LEASE_SECONDS, defaultExpiry, now, jobNos);
      const changes = new Changes();
      for (const row of rows) {
        changes
          .move(row.kind, from.get(row.job_no)!.state, 'active')
          .event(row.kind, 'active', row.id, now, now);
      }
      record(s, changes);
      return rows.sort((a, b) => from.get(a.job_no)!.order - from.get(b.job_no)!.order);
    }),

    heartbeat: db.transaction((jobNo: number | null, params: LeaseParams, now: string): Transition => {
      if (jobNo !== null && s.heartbeat.run(now, jobNo, params.id, params.leaseToken).changes === 1)
        return STORED;
      return leaseFound(s, params);
    }),

    /** One outcome per item. Items are matched to rows by job_no, so a job_no seen twice is settled on its own. */
    completeMany: db.transaction((items: readonly CompleteItem[], at: string) => {
      const changes = new Changes();
      const complete = (batch: readonly CompleteItem[]) => {
        const done: Array<{ job_no: number; id: string; kind: string }> = [];
        // Items without a result (most jobs) go set-based, one statement per finish instant;
        // the rest carry their results item by item.
        const withResult: CompleteItem[] = [];
        const withoutResult = new Map<string, CompleteItem[]>();
        for (const item of batch) {
          if (item[3] !== null) withResult.push(item);
          else {
            const same = withoutResult.get(item[4]);
            if (same === undefined) withoutResult.set(item[4], [item]);
            else same.push(item);
          }
        }
        for (const [finishedAt, group] of withoutResult) {
          const jobNos = JSON.stringify(group.map((item) => item[0]));
          const pairs = JSON.stringify(group.map((item) => `${item[1]} ${item[2]}`));
          done.push(...s.completeWithoutResult.all(finishedAt, jobNos, pairs));
        }
        if (withResult.length > 0) done.push(...s.completeMany.all(JSON.stringify(withResult)));
        for (const row of done) {
          changes.move(row.kind, 'active', 'completed').event(row.kind, 'completed', row.id, at, at);
        }
        return new Set(done.map((row) => row.job_no));
      };
      const seen = new Set<number>();
      const first: CompleteItem[] = [];
      const repeated: number[] = [];
      items.forEach((item, i) => {
        // A malformed token (job_no null) matches no row: it is only answered, with what its id finds.
        if (item[0] === null) return;
        if (seen.has(item[0])) repeated.push(i);
        else {
          seen.add(item[0]);
          first.push(item);
        }
      });
      const done = complete(first);
      const stored = items.map((item) => item[0] !== null && done.has(item[0]));
      // A job_no's first item was settled by the batch; a repeat can only succeed on its own.
      for (const i of repeated) stored[i] = complete([items[i]!]).size === 1;
      record(s, changes);
      if (stored.every(Boolean)) return stored.map(() => STORED);
      const refusedAt = items.flatMap((_, i) => (stored[i] ? [] : [i]));
      const found = leasesFound(
        s,
        refusedAt.map((i) => [items[i]![1], items[i]![2]] as const),
      );
      const outcomes: Transition[] = stored.map(() => STORED);
      refusedAt.forEach((i, k) => {
        outcomes[i] = found[k]!;
      });
      return outcomes;
    }),

    fail: db.transaction((jobNo: number | null, params: JobFailParams, now: Date): Transition => {
      const attempt = jobNo === null ? undefined : s.leasedAttempt.get(jobNo, params.id, params.leaseToken);
      if (attempt === undefined) return leaseFound(s, params);
      const changes = new Changes();
      const failed = failAttempt(s, attempt, errorText(params.error), params.final === true, now, changes);
      record(s, changes);
      return failed ? STORED : leaseFound(s, params);
    }),

    rescue: db.transaction((now: Date) => {
      const changes = new Changes();
      let moved = 0;
      for (const attempt of s.expired.all(now.toISOString(), RESCUE_BATCH)) {
        if (failAttempt(s, attempt, LEASE_EXPIRED, false, now, changes)) moved += 1;
      }
      record(s, changes);
      return moved;
    }),

    progress: db.transaction((jobNo: number | null, params: JobProgressParams, at: string): Transition => {
      const progress = JSON.stringify(params.progress);
      const row = jobNo === null ? undefined : s.progress.get(progress, jobNo, params.id, params.leaseToken);
      if (row === undefined) return leaseFound(s, params);
      record(s, new Changes().progress(row.kind, params.id, progress, row.run_at, at));
      return STORED;
    }),

    release: db.transaction((jobNo: number | null, params: LeaseParams, at: string): Transition => {
      const row = jobNo === null ? undefined : s.release.get(jobNo, params.id, params.leaseToken);
      if (row === undefined) return leaseFound(s, params);
      record(
        s,
        new Changes().move(row.kind, 'active', 'queued').event(row.kind, 'queued', params.id, row.run_at, at),
      );
      return STORED;
    }),

    /** Cancels (to 'cancelled') or retries (to 'queued') job `id` if its state allows; else what it found. */
    operate: db.transaction(
      (id: string, to: 'cancelled' | 'queued', at: string): { outcome: JobTransition; seqs: number[] } => {
        const current = s.get.get(id);
        if (current === undefined) return { outcome: { ...NO_JOB, job: null }, seqs: [] };
        const allowed = to === 'cancelled' ? ['queued', 'retrying', 'active'] : ['failed', 'cancelled'];
        if (!allowed.includes(current.state)) {
          return {
            outcome: { stored: false, found: current.state, reclaimed: false, job: toJob(current) },
            seqs: [],
          };
        }
        const statement = to === 'cancelled' ? s.cancel : s.retry;
        const row = statement.get(at, current.job_no, current.state)!;
        const due = to === 'queued' ? row.run_at : at;
        const changes = new Changes().move(row.kind, current.state, to).event(row.kind, to, row.id, due, at);
        return { outcome: { stored: true, job: toJob(row) }, seqs: record(s, changes) };
      },
    ),

    /** The jobs `select` finds, moved one guarded update each, in one transaction. */
    operateMany: db.transaction(
      (
        select: Database.Statement<unknown[], { job_no: number; state: JobState }>,
        values: unknown[],
        to: 'cancelled' | 'queued',
        at: string,
      ) => {
        const statement = to === 'cancelled' ? s.cancel : s.retry;
        const changes = new Changes();
        const kinds = new Set<string>();
        let moved = 0;
        for (const candidate of select.all(...values)) {
          const row = statement.get(at, candidate.job_no, candidate.state);
          if (row === undefined) continue;
          changes
            .move(row.kind, candidate.state, to)
            .event(row.kind, to, row.id, to === 'queued' ? row.run_at : at, at);
          kinds.add(row.kind);
          moved += 1;
        }
        return { moved, kinds: [...kinds], seqs: record(s, changes) };
      },
    ),

    prune: db.transaction((kind: string, which: 'completed' | 'failed', cutoff: string) => {
      const statement = which === 'completed' ? s.pruneCompleted : s.pruneFailed;
      const deleted = statement.all(kind, cutoff, cutoff, PRUNE_BATCH);
      const changes = new Changes();
      for (const row of deleted) changes.move(row.kind, row.state, null);
      record(s, changes);
      return deleted.length;
    }),

    fireTick: db.transaction(
      (schedule: ScheduleRow, tick: string, job: NewJob, at: string): Inserted | null => {
        // Whoever moves last_tick_at fires the tick; an overlapping leader finds it moved.
        const advanced = s.scheduleAdvance.run({
          tick,
          jobId: job.job.id,
          name: schedule.name,
          last: schedule.last_tick_at,
        });
        if (advanced.changes !== 1) return null;
        if (s.insert.run(...job.values).changes !== 1) return null; // the tick's job exists already
        const changes = new Changes()
          .move(job.job.kind, null, 'queued')
          .event(job.job.kind, 'queued', job.job.id, tick, at);
        return { results: [{ job: job.job, created: true }], dueSeqs: record(s, changes) };
      },
    ),
  };
}

/** An attempt failed: retrying after a backoff while attempts are left, else failed for good. */
function failAttempt(
  s: Statements,
  attempt: AttemptRow,
  error: string,
  final: boolean,
  now: Date,
  changes: Changes,
): boolean {
  const at = now.toISOString();
  const next = retryAt(
    {
      attempts: attempt.attempts,
      maxAttempts: attempt.max_attempts,
      backoff: { baseMs: attempt.backoff_base_ms, maxMs: attempt.backoff_max_ms },
      final,
    },
    now,
  );
  const done = next === null;
  const state = done ? 'failed' : 'retrying';
  const runAt = next ?? attempt.run_at;
  const moved = s.failAttempt.run(
    state,
    runAt,
    error,
    done ? at : null,
    attempt.job_no,
    attempt.lease_token,
  ).changes;
  if (moved !== 1) return false;
  changes.move(attempt.kind, 'active', state).event(attempt.kind, state, attempt.id, done ? at : runAt, at);
  return true;
}

type Candidate = { job_no: number; state: JobState; priority: number; run_at: string };

/** `oldest` of the longest-waiting ready jobs (due first, any priority), then the best by priority. */
function chooseFair(
  s: Statements,
  kinds: readonly string[],
  limit: number,
  oldest: number,
  now: string,
): Candidate[] {
  const waiting: Candidate[] = [];
  for (const kind of kinds) {
    for (const priority of s.readyPriorities.all({ kind })) {
      waiting.push(...s.oldestCandidates.all(kind, priority, now, oldest));
    }
  }
  waiting.sort((a, b) => (a.run_at < b.run_at ? -1 : a.run_at > b.run_at ? 1 : a.job_no - b.job_no));
  const first = waiting.slice(0, Math.min(oldest, limit));
  const taken = new Set(first.map((c) => c.job_no));
  const rest = chooseReady(s, kinds, limit, now).filter((c) => !taken.has(c.job_no));
  return [...first, ...rest].slice(0, limit);
}

/** Up to `limit` ready jobs of `kinds`, best first (priority, due time, insertion). */
export function chooseReady(
  s: Statements,
  kinds: readonly string[],
  limit: number,
  now: string,
): Array<{ job_no: number; state: JobState; priority: number; run_at: string }> {
  if (kinds.length === 1) return s.candidates.all(kinds[0]!, now, limit);
  // Each kind along its own index (cheap whatever the backlog), merged here.
  const candidates = kinds.flatMap((kind) => s.candidates.all(kind, now, limit));
  candidates.sort(
    (a, b) =>
      b.priority - a.priority ||
      (a.run_at < b.run_at ? -1 : a.run_at > b.run_at ? 1 : 0) ||
      a.job_no - b.job_no,
  );
  return candidates.slice(0, limit);
}
