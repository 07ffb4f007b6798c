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
import { currentQueryStats, type QueryStats, withQueryStats } from '@offload/db';
import type { Logger } from '@offload/observability';
import type { RequestHandler, Response } from 'express';
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

/** Assigns the request id, logs the request when it ends. Mount first. */
export function requestLog(options: RequestLogOptions): RequestHandler {
  const { logger, slowRequestMs } = options;
  return (req, res, next) => {
    const started = performance.now();
    const given = req.get('x-request-id');
    const requestId = given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    const log = logger.child({ requestId });
    res.locals.logger = log;

    let done = false;
    const finish = (aborted: boolean): void => {
      if (done) return;
      done = true;
      const ms = performance.now() - started;
      const route = (res.locals.route as string | undefined) ?? 'unmatched';
      const stats = res.locals.queryStats as QueryStats | undefined;
      const context = res.locals.context as RequestContext | undefined;
      const owner = context?.principal?.owner;
      const queueCalls = context?.queueCalls;
      const line = {
        method: req.method,
        path: req.path,
        route,
        status: res.statusCode,
        ms: Math.round(ms * 10) / 10,
        ...(stats === undefined ? {} : { dbQueries: stats.count, dbMs: Math.round(stats.totalMs * 10) / 10 }),
        ...(queueCalls === undefined
          ? {}
          : { queueCalls: queueCalls.count, queueMs: Math.round(queueCalls.totalMs * 10) / 10 }),
        ...(owner === undefined ? {} : { owner }),
        ...(aborted ? { aborted: true } : {}),
      };
      const unavailable = res.locals.unavailable as ExpectedUnavailable | undefined;
      if (unavailable !== undefined) log.warn({ ...line, problem: unavailable }, 'request unavailable');
      else if (res.statusCode >= 500) log.error(line, 'request failed');
      else if (ms > slowRequestMs && res.locals.streaming !== true) log.warn(line, 'slow request');
      else log.info(line, 'request');
      options.onFinished?.({ method: req.method, route, status: res.statusCode, durationSeconds: ms / 1000 });
    };
    res.on('finish', () => finish(false));
    res.on('close', () => finish(!res.writableFinished));
    next();
  };
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
    void withQueryStats(() => {
      const stats = currentQueryStats();
      res.locals.queryStats = stats;
      writeServerTimingWithHeaders(res, stats, queueCalls);
      runWithRequestContext(context, next);
    });
  };
}

/** Sets `Server-Timing` from the live stats at the moment the headers are written. */
function writeServerTimingWithHeaders(
  res: Response,
  stats: Readonly<QueryStats> | undefined,
  queueCalls: Readonly<QueueCallStats>,
): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: Response, ...args: Parameters<Response['writeHead']>) {
    if (!this.headersSent) {
      const metrics: string[] = [];
      if (stats !== undefined)
        metrics.push(`db;desc="${stats.count} queries";dur=${stats.totalMs.toFixed(1)}`);
      const calls = queueCalls.count === 1 ? 'call' : 'calls';
      metrics.push(`queue;desc="${queueCalls.count} ${calls}";dur=${queueCalls.totalMs.toFixed(1)}`);
      this.setHeader('Server-Timing', metrics.join(', '));
    }
    return writeHead.apply(this, args);
  } as Response['writeHead'];
}
