// The consumer's side of the queue: claims jobs from any QueueBackend and runs their handlers.
//
// The worker's states:
//   created  → `start()` → running: subscribes to wake-ups (onJobsAvailable) and job events,
//              starts the slow fallback poll, claims.
//   running  → `stop()` → stopping: claims nothing more, waits for running handlers up to the
//              shutdown timeout, then aborts the rest and releases them (queued again, their
//              attempt not counted) → stopped.
//
// While running, claims take as many jobs as there are free slots (overall and per kind). A
// claim group (the kinds without a ceiling of their own together, each capped kind alone) is
// `ready` after a wake-up or poll, and stays so while its claims come back full; a short claim
// makes it idle until the next wake-up or poll. Freed slots are refilled on the next turn of the
// event loop while a group is ready (handlers that finish together free their slots together, so
// one claim refills them all instead of a claim per slot); while it has a backlog (its last claim
// was full) several claims run at once, so that a busy worker is not held back by one claim's
// round trip at a time.
//
// Each claimed job goes through:
//   running  the handler runs with an AbortSignal; a heartbeat renews the lease every third of
//            its length, so a job longer than its lease is never cut off.
//   settling the outcome is written, fenced by the lease token: complete with the result, or
//            fail with the error as plain data (the backend retries it with backoff or fails
//            it for good). A write the database refuses for a moment is retried while the lease
//            lasts; heartbeats go on until the outcome is stored.
//   aborted  the lease is no longer ours (a heartbeat or progress update was refused, and the
//            refusal says what it found: the job cancelled, which a job event also tells us at
//            once, or rescued after its lease expired, retrying, failed or reclaimed by another
//            attempt, or gone) or the worker is shutting down: the signal fires and the
//            handler's outcome, whenever it comes, is discarded. Shutdown also releases the job.

import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type {
  ClaimedJob,
  Job,
  JobCompleteParams,
  JobError,
  Json,
  JsonObject,
  QueueBackend,
  Refused,
  Transition,
  Unsubscribe,
} from '../types.ts';
import { backoffDelayMs } from './backoff.ts';
import { FairShare } from './fairness.ts';

export interface WorkerOptions {
  /** Stored on claimed jobs; default `host:pid:uuid`. */
  workerId?: string;
  /** Handlers running at once in this process, all kinds together. Default 10. */
  concurrency?: number;
  /** A lower ceiling for some kinds (e.g. `{ 'import.csv': 2 }`). */
  kindConcurrency?: Readonly<Record<string, number>>;
  /** The slow fallback poll; wake-ups normally start jobs long before it. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Claims in flight at once while there is a backlog. Default 4. */
  maxClaimsInFlight?: number;
  /** How long `stop()` waits for running handlers before aborting and releasing them. Default 30 s. */
  shutdownTimeoutMs?: number;
}

export interface JobContext<P = Json> {
  job: Job<P>;
  /**
   * Fires when the job is cancelled, its lease is lost, or the worker shuts down. Made on first
   * read (a getter): take it from the context (`context.signal`, or by destructuring), not from a
   * spread copy of it.
   */
  readonly signal: AbortSignal;
  /** Stores progress (seen by `GET /v1/jobs/:id` and its events). Best effort. */
  progress(progress: JsonObject): Promise<void>;
}

/** Returns the job's result (small JSON; `undefined` stores null) or throws to fail the attempt. */
export type JobHandler<P = Json, R = Json> = (
  context: JobContext<P>,
) => Promise<R | undefined> | R | undefined;

export type AbortReason = 'cancelled' | 'lease-lost' | 'shutdown';

/** The reason an aborted handler's signal carries. */
export class JobAbortedError extends Error {
  readonly reason: AbortReason;
  constructor(reason: AbortReason, jobId: string) {
    super(
      reason === 'cancelled'
        ? `job ${jobId} was cancelled`
        : reason === 'shutdown'
          ? `worker shutting down; job ${jobId} released`
          : `lease on job ${jobId} lost (it expired or the job was cancelled)`,
    );
    this.name = 'JobAbortedError';
    this.reason = reason;
  }
}

