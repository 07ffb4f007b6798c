// Wake-ups and job events across processes, without LISTEN/NOTIFY.
//
// Every state change and progress update appends a row to queue_events in the changing
// transaction, whoever made it: the backend writes it with the change (changes.ts, once per
// batch; there are no triggers). The notifier tails that table from a
// connection of its own, and only when something was committed: `PRAGMA data_version` on that
// connection changes whenever another connection (this process's own included) commits, and
// reading it costs a look at shared memory, so it is polled every millisecond or so while
// somebody listens.
//
// States: idle (no listener: no timer) → watching (timer polling data_version; a change tails the
// new events: event listeners get each one, wake listeners are called for kinds that got a ready
// job, and a job due later — a retry's backoff, a future runAt — arms a timer for its due time)
// → idle when the last listener leaves → closed.
//
// Jobs this process inserts are announced to its own wake listeners at once (no poll in between);
// the tailer then skips those events, so a worker is not woken twice. An event row stands for a
// batch (job_ids); listeners get one JobEvent per job.
import type Database from 'better-sqlite3';
import type { JobEvent, JobState, JsonObject, Unsubscribe } from '../../types.ts';
import * as sql from './sql.ts';

interface EventRow {
  seq: number;
  kind: string;
  state: JobState;
  job_ids: string;
  progress: string | null;
  run_at: string;
  at: string;
}

interface WakeSubscription {
  kinds: ReadonlySet<string>;
  listener: () => void;
}

export interface NotifierOptions {
  /** Opens the notifier's own connection (lazily, with the first listener). */
  open: () => Database.Database;
  /** How often data_version is read while somebody listens. */
  intervalMs: number;
  onError: (error: unknown, context: string) => void;
}

const TAIL_BATCH = 1000;
/** Retries due further ahead than this are left to the workers' slow poll. */
const MAX_DUE_AHEAD_MS = 10 * 60_000;
/** Due wake-ups kept at most (beyond, the latest are left to the poll). */
const MAX_DUE = 10_000;
/** Announced ids kept for de-duplication at most (a tailer that fell far behind just wakes twice). */
const MAX_ANNOUNCED = 100_000;

