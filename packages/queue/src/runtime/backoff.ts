// Retry delays: exponential with full jitter (AWS architecture blog, "Exponential Backoff and
// Jitter"). Full jitter spreads the retries of jobs that failed together (a database blip fails
// a whole batch) over the whole window instead of bunching them at the same instant again.
import type { BackoffOptions } from '../types.ts';

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ baseMs: 1000, maxMs: 60_000 });

/** The ceiling of the delay after failed attempt number `attempt` (1-based): base·2^(attempt-1), capped. */
export function backoffCeilingMs(attempt: number, backoff: BackoffOptions = DEFAULT_BACKOFF): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // 2^exponent overflows to Infinity long after it passes any sane maxMs; min() keeps it finite.
  return Math.max(0, Math.min(backoff.maxMs, backoff.baseMs * 2 ** exponent));
}

/** A delay drawn uniformly from [0, ceiling]: the wait before attempt `attempt + 1`. */
export function backoffDelayMs(
  attempt: number,
  backoff: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  return Math.round(random() * backoffCeilingMs(attempt, backoff));
}

/** When the next attempt may start, as an ISO instant, given when this one failed. */
export function nextRunAt(
  attempt: number,
  failedAt: Date,
  backoff: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): string {
  return new Date(failedAt.getTime() + backoffDelayMs(attempt, backoff, random)).toISOString();
}
