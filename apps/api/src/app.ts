// The Express app, built from explicit dependencies: no listening, no globals, no environment,
// so tests build as many as they like. Order matters:
//   the hot reads' short path (fast-reads.ts: answered from memory, or handed on untouched)
//   → request log (id, one line per request, metrics) → unstorable path or query text (400)
//   → liveness/readiness → JSON body (1 MB, depth and keys bounded before parsing)
//   → request context (request id and query stats through AsyncLocalStorage) → resource routers
//   → 404 → problem+json error handler.
import type { CursorSigner, Db } from '@offload/db';
import type { UploadStore } from '@offload/imports';
import type { Logger } from '@offload/observability';
import type { Queue } from '@offload/queue';
import express, { type Express } from 'express';
import type { Authenticator } from './auth.ts';
import { consoleRouter } from './console.ts';
import type { EventStreams } from './event-streams.ts';
import { fastReads } from './fast-reads.ts';
import { databaseCheck, healthRouter, queueCheck } from './health.ts';
import { NO_STORE } from './http-cache.ts';
import type { IdempotencyKeys } from './idempotency.ts';
import type { JobEventLogs } from './job-event-log.ts';
import type { ApiMetrics } from './metrics.ts';
import { buildOpenApiDocument } from './openapi.ts';
import { notFoundHandler, problemErrorHandler } from './problem.ts';
import type { QueueStats } from './queue-stats.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { ApiReadCache } from './read-cache.ts';
import { type RequestLogOptions, requestContext, requestLog } from './request-log.ts';
import { RequestStats } from './request-stats.ts';
import { attestationCyclesRouter } from './routes/attestation-cycles.ts';
import { bulkJobsRouter } from './routes/bulk-jobs.ts';
import { cacheRouter } from './routes/cache.ts';
import { dashboardFastRead, dashboardRouter } from './routes/dashboard.ts';
import { DEFAULT_MAX_UPLOAD_BYTES, importsRouter } from './routes/imports.ts';
import { jobEventsRouter } from './routes/job-events.ts';
import { DEFAULT_RUN_AT_HORIZON_DAYS, jobsRouter } from './routes/jobs.ts';
import { kpiFastRead, kpiRouter } from './routes/kpi.ts';
import { metricSourcesRouter } from './routes/metric-sources.ts';
import { metricsRouter } from './routes/metrics.ts';
import { modelsFastRead, modelsRouter } from './routes/models.ts';
import { openApiRouter } from './routes/openapi.ts';
import { queueStreamRouter } from './routes/queue-stream.ts';
import { queuesRouter } from './routes/queues.ts';
import { reportsRouter } from './routes/reports.ts';
import { schedulesRouter } from './routes/schedules.ts';
import { systemHealthRouter } from './routes/system-health.ts';
import { workersRouter } from './routes/workers.ts';
import { scoped } from './routing.ts';
import { jsonShapeGuard, refuseUnstorableInput } from './validation.ts';

export interface ApiOptions {
  /** LOG_SLOW_REQUEST_MS: requests slower than this log a warning. */
  slowRequestMs: number;
  /** JSON bodies larger than this answer 413. Default 1 MB. */
  jsonLimitBytes?: number;
  /** Comment lines on event streams this often. Default 15 s. */
  sseHeartbeatMs?: number;
  /** How long a job's events are kept after its last stream closed, for Last-Event-ID. Default 60 s. */
  sseResumeWindowMs?: number;
  version: string;
  /** When the process started (ms since the epoch), for uptime. */
  startedAt: number;
  /** MAX_UPLOAD_BYTES: larger CSV imports answer 413. Default 1 GiB. */
  maxUploadBytes?: number;
  /** JOB_RUN_AT_HORIZON_DAYS: a job's runAt further ahead than this is 422. Default 365. */
  runAtHorizonDays?: number;
  /** Where the folder upload store (SQLite shape) keeps files. Default: beside the SQLite file. */
  uploadDirectory?: string;
}

