// GET /v1/queues/stream — the queue statistics of /v1/queues as server-sent events, one stream
// per console tab instead of a poll per widget. Every open stream is fed by one shared ticker,
// which reads the shared QueueStats snapshot (the queue's maintained counters, never a count(*)),
// so a hundred open tabs cost what one does. The stream walks through:
//
//   session     `event: session` with the key's owner and scopes, so a client knows which actions
//               to offer without probing (the server still refuses them without the scope);
//   stats       `event: stats` every `intervalMs`: the per-kind figures of /v1/queues plus, per
//               kind, completed and failed jobs per minute over the last hour (`series`, oldest
//               first, null where unknown);
//   revoked     EventStreams checks the keys of open streams (every API_SSE_KEY_CHECK_MS); once
//               the key is revoked the stream sends `event: end` and closes, and the client's
//               reconnection meets a 401;
//   disconnect  the last stream leaving stops the ticker.
//
// The per-minute series is kept here, in this API process, from every QueueStats snapshot (the
// process samples one every 15 s whether or not anyone watches, see main.ts): it records the
// completed and failed totals once a minute and reports the difference between consecutive
// minutes. A minute without a sample (the process was not running), or one in which pruning
// lowered a total, is null.
//
// Streams are admitted by the process's one EventStreams, so they count against the same caps
// per key and per process as job event streams (DESIGN §4.2): past either a new one is refused
// with 429. A stream whose client stopped reading is dropped once `maxBufferedBytes` wait unsent.
import { type Request, type Response, Router } from 'express';
import { type GuardDeps, requireScope } from '../auth.ts';
import { type EventStreams, startEventStream } from '../event-streams.ts';
import type { QueueSnapshot, QueueStats } from '../queue-stats.ts';
import { defineRoute } from '../routing.ts';
import { principalOf } from './jobs.ts';

export interface QueueStreamRouterDeps extends GuardDeps {
  queueStats: QueueStats;
  /** Admits each stream under the process's caps and ends those whose key is revoked. */
  streams: EventStreams;
  /** How often stats are sent. Default 2 s. */
  intervalMs?: number;
  /** Bytes a stream may hold unsent (its client stopped reading) before it is dropped. Default 1 MiB. */
  maxBufferedBytes?: number;
}

const SERIES_MINUTES = 60;

type JsonSchema = Record<string, unknown>;

interface Subscriber {
  res: Response;
  /** Gives the stream's place back to EventStreams. */
  release: () => void;
}