/** Thrown by a handler, fails the job without its remaining attempts (a payload that can never work). */
export class UnrecoverableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnrecoverableError';
  }
}

export interface WorkerEventMap {
  claimed: [{ job: Job }];
  completed: [{ job: Job; result: Json; durationMs: number }];
  /** `final`: no attempt is left (or the error was unrecoverable); otherwise it will be retried. */
  failed: [{ job: Job; error: JobError; durationMs: number; final: boolean }];
  /** `found`: what the refused transition that lost the lease found (absent for a shutdown). */
  aborted: [{ job: Job; reason: AbortReason; found?: Refused }];
  released: [{ job: Job }];
  /**
   * The outcome write was refused: the lease had been lost; another attempt decides. `found`
   * says what the write found instead (cancelled, rescued and retrying, reclaimed, gone).
   */
  discarded: [{ job: Job; found: Refused }];
  /** The database failed a claim, heartbeat or write; the worker carries on. */
  error: [{ error: unknown; operation: string; jobId?: string }];
}

export type WorkerState = 'created' | 'running' | 'stopping' | 'stopped';

interface Running {
  claimed: ClaimedJob;
  /** Made when the handler first reads its signal (most never do), already aborted if the attempt was. */
  controller: AbortController | null;
  /** Set once: the outcome of this attempt will be discarded. */
  abortReason: AbortReason | null;
  leaseMs: number;
  /** Local clock: when the lease we last renewed runs out. */
  leaseDeadline: number;
  /** Heartbeats every third of the lease (at least MIN_HEARTBEAT_MS), swept by the worker's one timer. */
  heartbeatEveryMs: number;
  /** Local clock: when the next heartbeat is due; Infinity once heartbeats stop (settled or aborted). */
  nextHeartbeat: number;
  heartbeatInFlight: boolean;
  startedAt: number;
  done: Promise<void>;
}

/** Kinds claimed together: the uncapped ones in one claim (so priority holds across them), a capped kind alone. */
interface ClaimGroup {
  kinds: string[];
  /** The kind's own ceiling, for a capped kind's group. */
  cap: number | undefined;
  /** Jobs may be waiting (a wake-up or poll said so, or the last claim came back full). */
  ready: boolean;
  /** The last claim came back full: claim in parallel. */
  backlog: boolean;
  inFlight: number;
  /** Slots promised to claims in flight. */
  reserved: number;
}

interface PendingComplete {
  params: JobCompleteParams;
  resolve(outcome: Transition): void;
  reject(error: unknown): void;
}

const DEFAULT_CONCURRENCY = 10;
const DEFAULT_POLL_INTERVAL_MS = 1000;
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_CLAIMS_IN_FLIGHT = 4;
/** Below this concurrency one claim takes every free slot. */
const MIN_CLAIM_BATCH = 100;

/**
 * Jobs a worker of `concurrency` slots claims per transaction at most: a quarter of its slots per
 * claim (up to `maxClaimsInFlight` claims at once), at least 100, at most its slots. The SQLite
 * drain benchmark's reference loop claims as many.
 */
export function claimBatchFor(concurrency: number, maxClaimsInFlight = 4): number {
  return Math.min(concurrency, Math.max(MIN_CLAIM_BATCH, Math.ceil(concurrency / maxClaimsInFlight)));
}
const MIN_HEARTBEAT_MS = 50;
const WRITE_RETRY = { baseMs: 50, maxMs: 2000 };
const MAX_ERROR_TEXT = 4000;

export class Worker extends EventEmitter<WorkerEventMap> {
  readonly workerId: string;
  readonly concurrency: number;
  readonly #backend: QueueBackend;
  readonly #kindConcurrency: ReadonlyMap<string, number>;
  readonly #pollIntervalMs: number;
  readonly #shutdownTimeoutMs: number;
  readonly #maxClaimsInFlight: number;
  readonly #claimBatch: number;
  readonly #handlers = new Map<string, JobHandler<never, Json>>();
  readonly #running = new Map<string, Running>();
  readonly #runningByKind = new Map<string, number>();
  readonly #unsubscribes: Unsubscribe[] = [];
  #state: WorkerState = 'created';
  #pollTimer: NodeJS.Timeout | null = null;
  /** The one heartbeat timer, set for the earliest heartbeat due among running jobs. */
  #heartbeatTimer: NodeJS.Timeout | null = null;
  #heartbeatAt = Number.POSITIVE_INFINITY;
  #stopping: Promise<void> | null = null;

