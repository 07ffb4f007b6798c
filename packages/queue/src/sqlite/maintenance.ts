// Background maintenance of `start({ maintenance: true })` processes, one small periodic task per
// job (River's rescuer, cleaner and scheduler):
//
//   rescuer   every ~2 s in every maintaining process: active jobs whose lease expired go back to
//             retrying (or failed). Harmless to run everywhere: each move is a fenced update. With
//             the 30 s default lease a dead worker's job runs again about half a minute later.
//   scheduler every ~1 s, in the leader only (leader.ts): fires due cron ticks (cron.ts).
//   pruner    every few minutes, in the leader only: deletes finished jobs past their retention
//             and old events, in bounded transactions.
//
// States of a task: stopped → waiting (timer armed; the first delay is jittered so processes
// started together spread out) → running → waiting … `stop()` disarms and waits for a running
// tick. A tick that throws is reported and the next one runs as usual.

export type ErrorReporter = (error: unknown, context: string) => void;

export class PeriodicTask {
  readonly #name: string;
  readonly #intervalMs: number;
  readonly #run: () => Promise<void>;
  readonly #onError: ErrorReporter;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #stopped = true;

  constructor(name: string, intervalMs: number, run: () => Promise<void>, onError: ErrorReporter) {
    this.#name = name;
    this.#intervalMs = intervalMs;
    this.#run = run;
    this.#onError = onError;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#arm(Math.floor(Math.random() * this.#intervalMs));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  #arm(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#running = this.#run()
        .catch((error: unknown) => this.#onError(error, `queue maintenance task ${this.#name} failed`))
        .finally(() => {
          this.#running = null;
          this.#arm(this.#intervalMs);
        });
    }, delayMs);
    this.#timer.unref();
  }
}

export interface MaintenanceOptions {
  rescueIntervalMs: number;
  cronIntervalMs: number;
  pruneIntervalMs: number;
  /** Takes or renews the leader lease; true while this process leads. */
  lead(now: Date): Promise<boolean>;
  /** Gives the lease up (at stop). */
  resign(): Promise<void>;
  rescue(now: Date): Promise<number>;
  fireSchedules(now: Date): Promise<void>;
  prune(now: Date): Promise<void>;
  onError: ErrorReporter;
}

export class Maintenance {
  readonly #options: MaintenanceOptions;
  readonly #tasks: PeriodicTask[];

  constructor(options: MaintenanceOptions) {
    this.#options = options;
    const { onError } = options;
    this.#tasks = [
      new PeriodicTask(
        'rescuer',
        options.rescueIntervalMs,
        async () => {
          await options.rescue(new Date());
        },
        onError,
      ),
      new PeriodicTask(
        'scheduler',
        options.cronIntervalMs,
        async () => {
          const now = new Date();
          if (await options.lead(now)) await options.fireSchedules(now);
        },
        onError,
      ),
      new PeriodicTask(
        'pruner',
        options.pruneIntervalMs,
        async () => {
          const now = new Date();
          if (await options.lead(now)) await options.prune(now);
        },
        onError,
      ),
    ];
  }

  start(): void {
    for (const task of this.#tasks) task.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.#tasks.map((task) => task.stop()));
    await this.#options
      .resign()
      .catch((error: unknown) => this.#options.onError(error, 'resigning the queue leader lease failed'));
  }
}
