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
// Each task is a PeriodicTask (../runtime/periodic-task.ts).

import { PeriodicTask, type TaskErrorReporter } from '../runtime/periodic-task.ts';

export type ErrorReporter = TaskErrorReporter;

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
