// The long-lived parts an API process builds once around its database and queue, then hands to
// createApp: the key authenticator, the rate limiter, the queue statistics, the metrics and the
// cursor seal. main.ts and the tests build them the same way.
import { CursorSigner, type Db } from '@offload/db';
import { createUploadStore } from '@offload/imports';
import { jobKindNames } from '@offload/jobs';
import type { Logger } from '@offload/observability';
import type { Queue } from '@offload/queue';
import { type ApiDeps, type ApiOptions, DEFAULT_SSE_HEARTBEAT_MS } from './app.ts';
import { Authenticator } from './auth.ts';
import { activeKeysIn, EventStreams } from './event-streams.ts';
import { IdempotencyKeys } from './idempotency.ts';
import { JobEventLogs } from './job-event-log.ts';
import { createApiMetrics } from './metrics.ts';
import { QueueStats } from './queue-stats.ts';
import { timedQueue } from './queue-timing.ts';
import { RateLimiter } from './rate-limit.ts';
import { ApiReadCache, DEFAULT_READ_CACHE_SETTINGS, type ReadCacheSettings } from './read-cache.ts';
import { DEFAULT_MAX_UPLOAD_BYTES } from './routes/imports.ts';
import { type ApiSettings, DEFAULT_API_SETTINGS } from './settings.ts';

export interface ApiServicesOptions {
  db: Db;
  queue: Queue;
  logger: Logger;
  cursorSecret: string;
  options: ApiOptions;
  settings?: Partial<ApiSettings>;
  /** Process metrics in /metrics (one process, one app: main turns them on). */
  defaultMetrics?: boolean;
  /** The read cache's TTLs and version checks (CACHE_* variables). */
  cache?: Partial<ReadCacheSettings>;
}

export interface ApiServices extends ApiDeps {
  /** Stops what the services started (the queue sampler, the query hook); not the db or queue. */
  close(): void;
}

export function createApiServices(input: ApiServicesOptions): ApiServices {
  const settings = { ...DEFAULT_API_SETTINGS, ...input.settings };
  const queueStats = new QueueStats({ queue: input.queue, kinds: jobKindNames() });
  const idempotencyKeys = new IdempotencyKeys(input.db);
  idempotencyKeys.startPurging((error) => input.logger.warn({ err: error }, 'idempotency key purge failed'));
  const cache = new ApiReadCache(input.db, { ...DEFAULT_READ_CACHE_SETTINGS, ...input.cache }, input.logger);
  const metrics = createApiMetrics({
    db: input.db,
    queueStats,
    cache,
    defaultMetrics: input.defaultMetrics ?? false,
  });
  const jobEventLogs = new JobEventLogs({
    queue: input.queue,
    refreshMs: input.options.sseHeartbeatMs ?? DEFAULT_SSE_HEARTBEAT_MS,
    ...(input.options.sseResumeWindowMs === undefined ? {} : { lingerMs: input.options.sseResumeWindowMs }),
    onError: (error) => input.logger.warn({ err: error }, 'job event log failed'),
  });
  const eventStreams = new EventStreams(
    activeKeysIn(input.db),
    {
      perKey: settings.sseMaxStreamsPerKey,
      perProcess: settings.sseMaxStreams,
      keyCheckMs: settings.sseKeyCheckMs,
    },
    input.logger,
  );
  return {
    db: input.db,
    // Routes see a queue whose calls count into the request's Server-Timing and log line.
    queue: timedQueue(input.queue),
    uploads: createUploadStore(input.db, {
      maxBytes: input.options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
      ...(input.options.uploadDirectory === undefined ? {} : { directory: input.options.uploadDirectory }),
    }),
    logger: input.logger,
    metrics,
    queueStats,
    authenticator: new Authenticator({
      db: input.db,
      logger: input.logger,
      cacheTtlMs: settings.keyCacheMs,
      unknownKeys: new RateLimiter({
        perSecond: settings.unknownKeyPerSecond,
        burst: settings.unknownKeyBurst,
      }),
    }),
    rateLimiter: new RateLimiter({ perSecond: settings.rateLimitPerSecond, burst: settings.rateLimitBurst }),
    cursorSigner: new CursorSigner(input.cursorSecret),
    idempotencyKeys,
    cache,
    jobEventLogs,
    eventStreams,
    options: input.options,
    close() {
      eventStreams.close();
      void jobEventLogs.close();
      void cache.close();
      idempotencyKeys.stop();
      queueStats.stop();
      metrics.close();
    },
  };
}