  #groups: ClaimGroup[] = [];
  #groupRotation = 0;
  /** Slots promised to claims in flight, all groups together. */
  #reserved = 0;
  readonly #claims = new Set<Promise<void>>();
  /** One claimed job in ten is the longest-waiting one, whatever its priority (fairness.ts). */
  readonly #fairShare = new FairShare();
  // A short claim makes its group idle only if no wake-up arrived while it ran.
  #wakeGeneration = 0;
  /** After a failed claim: no claims until the next poll, rather than spinning on a database that is down. */
  #pausedUntil = 0;
  /** A refill of freed slots is scheduled for the next turn of the event loop. */
  #refillScheduled = false;

  // Completions are written in batches when the backend can (one round trip for many jobs).
  #completeBatch: PendingComplete[] = [];
  #completeFlushing = false;

  constructor(backend: QueueBackend, options: WorkerOptions = {}) {
    super();
    this.#backend = backend;
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID()}`;
    this.concurrency = positiveInteger(options.concurrency ?? DEFAULT_CONCURRENCY, 'concurrency');
    this.#kindConcurrency = new Map(
      Object.entries(options.kindConcurrency ?? {}).map(([kind, n]) => [
        kind,
        positiveInteger(n, `kindConcurrency.${kind}`),
      ]),
    );
    this.#pollIntervalMs = positiveInteger(
      options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
      'pollIntervalMs',
    );
    this.#shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    this.#maxClaimsInFlight = positiveInteger(
      options.maxClaimsInFlight ?? DEFAULT_MAX_CLAIMS_IN_FLIGHT,
      'maxClaimsInFlight',
    );
    this.#claimBatch = claimBatchFor(this.concurrency, this.#maxClaimsInFlight);
  }

  get state(): WorkerState {
    return this.#state;
  }

  /** Handlers running now. */
  get runningCount(): number {
    return this.#running.size;
  }

  register<P = Json, R = Json>(kind: string, handler: JobHandler<P, R>): this {
    if (this.#state !== 'created') throw new Error('register handlers before start()');
    if (this.#handlers.has(kind)) throw new Error(`a handler for ${kind} is already registered`);
    this.#handlers.set(kind, handler as unknown as JobHandler<never, Json>);
    return this;
  }

  /** Starts claiming. The backend must be started already; the worker does not own it. */
  async start(): Promise<void> {
    if (this.#state !== 'created') throw new Error(`worker is ${this.#state}`);
    if (this.#handlers.size === 0) throw new Error('register at least one handler before start()');
    this.#state = 'running';
    const kinds = [...this.#handlers.keys()];
    const uncapped = kinds.filter((kind) => !this.#kindConcurrency.has(kind));
    const group = (groupKinds: string[], cap: number | undefined): ClaimGroup => ({
      kinds: groupKinds,
      cap,
      ready: true,
      backlog: false,
      inFlight: 0,
      reserved: 0,
    });
    this.#groups = [
      ...(uncapped.length > 0 ? [group(uncapped, undefined)] : []),
      ...kinds
        .filter((kind) => this.#kindConcurrency.has(kind))
        .map((kind) => group([kind], this.#kindConcurrency.get(kind))),
    ];
    try {
      // Events first: a job cancelled right after we claim it must not be missed.
      this.#unsubscribes.push(
        await this.#backend.onJobEvent((event) => {
          if (event.state === 'cancelled' && this.#running.has(event.id)) this.#checkLease(event.id);
        }),
      );
      this.#unsubscribes.push(await this.#backend.onJobsAvailable(kinds, () => this.#wake()));
    } catch (error) {
      this.#state = 'stopped';
      await this.#unsubscribeAll();
      throw error;
    }
    this.#pollTimer = setInterval(() => this.#wake(), this.#pollIntervalMs);
    this.#fill();
  }

  /**
   * Stops claiming, waits up to `timeoutMs` for running handlers, then aborts the rest and
   * releases their jobs so that another worker runs them. Nothing is lost.
   */
  stop({ timeoutMs = this.#shutdownTimeoutMs }: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#state === 'created') {
      this.#state = 'stopped';
      return Promise.resolve();
    }
    this.#stopping ??= this.#shutdown(timeoutMs);
    return this.#stopping;
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    this.#state = 'stopping';
    if (this.#pollTimer !== null) clearInterval(this.#pollTimer);
    this.#pollTimer = null;
    // Claims in flight still hand their jobs over; they are waited for like the others.
    await Promise.all(this.#claims);

    const drained = Promise.all([...this.#running.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, timeoutMs));
    });
    const first = await Promise.race([drained.then(() => 'drained' as const), timedOut]);
    clearTimeout(timer);

    if (first === 'timeout') {
      await Promise.all(
        [...this.#running.values()].map(async (running) => {
          this.#abort(running, 'shutdown');
          const { job, leaseToken } = running.claimed;
          try {
            if ((await this.#backend.jobRelease({ id: job.id, leaseToken })).stored) {
              this.emit('released', { job });
            }
          } catch (error) {
            // Not released: its lease expires and the rescuer gives it back instead.
            this.#reportError(error, 'jobRelease', job.id);
          }
        }),
      );
    }
    // Whatever still runs was aborted and released: no heartbeat is due any more.
    this.#stopHeartbeats();
    await this.#unsubscribeAll();
    this.#state = 'stopped';
  }

  async #unsubscribeAll(): Promise<void> {
    const unsubscribes = this.#unsubscribes.splice(0);
    await Promise.all(unsubscribes.map((unsubscribe) => unsubscribe().catch(() => undefined)));
  }

  #wake(): void {
    this.#wakeGeneration += 1;
    this.#pausedUntil = 0;
    for (const group of this.#groups) group.ready = true;
    this.#fill();
  }

  /** Starts claims for every ready group with free slots; called on wake-ups, polls, freed slots and claim ends. */
  #fill(): void {
    if (this.#state !== 'running' || Date.now() < this.#pausedUntil) return;
    const count = this.#groups.length;
    // Rotate the starting group so that a busy group cannot starve the others of shared slots.
    this.#groupRotation = (this.#groupRotation + 1) % Math.max(1, count);
    for (let i = 0; i < count; i += 1) {
      const group = this.#groups[(this.#groupRotation + i) % count]!;
      const maxInFlight = group.backlog && group.cap === undefined ? this.#maxClaimsInFlight : 1;
      while (group.ready && group.inFlight < maxInFlight) {
        const limit = Math.min(this.#freeSlots(group), this.#claimBatch);
        if (limit <= 0) break;
        const claim = this.#claim(group, limit).finally(() => this.#claims.delete(claim));
        this.#claims.add(claim);
      }
    }
  }

  async #claim(group: ClaimGroup, limit: number): Promise<void> {
    group.inFlight += 1;
    group.reserved += limit;
    this.#reserved += limit;
    const generation = this.#wakeGeneration;
    let claimed: ClaimedJob[];
    try {
      claimed = await this.#backend.jobClaim({
        kinds: group.kinds,
        limit,
        workerId: this.workerId,
        oldest: this.#fairShare.oldestFor(limit),
      });
    } catch (error) {
      this.#reportError(error, 'jobClaim');
      this.#pausedUntil = Date.now() + this.#pollIntervalMs;
      return;
    } finally {
      group.inFlight -= 1;
      group.reserved -= limit;
      this.#reserved -= limit;
    }
    for (const job of claimed) this.#run(job);
    group.backlog = claimed.length >= limit;
    if (group.backlog) group.ready = true;
    else if (generation === this.#wakeGeneration) group.ready = false;
    this.#fill();
  }

  #freeSlots(group: ClaimGroup): number {
    const free = this.concurrency - this.#running.size - this.#reserved;
    if (group.cap === undefined) return free;
    return Math.min(free, group.cap - (this.#runningByKind.get(group.kinds[0]!) ?? 0) - group.reserved);
  }

  #run(claimed: ClaimedJob): void {
    const { job } = claimed;
    const now = Date.now();
    // The lease's length by the backend's own clock (claim time to expiry), so that a clock
    // skew between this machine and the database does not shorten the heartbeat period.
    const started = job.startedAt === null ? Number.NaN : Date.parse(job.startedAt);
    const expires = Date.parse(claimed.leaseExpiresAt);
    const leaseMs =
      Number.isFinite(started) && expires > started ? expires - started : Math.max(0, expires - now);
    const heartbeatEveryMs = Math.max(MIN_HEARTBEAT_MS, leaseMs / 3);
    const running: Running = {
      claimed,
      controller: null,
      abortReason: null,
      leaseMs,
      leaseDeadline: now + leaseMs,
      heartbeatEveryMs,
      nextHeartbeat: now + heartbeatEveryMs,
      heartbeatInFlight: false,
      startedAt: performance.now(),
      done: Promise.resolve(),
    };
    this.#running.set(job.id, running);
    this.#runningByKind.set(job.kind, (this.#runningByKind.get(job.kind) ?? 0) + 1);
    this.#scheduleHeartbeats(running.nextHeartbeat);
    if (this.listenerCount('claimed') > 0) this.emit('claimed', { job });
    running.done = this.#execute(running).finally(() => this.#finish(running));
  }

  /** Makes the heartbeat timer fire by `at` (local clock); one timer serves every running job. */
  #scheduleHeartbeats(at: number): void {
    if (at >= this.#heartbeatAt) return;
    if (this.#heartbeatTimer !== null) clearTimeout(this.#heartbeatTimer);
    this.#heartbeatAt = at;
    this.#heartbeatTimer = setTimeout(() => this.#sweepHeartbeats(), Math.max(0, at - Date.now()));
  }

  #stopHeartbeats(): void {
    if (this.#heartbeatTimer !== null) clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = null;
    this.#heartbeatAt = Number.POSITIVE_INFINITY;
  }

  /** Sends the heartbeats that are due, then sets the timer for the next one. */
  #sweepHeartbeats(): void {
    this.#heartbeatTimer = null;
    this.#heartbeatAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const running of this.#running.values()) {
      if (running.nextHeartbeat <= now) {
        running.nextHeartbeat = now + running.heartbeatEveryMs;
        this.#heartbeat(running);
      }
      if (running.nextHeartbeat < next) next = running.nextHeartbeat;
    }
    if (next !== Number.POSITIVE_INFINITY) this.#scheduleHeartbeats(next);
  }

  async #execute(running: Running): Promise<void> {
    const { job, leaseToken } = running.claimed;
    const handler = this.#handlers.get(job.kind)!;
    let outcome: { ok: true; result: Json } | { ok: false; error: JobError; final: boolean };
    try {
      const result = await handler(
        new HandlerContext(running, (progress) =>
          this.#progress(running, progress),
        ) as unknown as JobContext<never>,
      );
      outcome = { ok: true, result: result === undefined ? null : result };
    } catch (error) {
      outcome = { ok: false, error: toJobError(error), final: isUnrecoverable(error) };
    }
    if (running.abortReason !== null) return; // #abort already reported it; the outcome does not count
    const durationMs = performance.now() - running.startedAt;

    const stored = await this.#writeOutcome(running, () =>
      outcome.ok
        ? this.#complete({ id: job.id, leaseToken, result: outcome.result })
        : this.#backend.jobFail({ id: job.id, leaseToken, error: outcome.error, final: outcome.final }),
    );
    if (stored === 'abandoned') return;
    if (!stored.stored) {
      this.emit('discarded', { job, found: stored });
      return;
    }
    if (outcome.ok) {
      if (this.listenerCount('completed') > 0)
        this.emit('completed', { job, result: outcome.result, durationMs });
    } else {
      const final = outcome.final || job.attempts >= job.maxAttempts;
      this.emit('failed', { job, error: outcome.error, durationMs, final });
    }
  }

