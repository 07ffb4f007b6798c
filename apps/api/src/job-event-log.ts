// What the event streams of a job say, kept once per job in this process, so a client that
// lost its connection can resume where it left off (GET /v1/jobs/:id/events, Last-Event-ID).
//
//   open      the first stream of a job subscribes to the queue's events for it, then reads the
//             job: that read is event 1 (`state`, the whole job). Later streams share the log.
//   record    a queue event whose state differs re-reads the job and records a `state` event (so
//             a final one carries result or error); one that only moves progress records a
//             `progress` event ({id, progress, at}); repeats are dropped. Every `refreshMs` the
//             job is read again, so a lost notification delays an event, never loses it.
//   ids       `<epoch>-<seq>`: the epoch names this log (12 random hex digits), the seq counts its
//             events. A Last-Event-ID of this epoch whose successors are still kept (the last
//             `maxEvents`) gets exactly those; any other (another process, an expired log)
//             gets the job as it is now, one `state` event, which is all a client needs.
//   linger    after its last stream closes the log stays `lingerMs` (still recording, no longer
//             re-reading the job: a reconnect re-reads it at once), the window in which a
//             reconnect resumes; then it unsubscribes and is gone. At most `maxLingering` logs
//             linger: past that the oldest goes first, so opening and dropping streams for many
//             jobs cannot pile up subscriptions.
import { randomBytes } from 'node:crypto';
import { type Job, type JobEvent, type Queue, TERMINAL_STATES, type Unsubscribe } from '@offload/queue';
import { toJobView } from './routes/jobs.ts';
import type { JobView } from './schemas.ts';

export interface LoggedEvent {
  /** `<epoch>-<seq>`, the SSE `id:`. */
  id: string;
  seq: number;
  name: 'state' | 'progress';
  data: unknown;
  /** The job ended with this event: a stream closes after writing it. */
  terminal: boolean;
}

export interface JobEventLogOptions {
  queue: Queue;
  /** How long a log outlives its last stream: the window a reconnect resumes in. Default 60 s. */
  lingerMs?: number;
  /** Events kept per job. Default 200. */
  maxEvents?: number;
  /** Logs kept without a stream at once; past it the oldest is dropped. Default 1000. */
  maxLingering?: number;
  /** Re-read the job this often while the log lives. Default 15 s. */
  refreshMs: number;
  onError(error: unknown): void;
}

type Listener = (event: LoggedEvent | 'gone') => void;

interface LogHooks {
  onDisposed(log: JobLog): void;
  onLingering(log: JobLog, lingering: boolean): void;
}

export class JobEventLogs {
  readonly #options: Required<JobEventLogOptions>;
  readonly #logs = new Map<string, Promise<JobLog>>();

  constructor(options: JobEventLogOptions) {
    this.#options = { lingerMs: 60_000, maxEvents: 200, maxLingering: 1000, ...options };
  }

  /** Logs without a stream, oldest first (a Set keeps insertion order). */
  readonly #lingering = new Set<JobLog>();

  #lingers(log: JobLog, lingering: boolean): void {
    if (!lingering) {
      this.#lingering.delete(log);
      return;
    }
    this.#lingering.add(log);
    for (const oldest of this.#lingering) {
      if (this.#lingering.size <= this.#options.maxLingering) break;
      this.#lingering.delete(oldest);
      void oldest.dispose();
    }
  }

  /** The log of `job`, opened if needed, with `listener` told of every event recorded from now on. */
  async attach(job: Job, listener: Listener): Promise<{ log: JobLog; detach: () => void }> {
    let opening = this.#logs.get(job.id);
    if (opening === undefined) {
      opening = JobLog.open(job, this.#options, {
        onDisposed: (log) => {
          this.#logs.delete(job.id);
          this.#lingering.delete(log);
        },
        onLingering: (log, lingering) => this.#lingers(log, lingering),
      });
      this.#logs.set(job.id, opening);
      opening.catch(() => this.#logs.delete(job.id));
    }
    const log = await opening;
    // Disposed while we waited (its linger ran out): open a new one.
    if (log.disposed) return this.attach(job, listener);
    log.listen(listener);
    return { log, detach: () => log.unlisten(listener) };
  }

  /** Logs open now (streams or lingering). */
  get size(): number {
    return this.#logs.size;
  }

