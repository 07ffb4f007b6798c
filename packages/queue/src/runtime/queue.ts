// The producer's side of the queue (the API, cron set-up, scripts): send, look up, operate,
// subscribe. It adds nothing a backend must agree on; it is a small facade so that callers
// hold one object and event subscribers share one backend subscription.
import type {
  BulkAction,
  Job,
  JobBulkParams,
  JobEvent,
  JobInsertParams,
  JobInsertResult,
  JobListParams,
  JobTransition,
  Json,
  KindCounts,
  Page,
  QueueBackend,
  Schedule,
  ScheduleState,
  Unsubscribe,
} from '../types.ts';

/** Everything a job can be sent with except its kind and payload. */
export type SendOptions = Omit<JobInsertParams, 'kind' | 'payload'>;

export interface JobEventFilter {
  /** Only this job's events (a server-sent events stream for one job). */
  jobId?: string;
  kinds?: readonly string[];
}

type Subscriber = { filter: JobEventFilter; listener: (event: JobEvent) => void };

export class Queue {
  readonly backend: QueueBackend;
  readonly #subscribers = new Set<Subscriber>();
  // One backend subscription, opened with the first subscriber and closed with the last.
  #subscription: Promise<Unsubscribe> | null = null;

  constructor(backend: QueueBackend) {
    this.backend = backend;
  }

  send<P = Json>(kind: string, payload: P, options: SendOptions = {}): Promise<JobInsertResult<P>> {
    return this.backend.jobInsert<P>({ ...options, kind, payload });
  }

  /** Sends many jobs in one round trip (and one transaction): all are inserted or none. */
  sendMany<P = Json>(jobs: ReadonlyArray<JobInsertParams<P>>): Promise<Array<JobInsertResult<P>>> {
    if (jobs.length === 0) return Promise.resolve([]);
    return this.backend.jobInsertMany<P>(jobs);
  }

  get(id: string): Promise<Job | null> {
    return this.backend.jobGet(id);
  }

  list(params: JobListParams = {}): Promise<Page<Job>> {
    return this.backend.jobList(params);
  }

  counts(now?: Date): Promise<KindCounts[]> {
    return this.backend.jobCounts(now);
  }

  /** Stored: the job as cancelled. Refused: the job as found, with its state (null: no such job). */
  cancel(id: string): Promise<JobTransition> {
    return this.backend.jobCancel(id);
  }

  /** Stored: the job as queued again. Refused: the job as found, with its state (null: no such job). */
  retry(id: string): Promise<JobTransition> {
    return this.backend.jobRetry(id);
  }

  /** Cancels waiting jobs matching `params`, at most `params.limit` (≤ 1000); returns how many. */
  cancelMany(params: JobBulkParams): Promise<number> {
    return this.backend.jobCancelMany(params);
  }

  /** Retries failed jobs matching `params`, at most `params.limit` (≤ 1000); returns how many. */
  retryMany(params: JobBulkParams): Promise<number> {
    return this.backend.jobRetryMany(params);
  }

  /**
   * How many jobs `cancelMany`/`retryMany` would take with `params`, counting at most
   * `params.limit` (≤ 10,001) so that a count never scans a large table: an answer equal to the
   * limit means "at least".
   */
  countMany(action: BulkAction, params: JobBulkParams): Promise<number> {
    return this.backend.jobCountMany(action, params);
  }

  scheduleUpsert(schedule: Schedule): Promise<void> {
    return this.backend.scheduleUpsert(schedule);
  }

  scheduleDelete(name: string): Promise<boolean> {
    return this.backend.scheduleDelete(name);
  }

  scheduleList(): Promise<Schedule[]> {
    return this.backend.scheduleList();
  }

  scheduleStates(): Promise<ScheduleState[]> {
    return this.backend.scheduleStates();
  }

  schedulePause(name: string, paused: boolean, now?: Date): Promise<boolean> {
    return this.backend.schedulePause(name, paused, now);
  }

  /**
   * Calls `listener` for state and progress changes of jobs matching `filter`, from any
   * process. Resolves once the subscription is live, so an event that follows is not missed.
   */
  async subscribe(listener: (event: JobEvent) => void, filter: JobEventFilter = {}): Promise<Unsubscribe> {
    const subscriber: Subscriber = { filter, listener };
    this.#subscribers.add(subscriber);
    try {
      this.#subscription ??= this.backend.onJobEvent((event) => this.#dispatch(event));
      await this.#subscription;
    } catch (error) {
      this.#subscribers.delete(subscriber);
      this.#subscription = null;
      throw error;
    }
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      this.#subscribers.delete(subscriber);
      if (this.#subscribers.size > 0 || this.#subscription === null) return;
      const subscription = this.#subscription;
      this.#subscription = null;
      await (await subscription)();
    };
  }

  #dispatch(event: JobEvent): void {
    for (const { filter, listener } of this.#subscribers) {
      if (filter.jobId !== undefined && filter.jobId !== event.id) continue;
      if (filter.kinds !== undefined && !filter.kinds.includes(event.kind)) continue;
      try {
        listener(event);
      } catch {
        // One subscriber's bug must not starve the others of events.
      }
    }
  }
}
