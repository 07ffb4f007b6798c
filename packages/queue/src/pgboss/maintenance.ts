// Background maintenance for `start({ maintenance: true })` processes, one small service per task
// (River's rescuer and cleaner): each ticks on its own timer, and a tick does its work only if it
// wins that interval's claim (a single-row UPDATE in `<ours>.maintenance`), so every interval runs
// once across all the processes that maintain.
//
// Each task is a PeriodicTask (../runtime/periodic-task.ts).
import { PeriodicTask } from '../runtime/periodic-task.ts';
import type { ErrorReporter } from './supervisor.ts';

/**
 * Claims one interval of `task` for this process: the claim's database instant and the previous
 * claim's (null the first time), or null when another process already holds this interval.
 */
export type ClaimTick = (
  task: string,
  intervalMs: number,
) => Promise<{ at: Date; priorAt: Date | null } | null>;

/**
 * The rescuer: active jobs whose lease expired (their worker died or hung without heartbeating)
 * go back to `retrying` (or `failed` on their last attempt). With a 30 s lease and a 2 s interval a
 * dead worker's job runs again about half a minute after its last heartbeat.
 */
export function rescuer(options: {
  intervalMs: number;
  claim: ClaimTick;
  rescue: () => Promise<number>;
  onError: ErrorReporter;
}): PeriodicTask {
  return new PeriodicTask(
    'rescue',
    options.intervalMs,
    async () => {
      // 90 % of the interval: timers drift, and the same process must be able to win the next tick.
      if ((await options.claim('rescue', Math.floor(options.intervalMs * 0.9))) !== null)
        await options.rescue();
    },
    reportAsError(options.onError),
  );
}

/** The cleaner: deletes completed jobs after their retention, failed and cancelled ones after theirs. */
export function pruner(options: {
  intervalMs: number;
  completedRetentionMs: number;
  failedRetentionMs: number;
  claim: ClaimTick;
  prune: (params: { completedBefore: Date; failedBefore: Date }) => Promise<number>;
  onError: ErrorReporter;
}): PeriodicTask {
  return new PeriodicTask(
    'prune',
    options.intervalMs,
    async () => {
      if ((await options.claim('prune', Math.floor(options.intervalMs * 0.9))) === null) return;
      const now = Date.now();
      await options.prune({
        completedBefore: new Date(now - options.completedRetentionMs),
        failedBefore: new Date(now - options.failedRetentionMs),
      });
    },
    reportAsError(options.onError),
  );
}

/**
 * The cron ticker: each interval, one process runs a cron pass (the backend's scheduleFireDue,
 * with runtime/cron.ts's missed-tick policy); ticks are recorded per schedule, so a pass after
 * downtime fires each schedule's latest missed tick once.
 */
export function cronTicker(options: {
  intervalMs: number;
  claim: ClaimTick;
  fire: () => Promise<void>;
  onError: ErrorReporter;
}): PeriodicTask {
  return new PeriodicTask(
    'cron',
    options.intervalMs,
    async () => {
      if ((await options.claim('cron', Math.floor(options.intervalMs * 0.9))) !== null) await options.fire();
    },
    reportAsError(options.onError),
  );
}

/** The supervisor reports Errors; a tick may throw anything. */
function reportAsError(onError: ErrorReporter): (error: unknown, context: string) => void {
  return (error, context) => onError(error instanceof Error ? error : new Error(String(error)), context);
}
