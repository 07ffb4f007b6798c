// Per-key rate limiting with a token bucket per API key, in process memory: each key may burst
// up to `burst` requests, then is refilled at `perSecond`. With several API processes each
// holds its own buckets, so the deployment-wide limit is that many times larger (a shared
// store would cost a round trip per request; the limit is a guard against runaway clients, not
// a billing meter).

export interface RateLimitOptions {
  /** Sustained requests per second per key; 0 turns limiting off. */
  perSecond: number;
  /** Requests a key may make at once after being idle. */
  burst: number;
}

export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updatedMs: number;
}

// Buckets idle long enough to be full again carry no information; drop them past this many.
const SWEEP_AT = 10_000;

export class RateLimiter {
  readonly options: RateLimitOptions;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: RateLimitOptions) {
    if (options.perSecond > 0 && options.burst < 1) throw new Error('rate limit burst must be at least 1');
    this.options = options;
  }

  /** Takes one token from `key`'s bucket. */
  take(key: string, nowMs: number = performance.now()): RateLimitDecision {
    const { perSecond, burst } = this.options;
    if (perSecond <= 0) return { allowed: true };
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= SWEEP_AT) this.#sweep(nowMs);
      bucket = { tokens: burst, updatedMs: nowMs };
      this.#buckets.set(key, bucket);
    } else {
      const refill = ((nowMs - bucket.updatedMs) / 1000) * perSecond;
      bucket.tokens = Math.min(burst, bucket.tokens + refill);
      bucket.updatedMs = nowMs;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond)) };
  }

  /** Gives back a token `take` granted, for work that turned out to cost nothing (never past the burst). */
  refund(key: string): void {
    const bucket = this.#buckets.get(key);
    if (bucket !== undefined) bucket.tokens = Math.min(this.options.burst, bucket.tokens + 1);
  }

  #sweep(nowMs: number): void {
    const { perSecond, burst } = this.options;
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + ((nowMs - bucket.updatedMs) / 1000) * perSecond >= burst) this.#buckets.delete(key);
    }
  }
}