  /**
   * Writes an attempt's outcome, retrying a failing database while the lease lasts (heartbeats
   * go on meanwhile). Past the lease, the rescuer gives the job to another attempt anyway.
   */
  async #writeOutcome(running: Running, write: () => Promise<Transition>): Promise<Transition | 'abandoned'> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await write();
      } catch (error) {
        this.#reportError(error, 'outcome', running.claimed.job.id);
        const delay = backoffDelayMs(attempt, WRITE_RETRY) + 10;
        if (running.abortReason !== null || Date.now() + delay >= running.leaseDeadline) return 'abandoned';
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (running.abortReason !== null) return 'abandoned';
      }
    }
  }

  #finish(running: Running): void {
    running.nextHeartbeat = Number.POSITIVE_INFINITY;
    const { job } = running.claimed;
    this.#running.delete(job.id);
    if (this.#running.size === 0) this.#stopHeartbeats();
    const left = (this.#runningByKind.get(job.kind) ?? 1) - 1;
    if (left === 0) this.#runningByKind.delete(job.kind);
    else this.#runningByKind.set(job.kind, left);
    this.#refill();
  }

  /**
   * Refills freed slots once the handlers finishing in this turn have all freed theirs: a batch of
   * completions settles in one turn, and claiming after each slot would claim one job at a time.
   */
  #refill(): void {
    if (this.#refillScheduled) return;
    this.#refillScheduled = true;
    setImmediate(() => {
      this.#refillScheduled = false;
      this.#fill();
    });
  }

  #heartbeat(running: Running): void {
    if (running.heartbeatInFlight || running.abortReason !== null) return;
    running.heartbeatInFlight = true;
    const { job, leaseToken } = running.claimed;
    const sentAt = Date.now();
    this.#backend
      .jobHeartbeat({ id: job.id, leaseToken })
      .then(
        (outcome) => {
          if (outcome.stored) running.leaseDeadline = sentAt + running.leaseMs;
          else this.#leaseLost(running, outcome);
        },
        (error: unknown) => this.#reportError(error, 'jobHeartbeat', job.id),
      )
      .finally(() => {
        running.heartbeatInFlight = false;
      });
  }

  /** A job event said the job was cancelled: confirm with a heartbeat (events may be stale). */
  #checkLease(id: string): void {
    const running = this.#running.get(id);
    if (running === undefined || running.abortReason !== null) return;
    const { leaseToken } = running.claimed;
    this.#backend.jobHeartbeat({ id, leaseToken }).then(
      (outcome) => {
        if (!outcome.stored) this.#leaseLost(running, outcome);
      },
      (error: unknown) => this.#reportError(error, 'jobHeartbeat', id),
    );
  }

  /**
   * The lease is gone: the refused transition says what it found, which tells a cancellation
   * (worth saying) from an expiry the rescuer handled (retrying, failed, or claimed again).
   */
  #leaseLost(running: Running, found: Refused): void {
    this.#abort(running, found.found === 'cancelled' ? 'cancelled' : 'lease-lost', found);
  }

  #abort(running: Running, reason: AbortReason, found?: Refused): void {
    if (running.abortReason !== null) return;
    running.abortReason = reason;
    running.nextHeartbeat = Number.POSITIVE_INFINITY;
    const { job } = running.claimed;
    running.controller?.abort(new JobAbortedError(reason, job.id));
    this.emit('aborted', found === undefined ? { job, reason } : { job, reason, found });
  }

  async #progress(running: Running, progress: JsonObject): Promise<void> {
    if (running.abortReason !== null) return;
    const { job, leaseToken } = running.claimed;
    try {
      const outcome = await this.#backend.jobProgress({ id: job.id, leaseToken, progress });
      if (!outcome.stored) this.#leaseLost(running, outcome);
    } catch (error) {
      this.#reportError(error, 'jobProgress', job.id);
    }
  }

  #complete(params: JobCompleteParams): Promise<Transition> {
    if (this.#backend.jobCompleteMany === undefined) return this.#backend.jobComplete(params);
    return new Promise<Transition>((resolve, reject) => {
      this.#completeBatch.push({ params, resolve, reject });
      // Handlers that finish in the same turn of the event loop share one write.
      if (this.#completeBatch.length === 1 && !this.#completeFlushing)
        setImmediate(() => this.#flushCompletes());
    });
  }

  async #flushCompletes(): Promise<void> {
    if (this.#completeFlushing) return;
    this.#completeFlushing = true;
    try {
      while (this.#completeBatch.length > 0) {
        const batch = this.#completeBatch.splice(0);
        try {
          const stored = await this.#backend.jobCompleteMany!(batch.map((pending) => pending.params));
          if (stored.length !== batch.length) {
            throw new Error(
              `jobCompleteMany answered ${stored.length} outcomes for ${batch.length} attempts (one per attempt expected)`,
            );
          }
          batch.forEach((pending, i) => {
            pending.resolve(stored[i]!);
          });
        } catch (error) {
          for (const pending of batch) pending.reject(error);
        }
      }
    } finally {
      this.#completeFlushing = false;
    }
  }

  #reportError(error: unknown, operation: string, jobId?: string): void {
    if (this.listenerCount('error') > 0) {
      this.emit('error', { error, operation, jobId });
      return;
    }
    const text = error instanceof Error ? error.message : String(error);
    process.stderr.write(
      `queue worker ${this.workerId}: ${operation}${jobId ? ` ${jobId}` : ''} failed: ${text}\n`,
    );
  }
}