export function queueStreamRouter(deps: QueueStreamRouterDeps): Router {
  const router = Router();
  const intervalMs = deps.intervalMs ?? 2000;
  const subscribers = new Set<Subscriber>();
  const series = new MinuteSeries(SERIES_MINUTES);
  deps.queueStats.onSnapshot((snapshot) => series.record(snapshot));
  const maxBuffered = deps.maxBufferedBytes ?? 1024 * 1024;
  let timer: NodeJS.Timeout | undefined;
  let ticking = false;

  const tick = async (): Promise<void> => {
    if (ticking) return; // a slow database: skip a beat rather than pile reads up
    ticking = true;
    try {
      const snapshot = await deps.queueStats.snapshot();
      const data = `event: stats\ndata: ${JSON.stringify(statsEvent(snapshot, series))}\n\n`;
      for (const subscriber of subscribers) {
        // A client that stopped reading would have every later event buffered here, without
        // bound: past the allowance its stream is dropped (its client may reconnect).
        if (subscriber.res.writableLength > maxBuffered) {
          leave(subscriber);
          subscriber.res.destroy();
          continue;
        }
        subscriber.res.write(data);
      }
    } catch {
      // The database is away: the clients keep their last figures; the next tick tries again.
    } finally {
      ticking = false;
    }
  };

  // EventStreams found the key revoked.
  const revoked = (subscriber: Subscriber): void => {
    if (!subscribers.has(subscriber)) return; // already gone
    // Out of the set at once: a client that stopped reading keeps the response from finishing
    // (and 'close' from firing) for as long as it likes, and a tick's write after end() would
    // throw ERR_STREAM_WRITE_AFTER_END out of the process.
    leave(subscriber);
    subscriber.res.write(`event: end\ndata: ${JSON.stringify({ reason: 'revoked' })}\n\n`);
    subscriber.res.end();
  };

  const leave = (subscriber: Subscriber): void => {
    subscriber.release();
    subscribers.delete(subscriber);
    if (subscribers.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  const stream = (_req: Request, res: Response): void => {
    const principal = principalOf(res);
    // Throws the 429 before anything is written.
    const subscriber: Subscriber = { res, release: () => undefined };
    subscriber.release = deps.streams.admit(principal.keyId, () => revoked(subscriber));
    startEventStream(res, 3000);
    const session = {
      owner: principal.owner,
      scopes: principal.isAdmin ? ['submit', 'read', 'admin'] : [...principal.scopes].sort(),
    };
    res.write(`event: session\ndata: ${JSON.stringify(session)}\n\n`);
    subscribers.add(subscriber);
    res.on('close', () => leave(subscriber));
    if (timer === undefined) {
      timer = setInterval(() => void tick(), intervalMs);
      timer.unref();
    }
    void tick();
  };

  defineRoute(router, '/v1/queues/stream', { get: [requireScope(deps, 'read'), stream] });
  return router;
}

function statsEvent(snapshot: QueueSnapshot, series: MinuteSeries) {
  return {
    measuredAt: snapshot.measuredAt,
    items: snapshot.kinds,
    series: Object.fromEntries(snapshot.kinds.map((row) => [row.kind, series.rates(row.kind)])),
  };
}

/** Completed and failed totals per kind, one sample a minute, for the last `minutes` minutes. */
export class MinuteSeries {
  readonly #minutes: number;
  // minute number (ms / 60 000) → kind → totals
  readonly #samples = new Map<number, Map<string, { completed: number; failed: number }>>();
  #latestMinute = -1;

  constructor(minutes: number) {
    this.#minutes = minutes;
  }

  record(snapshot: QueueSnapshot): void {
    const minute = Math.floor(Date.parse(snapshot.measuredAt) / 60_000);
    if (minute <= this.#latestMinute) return;
    this.#latestMinute = minute;
    this.#samples.set(
      minute,
      new Map(snapshot.kinds.map((row) => [row.kind, { completed: row.completed, failed: row.failed }])),
    );
    for (const kept of this.#samples.keys())
      if (kept <= minute - this.#minutes - 1) this.#samples.delete(kept);
  }

  /** Per minute, oldest first: jobs completed and failed in that minute, or null when unknown. */
  rates(kind: string): { completed: Array<number | null>; failed: Array<number | null> } {
    const completed: Array<number | null> = [];
    const failed: Array<number | null> = [];
    for (let minute = this.#latestMinute - this.#minutes + 1; minute <= this.#latestMinute; minute += 1) {
      const now = this.#samples.get(minute)?.get(kind);
      const before = this.#samples.get(minute - 1)?.get(kind);
      const diff = (a: number | undefined, b: number | undefined) =>
        a === undefined || b === undefined || a < b ? null : a - b;
      completed.push(diff(now?.completed, before?.completed));
      failed.push(diff(now?.failed, before?.failed));
    }
    return { completed, failed };
  }
}

/** The stream's entry in the OpenAPI document (spliced in by openapi.ts). */
export function queueStreamPaths(helpers: {
  problem(description: string): JsonSchema;
  errors: Record<string, JsonSchema>;
}): Record<string, JsonSchema> {
  return {
    '/v1/queues/stream': {
      get: {
        operationId: 'streamQueueStats',
        tags: ['operations'],
        summary: 'Queue statistics as server-sent events (one stream per console tab)',
        description:
          'First `event: session` ({owner, scopes}) naming what the key may do, then `event: stats` every ' +
          'two seconds: {measuredAt, items (as /v1/queues), series: {<kind>: {completed, failed}}} where each ' +
          'series holds 60 per-minute counts, oldest first, null where this API process did not measure. ' +
          '`event: end` ({reason: "revoked"}) when the key is revoked; the stream then closes.',
        responses: {
          '200': {
            description: 'The event stream.',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          ...helpers.errors,
          '429': helpers.problem(
            'Over the rate limit, or past the open event streams allowed (job and queue streams together): ' +
              'API_SSE_MAX_STREAMS_PER_KEY per key (20), API_SSE_MAX_STREAMS per API process (2000); Retry-After.',
          ),
        },
      },
    },
  };
}
