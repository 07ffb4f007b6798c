// One log line per request, written when the response ends:
//   id      `X-Request-Id` when the caller sent a sane one, else a new UUID; echoed back.
//   line    method, path, matched route pattern, status, duration, database queries and time,
//           queue calls and time, the key's owner; warn when slower than LOG_SLOW_REQUEST_MS (event streams excepted,
//           they are long by design), error for 5xx, info otherwise.
//   timing  `Server-Timing: db;desc="N queries";dur=X, queue;desc="N calls";dur=Y`, written as
//           the headers go out. The queue backends use their own connections, so their work
//           is counted per queue call (queue-timing.ts), not in the db query count.
// The request's handlers run inside the request context and a query-stats context, so the
// request id reaches enqueued jobs and every query the request issues is counted.
import { randomUUID } from 'node:crypto';
import { countQueries, type QueryStats } from '@offload/db';
import type { Logger } from '@offload/observability';
import type { Request, RequestHandler, Response } from 'express';
import type { ExpectedUnavailable } from './problem.ts';
import type { QueueCallStats } from './queue-timing.ts';
import { type RequestContext, runWithRequestContext } from './request-context.ts';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface RequestLogOptions {
  logger: Logger;
  slowRequestMs: number;
  /** Called once per finished request (metrics). */
  onFinished?: (info: FinishedRequest) => void;
}

export interface FinishedRequest {
  method: string;
  /** The matched route pattern, or `unmatched`: never the raw URL. */
  route: string;
  status: number;
  durationSeconds: number;
}

/** The request's id: the caller's `X-Request-Id` when it sent a sane one, else a new UUID. */
export function requestIdOf(req: Request): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** What the request line says of one finished request. */
export interface RequestLine {
  requestId: string;
  method: string;
  path: string;
  /** The matched route pattern, or `unmatched`. */
  route: string;
  status: number;
  ms: number;
  stats?: QueryStats | undefined;
  queueCalls?: QueueCallStats | undefined;
  owner?: string | undefined;
  unavailable?: ExpectedUnavailable | undefined;
  /** An event stream: long by design, never a slow request. */
  streaming?: boolean;
  aborted?: boolean;
}

/** Reports a finished request to the metrics and writes its line (when the logger's level takes it). */
export function finishRequest(options: RequestLogOptions, request: RequestLine, child?: Logger): void {
  const { logger } = options;
  const { unavailable, stats, queueCalls, owner, route, status, ms } = request;
  const [level, message] = lineLevel(
    status,
    unavailable,
    ms > options.slowRequestMs && request.streaming !== true,
  );
  options.onFinished?.({ method: request.method, route, status, durationSeconds: ms / 1000 });
  if (!logger.isLevelEnabled(level)) return;
  const log = child ?? logger;
  const line = {
    ...(child === undefined ? { requestId: request.requestId } : {}),
    method: request.method,
    path: request.path,
    route,
    status,
    ms: Math.round(ms * 10) / 10,
    ...(stats === undefined ? {} : { dbQueries: stats.count, dbMs: Math.round(stats.totalMs * 10) / 10 }),
    ...(queueCalls === undefined
      ? {}
      : { queueCalls: queueCalls.count, queueMs: Math.round(queueCalls.totalMs * 10) / 10 }),
    ...(owner === undefined ? {} : { owner }),
    ...(request.aborted === true ? { aborted: true } : {}),
  };
  log[level](unavailable === undefined ? line : { ...line, problem: unavailable }, message);
}

/** Assigns the request id, logs the request when it ends. Mount first (after fast-reads.ts, which does its own). */
export function requestLog(options: RequestLogOptions): RequestHandler {
  const { logger } = options;
  return (req, res, next) => {
    const started = performance.now();
    const requestId = requestIdOf(req);
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    // The request's child logger is made when something asks for it (an error, a handler that
    // logs): a pino child per request cost more than the rest of this middleware. The request's
    // own line carries the same requestId field without one.
    let child: Logger | undefined;
    Object.defineProperty(res.locals, 'logger', {
      get: () => (child ??= logger.child({ requestId })),
      enumerable: true,
      configurable: true,
    });

    let done = false;
    const finish = (aborted: boolean): void => {
      if (done) return;
      done = true;
      const context = res.locals.context as RequestContext | undefined;
      finishRequest(
        options,
        {
          requestId,
          method: req.method,
          path: req.path,
          route: (res.locals.route as string | undefined) ?? 'unmatched',
          status: res.statusCode,
          ms: performance.now() - started,
          stats: res.locals.queryStats as QueryStats | undefined,
          queueCalls: context?.queueCalls,
          owner: context?.principal?.owner,
          unavailable: res.locals.unavailable as ExpectedUnavailable | undefined,
          streaming: res.locals.streaming === true,
          aborted,
        },
        child,
      );
    };
    res.on('finish', () => finish(false));
    res.on('close', () => finish(!res.writableFinished));
    next();
  };
}

/** The request line's level and message: the unavailable, the failed and the slow stand out. */
function lineLevel(
  status: number,
  unavailable: ExpectedUnavailable | undefined,
  slow: boolean,
): ['warn' | 'error' | 'info', string] {
  if (unavailable !== undefined) return ['warn', 'request unavailable'];
  if (status >= 500) return ['error', 'request failed'];
  if (slow) return ['warn', 'slow request'];
  return ['info', 'request'];
}

/**
 * Runs the rest of the chain in the request context and a query-stats context. Mount after the
 * body parsers: their stream callbacks would otherwise run outside the context.
 */
export function requestContext(): RequestHandler {
  return (_req, res, next) => {
    const queueCalls: QueueCallStats = { count: 0, totalMs: 0 };
    const context: RequestContext = {
      requestId: res.locals.requestId as string,
      principal: undefined,
      queueCalls,
    };
    res.locals.context = context;
    const stats: QueryStats = { count: 0, totalMs: 0 };
    res.locals.queryStats = stats;
    writeServerTimingWithHeaders(res, stats, queueCalls);
    countQueries(stats, () => runWithRequestContext(context, next));
  };
}

/** Sets `Server-Timing` from the live stats at the moment the headers are written. */
function writeServerTimingWithHeaders(
  res: Response,
  stats: Readonly<QueryStats>,
  queueCalls: Readonly<QueueCallStats>,
): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: Response, ...args: Parameters<Response['writeHead']>) {
    if (!this.headersSent) this.setHeader('Server-Timing', serverTiming(stats, queueCalls));
    return writeHead.apply(this, args);
  } as Response['writeHead'];
}

/** The `Server-Timing` value for the database queries and queue calls a request made. */
export function serverTiming(stats: Readonly<QueryStats>, queueCalls: Readonly<QueueCallStats>): string {
  const calls = queueCalls.count === 1 ? 'call' : 'calls';
  return `db;desc="${stats.count} queries";dur=${stats.totalMs.toFixed(1)}, queue;desc="${queueCalls.count} ${calls}";dur=${queueCalls.totalMs.toFixed(1)}`;
}