  async close(): Promise<void> {
    const logs = await Promise.allSettled([...this.#logs.values()]);
    for (const result of logs) if (result.status === 'fulfilled') await result.value.dispose();
  }
}

export class JobLog {
  readonly epoch = randomBytes(6).toString('hex');
  readonly #options: Required<JobEventLogOptions>;
  readonly #jobId: string;
  readonly #hooks: LogHooks;
  readonly #events: LoggedEvent[] = [];
  readonly #listeners = new Set<Listener>();
  #seq = 0;
  #view!: JobView;
  #last = { state: '', progress: '' };
  #chain: Promise<void> = Promise.resolve();
  #unsubscribe: Unsubscribe | undefined;
  #refresh: NodeJS.Timeout | undefined;
  #linger: NodeJS.Timeout | undefined;
  #disposed = false;

  private constructor(jobId: string, options: Required<JobEventLogOptions>, hooks: LogHooks) {
    this.#jobId = jobId;
    this.#options = options;
    this.#hooks = hooks;
  }

  static async open(job: Job, options: Required<JobEventLogOptions>, hooks: LogHooks): Promise<JobLog> {
    const log = new JobLog(job.id, options, hooks);
    // Subscribed before the first read: a change between the two is in both, and the event is
    // then dropped as a repeat.
    log.#unsubscribe = await options.queue.subscribe((event) => log.#enqueue(() => log.#onEvent(event)), {
      jobId: job.id,
    });
    log.#recordState((await options.queue.get(job.id)) ?? job);
    log.#startRefreshing();
    return log;
  }

  #startRefreshing(): void {
    this.#refresh = setInterval(() => this.#enqueue(() => this.#reread()), this.#options.refreshMs);
    this.#refresh.unref();
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** The last event's id: the job as `current()` shows it is as of this event. */
  get lastId(): string {
    return `${this.epoch}-${this.#seq}`;
  }

  /** The job now, as one `state` event carrying the last event's id. */
  current(): LoggedEvent {
    return {
      id: this.lastId,
      seq: this.#seq,
      name: 'state',
      data: this.#view,
      terminal: TERMINAL_STATES.has(this.#view.state),
    };
  }

  /**
   * The events after `lastEventId`, when it is one of this log's and none after it was dropped;
   * undefined otherwise (the caller then sends `current()`).
   */
  since(lastEventId: string | undefined): LoggedEvent[] | undefined {
    if (lastEventId === undefined) return undefined;
    const match = /^([0-9a-f]{12})-(\d{1,15})$/.exec(lastEventId);
    if (match === null || match[1] !== this.epoch) return undefined;
    const seq = Number(match[2]);
    if (seq > this.#seq) return undefined;
    const first = this.#events[0]?.seq ?? this.#seq + 1;
    if (seq + 1 < first) return undefined;
    return this.#events.filter((event) => event.seq > seq);
  }

  listen(listener: Listener): void {
    if (this.#linger !== undefined) {
      // Back from lingering: catch up on anything a lost notification hid, then refresh again.
      clearTimeout(this.#linger);
      this.#linger = undefined;
      this.#hooks.onLingering(this, false);
      this.#enqueue(() => this.#reread());
      this.#startRefreshing();
    }
    this.#listeners.add(listener);
  }

  unlisten(listener: Listener): void {
    this.#listeners.delete(listener);
    if (this.#listeners.size > 0 || this.#disposed) return;
    clearInterval(this.#refresh);
    this.#linger = setTimeout(() => void this.dispose(), this.#options.lingerMs);
    this.#linger.unref();
    this.#hooks.onLingering(this, true);
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    clearInterval(this.#refresh);
    clearTimeout(this.#linger);
    this.#hooks.onDisposed(this);
    await this.#unsubscribe?.().catch(this.#options.onError);
  }

  #enqueue(step: () => Promise<void>): void {
    this.#chain = this.#chain.then(step).catch(this.#options.onError);
  }

  async #onEvent(event: JobEvent): Promise<void> {
    if (this.#disposed) return;
    if (event.state !== this.#last.state) {
      const job = await this.#options.queue.get(this.#jobId);
      if (job === null) this.#gone();
      else this.#recordState(job);
      return;
    }
    this.#recordProgress(event.progress, event.at);
  }

  async #reread(): Promise<void> {
    if (this.#disposed) return;
    const job = await this.#options.queue.get(this.#jobId);
    if (job === null) return this.#gone();
    if (job.state !== this.#last.state) this.#recordState(job);
    else this.#recordProgress(job.progress, new Date().toISOString());
  }

  #recordState(job: Job): void {
    const progress = JSON.stringify(job.progress);
    if (job.state === this.#last.state && progress === this.#last.progress) return;
    this.#last = { state: job.state, progress };
    this.#view = toJobView(job);
    this.#record('state', this.#view, TERMINAL_STATES.has(job.state));
  }

  #recordProgress(progress: Job['progress'], at: string): void {
    const text = JSON.stringify(progress);
    if (text === this.#last.progress) return;
    this.#last = { ...this.#last, progress: text };
    this.#view = { ...this.#view, progress };
    this.#record('progress', { id: this.#jobId, progress, at }, false);
  }

  #record(name: LoggedEvent['name'], data: unknown, terminal: boolean): void {
    this.#seq += 1;
    const event = { id: `${this.epoch}-${this.#seq}`, seq: this.#seq, name, data, terminal };
    this.#events.push(event);
    if (this.#events.length > this.#options.maxEvents) this.#events.shift();
    for (const listener of this.#listeners) listener(event);
  }

  #gone(): void {
    for (const listener of this.#listeners) listener('gone');
    void this.dispose();
  }
}
