// The open event streams of this process, counted so a key cannot hold them all: at most
// `perKey` per API key and `perProcess` in all (each holds a socket and a share of the job
// event logs); past either the stream is refused with 429 and Retry-After. While streams are
// open, their keys are checked every `keyCheckMs` in one statement, and the streams of a key
// revoked meanwhile are ended: a stream outlives its key by seconds, not by hours.
import type { Db } from '@offload/db';
import type { Logger } from '@offload/observability';
import type { Response } from 'express';
import { activeApiKeyIds } from './api-keys.ts';
import { HttpProblem, PROBLEM_TYPES } from './problem.ts';

export interface EventStreamLimits {
  /** API_SSE_MAX_STREAMS_PER_KEY. */
  perKey: number;
  /** API_SSE_MAX_STREAMS: per API process. */
  perProcess: number;
  /** API_SSE_KEY_CHECK_MS: how often open streams' keys are checked for revocation. */
  keyCheckMs: number;
}

export const DEFAULT_EVENT_STREAM_LIMITS: EventStreamLimits = {
  perKey: 20,
  perProcess: 2000,
  keyCheckMs: 2000,
};

/** Seconds a refused stream is told to wait: streams end as jobs do, so capacity frees often. */
const RETRY_AFTER_SECONDS = 5;

/** Which of the given API key ids are still active (not revoked). */
export type ActiveKeyIds = (keyIds: number[]) => Promise<Set<number>>;

/** The key check against the api_keys table. */
export function activeKeysIn(db: Db): ActiveKeyIds {
  return (keyIds) => activeApiKeyIds(db, keyIds);
}

export class EventStreams {
  readonly #activeKeyIds: ActiveKeyIds;
  readonly #limits: EventStreamLimits;
  readonly #logger: Logger;
  readonly #byKey = new Map<number, Set<() => void>>();
  #count = 0;
  #timer: NodeJS.Timeout | undefined;
  #checking = false;

  constructor(activeKeyIds: ActiveKeyIds, limits: EventStreamLimits, logger: Logger) {
    this.#activeKeyIds = activeKeyIds;
    this.#limits = limits;
    this.#logger = logger;
  }

  get open(): number {
    return this.#count;
  }

  /** Admits a stream of `keyId` that `end` closes, or throws a 429; returns its release. */
  admit(keyId: number, end: () => void): () => void {
    const ofKey = this.#byKey.get(keyId) ?? new Set();
    if (ofKey.size >= this.#limits.perKey) {
      throw refused(`This API key has ${ofKey.size} event streams open, its limit.`);
    }
    if (this.#count >= this.#limits.perProcess) {
      throw refused('This API process serves as many event streams as it may; try again shortly.');
    }
    ofKey.add(end);
    this.#byKey.set(keyId, ofKey);
    this.#count += 1;
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.#checkKeys(), this.#limits.keyCheckMs);
      this.#timer.unref();
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      ofKey.delete(end);
      if (ofKey.size === 0) this.#byKey.delete(keyId);
      this.#count -= 1;
      if (this.#count === 0) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #checkKeys(): Promise<void> {
    if (this.#checking || this.#byKey.size === 0) return;
    this.#checking = true;
    try {
      const keyIds = [...this.#byKey.keys()];
      const active = await this.#activeKeyIds(keyIds);
      for (const keyId of keyIds) {
        if (active.has(keyId)) continue;
        for (const end of [...(this.#byKey.get(keyId) ?? [])]) end();
      }
    } catch (error) {
      // The database blinked: the next check decides.
      this.#logger.warn({ err: error }, 'event streams: checking their keys failed');
    } finally {
      this.#checking = false;
    }
  }
}

function refused(detail: string): HttpProblem {
  return new HttpProblem(429, detail, {
    type: PROBLEM_TYPES.rateLimited,
    headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
  });
}

/**
 * Opens `res` as an event stream: the headers every stream sends (no caching or transforming by
 * proxies, no buffering by nginx) and `retry:`, how long a client waits before reconnecting.
 */
export function startEventStream(res: Response, retryMs: number): void {
  res.locals.streaming = true;
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store, no-transform');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no');
  res.write(`retry: ${retryMs}\n\n`);
}