export class Notifier {
  readonly #options: NotifierOptions;
  readonly #eventListeners = new Set<(event: JobEvent) => void>();
  readonly #wakeSubscriptions = new Set<WakeSubscription>();
  /** Seqs of events whose jobs this process announced already (their wake-up is done). */
  readonly #announced = new Set<number>();
  /** Jobs waiting for their runAt (a retry's backoff, a future runAt), earliest first. */
  readonly #due: Array<{ at: number; kind: string }> = [];
  #db: Database.Database | null = null;
  #statements: {
    dataVersion: Database.Statement<[], number>;
    lastSeq: Database.Statement<[], number>;
    eventsAfter: Database.Statement<[number, number], EventRow>;
  } | null = null;
  #version = -1;
  #seq = 0;
  #timer: NodeJS.Timeout | null = null;
  #dueTimer: NodeJS.Timeout | null = null;
  #dueTimerAt = Number.POSITIVE_INFINITY;
  #closed = false;

  constructor(options: NotifierOptions) {
    this.#options = options;
  }

  onJobEvent(listener: (event: JobEvent) => void): Unsubscribe {
    this.#watch();
    this.#eventListeners.add(listener);
    return async () => {
      this.#eventListeners.delete(listener);
      this.#idleIfUnwatched();
    };
  }

  onJobsAvailable(kinds: readonly string[], listener: () => void): Unsubscribe {
    this.#watch();
    const subscription: WakeSubscription = { kinds: new Set(kinds), listener };
    this.#wakeSubscriptions.add(subscription);
    return async () => {
      this.#wakeSubscriptions.delete(subscription);
      this.#idleIfUnwatched();
    };
  }

  /**
   * Jobs of `kinds` this process just committed, ready now, with their events' seqs: wakes local
   * listeners at once, and the tailer will not wake them again for those events.
   */
  announce(kinds: readonly string[], seqs: readonly number[]): void {
    if (this.#wakeSubscriptions.size === 0 || kinds.length === 0) return;
    if (this.#announced.size + seqs.length > MAX_ANNOUNCED) this.#announced.clear();
    for (const seq of seqs) this.#announced.add(seq);
    const wanted = new Set(kinds);
    queueMicrotask(() => this.#wake(wanted));
  }

  close(): void {
    this.#closed = true;
    this.#eventListeners.clear();
    this.#wakeSubscriptions.clear();
    this.#stopTimers();
    this.#db?.close();
    this.#db = null;
    this.#statements = null;
  }

  #watch(): void {
    if (this.#closed) throw new Error('the queue backend is stopped');
    if (this.#timer !== null) return;
    if (this.#db === null) {
      const db = this.#options.open();
      this.#db = db;
      this.#statements = {
        dataVersion: db.prepare<[], number>(sql.DATA_VERSION).pluck(),
        lastSeq: db.prepare<[], number>(sql.LAST_EVENT_SEQ).pluck(),
        eventsAfter: db.prepare<[number, number], EventRow>(sql.EVENTS_AFTER),
      };
    }
    const statements = this.#statements!;
    // Live from here: anything committed from now on has a higher seq.
    this.#version = statements.dataVersion.get()!;
    this.#seq = statements.lastSeq.get()!;
    // Not unref'd: like a LISTEN connection, a live subscription keeps its process alive (a
    // process that only listens must not exit); unsubscribing or stop() ends it.
    this.#timer = setInterval(() => this.#poll(), this.#options.intervalMs);
  }

  #idleIfUnwatched(): void {
    if (this.#eventListeners.size > 0 || this.#wakeSubscriptions.size > 0) return;
    this.#stopTimers();
    this.#announced.clear();
    this.#due.length = 0;
  }

  #stopTimers(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    if (this.#dueTimer !== null) clearTimeout(this.#dueTimer);
    this.#timer = null;
    this.#dueTimer = null;
    this.#dueTimerAt = Number.POSITIVE_INFINITY;
  }

  #poll(): void {
    const statements = this.#statements;
    if (statements === null) return;
    try {
      const version = statements.dataVersion.get()!;
      if (version === this.#version) return;
      this.#version = version;
      this.#tail(statements.eventsAfter);
    } catch (error) {
      // A busy or briefly unavailable file: the next tick tries again from the same seq.
      this.#options.onError(error, 'tailing queue_events failed');
    }
  }

  #tail(eventsAfter: Database.Statement<[number, number], EventRow>): void {
    const now = Date.now();
    const ready = new Set<string>();
    for (;;) {
      const rows = eventsAfter.all(this.#seq, TAIL_BATCH);
      for (const row of rows) {
        this.#seq = row.seq;
        if (this.#eventListeners.size > 0) this.#emit(row);
        if (this.#wakeSubscriptions.size === 0) continue;
        if (row.state !== 'queued' && row.state !== 'retrying') continue;
        if (this.#announced.delete(row.seq)) continue;
        if (!this.#wanted(row.kind)) continue;
        const due = Date.parse(row.run_at);
        if (due <= now) ready.add(row.kind);
        else if (due - now <= MAX_DUE_AHEAD_MS) this.#wakeAt(row.kind, due);
      }
      if (rows.length < TAIL_BATCH || this.#closed) break;
    }
    if (ready.size > 0) this.#wake(ready);
  }

  #emit(row: EventRow): void {
    const progress = row.progress === null ? null : (JSON.parse(row.progress) as JsonObject);
    for (const id of JSON.parse(row.job_ids) as string[]) {
      const event: JobEvent = { id, kind: row.kind, state: row.state, progress, at: row.at };
      for (const listener of this.#eventListeners) {
        try {
          listener(event);
        } catch (error) {
          this.#options.onError(error, 'a job event listener threw');
        }
      }
    }
  }

  #wanted(kind: string): boolean {
    for (const subscription of this.#wakeSubscriptions) if (subscription.kinds.has(kind)) return true;
    return false;
  }

  #wake(kinds: ReadonlySet<string>): void {
    for (const subscription of this.#wakeSubscriptions) {
      let wanted = false;
      for (const kind of kinds) {
        if (subscription.kinds.has(kind)) {
          wanted = true;
          break;
        }
      }
      if (!wanted) continue;
      try {
        subscription.listener();
      } catch (error) {
        this.#options.onError(error, 'a wake-up listener threw');
      }
    }
  }

  /** Wakes listeners of `kind` when a job of it falls due at `at` (ms). */
  #wakeAt(kind: string, at: number): void {
    const due = this.#due;
    // Binary search for the insertion point; an equal entry already covers this one.
    let low = 0;
    let high = due.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (due[mid]!.at < at) low = mid + 1;
      else high = mid;
    }
    for (let i = low; i < due.length && due[i]!.at === at; i += 1) if (due[i]!.kind === kind) return;
    if (due.length >= MAX_DUE) {
      if (low >= MAX_DUE) return;
      due.pop();
    }
    due.splice(low, 0, { at, kind });
    if (at < this.#dueTimerAt) this.#armDue(at);
  }

  #armDue(at: number): void {
    if (this.#dueTimer !== null) clearTimeout(this.#dueTimer);
    this.#dueTimerAt = at;
    this.#dueTimer = setTimeout(() => this.#fireDue(), Math.max(0, at - Date.now()));
    this.#dueTimer.unref();
  }

  #fireDue(): void {
    this.#dueTimer = null;
    this.#dueTimerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let count = 0;
    while (count < this.#due.length && this.#due[count]!.at <= now) count += 1;
    const ready = new Set(this.#due.splice(0, count).map((entry) => entry.kind));
    if (ready.size > 0) this.#wake(ready);
    const next = this.#due[0];
    if (next !== undefined) this.#armDue(next.at);
  }
}
