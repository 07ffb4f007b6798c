import { setTimeout as sleep } from 'node:timers/promises';
import { TransientError, toDbError } from './errors.ts';

export interface RetryOptions {
  /** Retries after the first attempt (so at most retries + 1 calls). */
  retries?: number;
  baseMs?: number;
  maxMs?: number;
  /** Called before each wait, e.g. to log or count retries. */
  onRetry?: (error: TransientError, attempt: number, delayMs: number) => void;
}

/**
 * Calls `fn` until it succeeds, retrying only transient errors (lock contention, serialization
 * failures, lost connections) after a random wait in [0, min(maxMs, baseMs·2^attempt)] ("full
 * jitter": contending callers spread out instead of colliding again). Any other error, and the
 * last transient one, is rethrown mapped by `toDbError`.
 *
 * `fn` must be safe to run again: wrap a whole transaction, never one statement inside one.
 */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { retries = 5, baseMs = 20, maxMs = 2000, onRetry } = options;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await fn();
    } catch (err) {
      const mapped = toDbError(err);
      if (!(mapped instanceof TransientError) || attempt >= retries) throw mapped;
      const delayMs = Math.random() * Math.min(maxMs, baseMs * 2 ** attempt);
      onRetry?.(mapped, attempt + 1, delayMs);
      await sleep(delayMs);
    }
  }
}
