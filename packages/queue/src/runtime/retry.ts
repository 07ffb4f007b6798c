// The retry policy, once for both drivers: what a failed attempt (a thrown handler, or a lease
// that expired) leads to. Attempts left and not final → `retrying`, due after the backoff
// (backoff.ts: exponential with full jitter); otherwise → `failed`. A driver reads the attempt's
// counts and backoff under its lease, asks `retryAt`, and stores the answer with a guarded update:
// no driver computes a delay in SQL.
import type { BackoffOptions } from '../types.ts';
import { nextRunAt } from './backoff.ts';

export interface FailedAttempt {
  /** Attempts started so far, this one included (1-based). */
  attempts: number;
  maxAttempts: number;
  backoff: BackoffOptions;
  /** The handler said no attempt can succeed (UnrecoverableError). */
  final?: boolean;
}

/** When the next attempt may start (ISO), or null when the job fails for good. */
export function retryAt(
  attempt: FailedAttempt,
  failedAt: Date,
  random: () => number = Math.random,
): string | null {
  if (attempt.final === true || attempt.attempts >= attempt.maxAttempts) return null;
  return nextRunAt(attempt.attempts, failedAt, attempt.backoff, random);
}

/** The error an attempt whose lease expired is failed with (the rescuer's). */
export const LEASE_EXPIRED_ERROR = Object.freeze({
  message: 'lease expired: the worker stopped heartbeating',
  kind: 'LeaseExpired',
});