/**
 * A handler's context. Its signal is made on first read: most handlers never read it, and an
 * AbortController per job was a measurable part of a drain. A class, not an object literal with a
 * getter (which V8 builds ~15 times slower: measured 2.1-2.5 µs against 0.04-0.16).
 */
class HandlerContext implements JobContext {
  readonly job: Job;
  readonly progress: (progress: JsonObject) => Promise<void>;
  readonly #running: Running;

  constructor(running: Running, progress: (progress: JsonObject) => Promise<void>) {
    this.job = running.claimed.job;
    this.progress = progress;
    this.#running = running;
  }

  get signal(): AbortSignal {
    const running = this.#running;
    if (running.controller === null) {
      running.controller = new AbortController();
      // Aborted before the handler looked: the signal it gets has fired already.
      if (running.abortReason !== null)
        running.controller.abort(new JobAbortedError(running.abortReason, running.claimed.job.id));
    }
    return running.controller.signal;
  }
}

/** An error as plain data (`{kind, message, stack}`), whatever was thrown. */
export function toJobError(error: unknown): JobError {
  if (error instanceof Error) {
    const jobError: JobError = { kind: error.name || 'Error', message: truncate(error.message) };
    if (error.stack !== undefined) jobError.stack = truncate(error.stack);
    return jobError;
  }
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const { message, kind } = error as { message: unknown; kind?: unknown };
    return { kind: typeof kind === 'string' ? kind : 'Error', message: truncate(String(message)) };
  }
  return { kind: 'NonError', message: truncate(String(error)) };
}

function isUnrecoverable(error: unknown): boolean {
  // By name, so that plain data from a worker thread (`{kind: 'UnrecoverableError'}`) counts too.
  if (error instanceof Error) return error.name === 'UnrecoverableError';
  return (
    typeof error === 'object' && error !== null && (error as { kind?: unknown }).kind === 'UnrecoverableError'
  );
}

function truncate(text: string): string {
  // Storable on both databases: no NUL, no half of a surrogate pair (PostgreSQL refuses either).
  return (text.length <= MAX_ERROR_TEXT ? text : `${text.slice(0, MAX_ERROR_TEXT)}…`)
    .replaceAll('\u0000', '\uFFFD')
    .toWellFormed();
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer (got ${value})`);
  return value;
}
