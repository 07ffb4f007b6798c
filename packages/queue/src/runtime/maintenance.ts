// Background maintenance of `start({ maintenance: true })` processes, once for both drivers: one
// small periodic task per job (River's rescuer, cleaner and scheduler), and one leader election.
//
//   rescuer   every `rescueIntervalMs` (2 s) in every maintaining process: active jobs whose lease
//             expired go back to retrying (or failed), by the retry policy (retry.ts). Harmless to
//             run everywhere: each move is a fenced update. With the 30 s default lease a dead
//             worker's job runs again about half a minute later.
//   scheduler every `cronIntervalMs` (1 s), in the leader only: one cron pass (cron.ts's policy).
//   pruner    every `pruneIntervalMs` (5 min), in the leader only: deletes finished jobs past their
//             retention (completed 7 days, failed and cancelled 30 days), in bounded transactions.
//
// Leader election, states of one process: follower → (the lease row is free or expired: the
// driver's guarded upsert takes it) → leader, renewing the lease (`leaderLeaseMs`, 15 s) on each
// scheduler or pruner tick → follower again when a renewal fails (another process took over after
// our lease lapsed, e.g. we were stalled) or after stop, which resigns so that the next process
// need not wait out the lease. A leader that stalls past its lease may briefly overlap the next
// one; what it leads is safe under that overlap (a cron tick fires once by its guarded last tick
// and its idempotency key; pruning deletes by retention whoever runs it).
//
// Each task is a PeriodicTask (periodic-task.ts). The driver gives the primitives; the intervals,
// retention and election policy are here.
import { randomUUID } from 'node:crypto';
import type { QueueBackend } from '../types.ts';
import { PeriodicTask, type TaskErrorReporter } from './periodic-task.ts';

export type ErrorReporter = TaskErrorReporter;

const DAY_MS = 24 * 60 * 60 * 1000;

export interface MaintenanceSettings {
  /** How often every maintaining process rescues expired leases (ms). Default 2000. */
  rescueIntervalMs?: number;
  /** How often the leader runs a cron pass (ms). Default 1000. */
  cronIntervalMs?: number;
  /** How often the leader prunes (ms). Default 5 minutes. */
  pruneIntervalMs?: number;
  /** The leader lease's length (ms); renewed on every leader tick. Default 15 s. */
  leaderLeaseMs?: number;
  /** How long finished jobs are kept. Default: completed 7 days, failed and cancelled 30 days. */
  retention?: { completedMs?: number; failedMs?: number };
}

/** What maintenance needs from a driver: its primitives (a backend is one). */
export type MaintenanceDriver = Pick<
  QueueBackend,
  'leaderAcquire' | 'leaderResign' | 'jobRescueExpired' | 'scheduleFireDue' | 'jobPrune'
> & {
  /** Whatever else the driver retains and prunes with the jobs (SQLite's event log). */
  pruneExtra?(now: Date): Promise<void>;
};

/** A backend's maintenance primitives bound to it, to extend with `pruneExtra`. */
export function bindMaintenance(backend: MaintenanceDriver): MaintenanceDriver {
  return {
    leaderAcquire: (params) => backend.leaderAcquire(params),
    leaderResign: (params) => backend.leaderResign(params),
    jobRescueExpired: (now) => backend.jobRescueExpired(now),
    scheduleFireDue: (now) => backend.scheduleFireDue(now),
    jobPrune: (params) => backend.jobPrune(params),
  };
}

export function positive(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive number (got ${String(value)})`);
  }
  return value;
}

/** The settings with their defaults, validated (a TypeError names the bad one). */
export function maintenanceSettings(settings: MaintenanceSettings = {}): Required<MaintenanceSettings> & {
  retention: { completedMs: number; failedMs: number };
} {
  return {
    rescueIntervalMs: positive(settings.rescueIntervalMs ?? 2000, 'rescueIntervalMs'),
    cronIntervalMs: positive(settings.cronIntervalMs ?? 1000, 'cronIntervalMs'),
    pruneIntervalMs: positive(settings.pruneIntervalMs ?? 5 * 60_000, 'pruneIntervalMs'),
    leaderLeaseMs: positive(settings.leaderLeaseMs ?? 15_000, 'leaderLeaseMs'),
    retention: {
      completedMs: positive(settings.retention?.completedMs ?? 7 * DAY_MS, 'retention.completedMs'),
      failedMs: positive(settings.retention?.failedMs ?? 30 * DAY_MS, 'retention.failedMs'),
    },
  };
}

export class Maintenance {
  readonly #driver: MaintenanceDriver;
  readonly #onError: ErrorReporter;
  readonly #holder = randomUUID();
  readonly #leaseMs: number;
  readonly #tasks: PeriodicTask[];

  constructor(driver: MaintenanceDriver, settings: MaintenanceSettings, onError: ErrorReporter) {
    const s = maintenanceSettings(settings);
    this.#driver = driver;
    this.#onError = onError;
    this.#leaseMs = s.leaderLeaseMs;
    this.#tasks = [
      new PeriodicTask(
        'rescuer',
        s.rescueIntervalMs,
        async () => {
          await driver.jobRescueExpired(new Date());
        },
        onError,
      ),
      new PeriodicTask(
        'scheduler',
        s.cronIntervalMs,
        async () => {
          const now = new Date();
          if (await this.lead(now)) await driver.scheduleFireDue(now);
        },
        onError,
      ),
      new PeriodicTask(
        'pruner',
        s.pruneIntervalMs,
        async () => {
          const now = new Date();
          if (!(await this.lead(now))) return;
          await driver.jobPrune({
            completedBefore: new Date(now.getTime() - s.retention.completedMs),
            failedBefore: new Date(now.getTime() - s.retention.failedMs),
          });
          await driver.pruneExtra?.(now);
        },
        onError,
      ),
    ];
  }

  /** Takes or renews the leader lease: true while this process leads. */
  lead(now: Date): Promise<boolean> {
    return this.#driver.leaderAcquire({
      name: 'maintenance',
      holder: this.#holder,
      expiresAt: new Date(now.getTime() + this.#leaseMs),
      now,
    });
  }

  start(): void {
    for (const task of this.#tasks) task.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.#tasks.map((task) => task.stop()));
    await this.#driver
      .leaderResign({ name: 'maintenance', holder: this.#holder })
      .catch((error: unknown) => this.#onError(error, 'resigning the queue leader lease failed'));
  }
}
