// The Express app, built from explicit dependencies: no listening, no globals, no environment,
// so tests build as many as they like. Order matters:
//   request log (id, one line per request, metrics) → liveness/readiness → JSON body (1 MB)
//   → request context (request id and query stats through AsyncLocalStorage) → resource routers
//   → 404 → problem+json error handler.
import type { Db } from '@offload/db';
import type { Logger } from '@offload/observability';
import type { Queue } from '@offload/queue';
import express, { type Express } from 'express';
import type { Authenticator } from './auth.ts';
import type { CursorSeal } from './cursor-seal.ts';
import { databaseCheck, healthRouter, queueCheck } from './health.ts';
import type { IdempotencyKeys } from './idempotency.ts';
import type { ApiMetrics } from './metrics.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { notFoundHandler, problemErrorHandler } from './problem.ts';
import type { QueueStats } from './queue-stats.ts';
import type { RateLimiter } from './rate-limit.ts';
import { requestContext, requestLog } from './request-log.ts';
import { jobEventsRouter } from './routes/job-events.ts';
import { jobsRouter } from './routes/jobs.ts';
import { metricsRouter } from './routes/metrics.ts';
import { openApiRouter } from './routes/openapi.ts';
import { queuesRouter } from './routes/queues.ts';
import { schedulesRouter } from './routes/schedules.ts';
import { systemHealthRouter } from './routes/system-health.ts';
import { workersRouter } from './routes/workers.ts';

export interface ApiOptions {
  /** LOG_SLOW_REQUEST_MS: requests slower than this log a warning. */
  slowRequestMs: number;
  /** JSON bodies larger than this answer 413. Default 1 MB. */
  jsonLimitBytes?: number;
  /** Comment lines on event streams this often. Default 15 s. */
  sseHeartbeatMs?: number;
  version: string;
  /** When the process started (ms since the epoch), for uptime. */
  startedAt: number;
}

export interface ApiDeps {
  db: Db;
  queue: Queue;
  logger: Logger;
  metrics: ApiMetrics;
  queueStats: QueueStats;
  authenticator: Authenticator;
  rateLimiter: RateLimiter;
  cursorSeal: CursorSeal;
  idempotencyKeys: IdempotencyKeys;
  options: ApiOptions;
}

export const DEFAULT_JSON_LIMIT_BYTES = 1024 * 1024;

/** Builds the Express app from its dependencies; no listening, no globals, so tests can build many. */
export function createApp(deps: ApiDeps): Express {
  const { options } = deps;
  const guard = {
    authenticator: deps.authenticator,
    rateLimiter: deps.rateLimiter,
    onRateLimited: () => deps.metrics.rateLimited(),
  };
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', 'loopback');

  app.use(
    requestLog({
      logger: deps.logger,
      slowRequestMs: options.slowRequestMs,
      onFinished: (info) => deps.metrics.requestFinished(info),
    }),
  );
  app.use(healthRouter([databaseCheck(deps.db), queueCheck(deps.queue)]));
  app.use(metricsRouter(deps.metrics));
  app.use(
    express.json({
      limit: options.jsonLimitBytes ?? DEFAULT_JSON_LIMIT_BYTES,
      type: ['application/json', 'application/*+json'],
    }),
  );
  app.use(requestContext());

  app.use(openApiRouter(buildOpenApiDocument(options.version)));
  app.use(jobEventsRouter({ ...guard, queue: deps.queue, heartbeatMs: options.sseHeartbeatMs ?? 15_000 }));
  app.use(
    jobsRouter({
      ...guard,
      queue: deps.queue,
      cursorSeal: deps.cursorSeal,
      idempotencyKeys: deps.idempotencyKeys,
    }),
  );
  app.use(queuesRouter({ ...guard, queueStats: deps.queueStats }));
  app.use(schedulesRouter({ ...guard, queue: deps.queue }));
  app.use(workersRouter({ ...guard, db: deps.db }));
  app.use(
    systemHealthRouter({
      ...guard,
      db: deps.db,
      queueStats: deps.queueStats,
      version: options.version,
      startedAt: options.startedAt,
    }),
  );

  app.use(notFoundHandler);
  app.use(problemErrorHandler(deps.logger));
  return app;
}