export interface ApiDeps {
  db: Db;
  queue: Queue;
  /** Where CSV imports wait for their job (folder on SQLite, chunks on PostgreSQL). */
  uploads: UploadStore;
  logger: Logger;
  metrics: ApiMetrics;
  queueStats: QueueStats;
  authenticator: Authenticator;
  rateLimiter: RateLimiter;
  cursorSigner: CursorSigner;
  idempotencyKeys: IdempotencyKeys;
  /** The precomputed reads through the two-tier cache (KPI, reports, dashboard, models). */
  cache: ApiReadCache;
  /** What each followed job's event streams said lately, for Last-Event-ID. */
  jobEventLogs: JobEventLogs;
  /** The open event streams, capped per key and per process. */
  eventStreams: EventStreams;
  options: ApiOptions;
}

export const DEFAULT_JSON_LIMIT_BYTES = 1024 * 1024;
export const DEFAULT_SSE_HEARTBEAT_MS = 15_000;

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

  const requestStats = new RequestStats();
  const log: RequestLogOptions = {
    logger: deps.logger,
    slowRequestMs: options.slowRequestMs,
    onFinished: (info) => {
      deps.metrics.requestFinished(info);
      requestStats.record(info);
    },
  };
  // The hottest reads, when all they need is in memory, skip the rest (fast-reads.ts).
  app.use(fastReads({ ...guard, reads: deps.cache, log }, [kpiFastRead, dashboardFastRead, modelsFastRead]));
  app.use(requestLog(log));
  // Nothing is cacheable unless it says so: the precomputed reads set their own (http-cache.ts).
  app.use((_req, res, next) => {
    res.setHeader('Cache-Control', NO_STORE);
    next();
  });
  app.use(refuseUnstorableInput);
  app.use(scoped(healthRouter([databaseCheck(deps.db), queueCheck(deps.queue)], deps.logger)));
  app.use(scoped(metricsRouter(deps.metrics)));
  app.use(
    express.json({
      limit: options.jsonLimitBytes ?? DEFAULT_JSON_LIMIT_BYTES,
      type: ['application/json', 'application/*+json'],
      verify: jsonShapeGuard,
    }),
  );
  app.use(requestContext());

  app.use(scoped(openApiRouter(buildOpenApiDocument(options.version))));
  // The precomputed reads first: the hottest GETs should not walk every other router.
  for (const router of [
    kpiRouter,
    reportsRouter,
    attestationCyclesRouter,
    dashboardRouter,
    modelsRouter,
    cacheRouter,
  ]) {
    app.use(scoped(router({ ...guard, reads: deps.cache })));
  }
  app.use(
    scoped(
      jobEventsRouter({
        ...guard,
        queue: deps.queue,
        logs: deps.jobEventLogs,
        streams: deps.eventStreams,
        heartbeatMs: options.sseHeartbeatMs ?? DEFAULT_SSE_HEARTBEAT_MS,
      }),
    ),
  );
  // Before jobsRouter, whose /v1/jobs/:id would answer their POST with 405.
  app.use(scoped(bulkJobsRouter({ ...guard, queue: deps.queue })));
  app.use(
    scoped(
      jobsRouter({
        ...guard,
        queue: deps.queue,
        uploads: deps.uploads,
        runAtHorizonDays: options.runAtHorizonDays ?? DEFAULT_RUN_AT_HORIZON_DAYS,
        cursorSigner: deps.cursorSigner,
        idempotencyKeys: deps.idempotencyKeys,
      }),
    ),
  );
  app.use(
    scoped(
      importsRouter({
        ...guard,
        queue: deps.queue,
        uploads: deps.uploads,
        maxUploadBytes: options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
      }),
    ),
  );
  app.use(scoped(queuesRouter({ ...guard, queueStats: deps.queueStats })));
  app.use(scoped(queueStreamRouter({ ...guard, queueStats: deps.queueStats, streams: deps.eventStreams })));
  app.use(scoped(schedulesRouter({ ...guard, queue: deps.queue, cursorSigner: deps.cursorSigner })));
  app.use(scoped(metricSourcesRouter({ ...guard, db: deps.db, queue: deps.queue })));
  app.use(scoped(workersRouter({ ...guard, db: deps.db, cursorSigner: deps.cursorSigner })));
  app.use(
    scoped(
      systemHealthRouter({
        ...guard,
        db: deps.db,
        queueStats: deps.queueStats,
        version: options.version,
        startedAt: options.startedAt,
        reads: deps.cache,
        requestStats,
      }),
    ),
  );

  app.use(consoleRouter());
  app.use(notFoundHandler);
  app.use(problemErrorHandler(deps.logger));
  return app;
}
