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
 * The cron ticker: each pass fires every schedule's occurrences since the previous pass (by
 * whichever process), at most `lookbackMs` back, so downtime skips ticks rather than replaying
 * them. `fire` inserts with per-tick idempotency keys, so an overlap between passes is harmless.
 */
export function cronTicker(options: {
  intervalMs: number;
  lookbackMs: number;
  claim: ClaimTick;
  fire: (after: Date, upTo: Date) => Promise<void>;
  onError: ErrorReporter;
}): PeriodicTask {
  return new PeriodicTask(
    'cron',
    options.intervalMs,
    async () => {
      const claim = await options.claim('cron', Math.floor(options.intervalMs * 0.9));
      if (claim === null) return;
      const earliest = claim.at.getTime() - options.lookbackMs;
      // A little before the previous pass as well: the idempotency keys absorb the overlap, and a
      // tick landing between that pass's clock read and its claim is not lost.
      const after = Math.max(earliest, (claim.priorAt?.getTime() ?? earliest) - 1_000);
      await options.fire(new Date(after), claim.at);
    },
    reportAsError(options.onError),
  );
}

/** The supervisor reports Errors; a tick may throw anything. */
function reportAsError(onError: ErrorReporter): (error: unknown, context: string) => void {
  return (error, context) => onError(error instanceof Error ? error : new Error(String(error)), context);
}
