// One worker process, assembled: the queue backend (with maintenance: lease rescue, pruning,
// cron), the thread pool, the queue runtime running every catalog kind through its handler,
// the health/metrics port and the worker registry row.
//
//   starting → running: pieces start in dependency order; if one fails, those already started
//              are closed again in reverse, and the error propagates (the process exits).
//   running  → stopping (stop()): /readyz turns 503, the runtime stops claiming and waits up to
//              the shutdown timeout for running jobs, then aborts the rest and releases them to
//              other workers; then the registry row is deleted and everything closes in reverse.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '@offload/config';
import { createDb } from '@offload/db';
import { startUploadPurge } from '@offload/imports';
import { JOB_KINDS, type JobKindName, jobDefaultsOf } from '@offload/jobs';
import type { Logger } from '@offload/observability';
import { createQueueBackend, Queue, Worker } from '@offload/queue';
import type { CollectSettings } from './collect/settings.ts';
import { applyDefaultSchedules } from './default-schedules.ts';
import { readerUploadStore } from './handlers/import-csv.ts';
import { bindCatalogHandler, createHandlers } from './handlers/index.ts';
import { startHealthServer } from './health-server.ts';
import { observeJobs } from './job-observer.ts';
import { createWorkerMetrics } from './metrics.ts';
import type { HealthSettings } from './model-health/settings.ts';
import { createTaskPool } from './pool.ts';
import { readyJobsSampler } from './ready-jobs.ts';
import { startWorkerRegistry } from './registry.ts';
import type { WorkerSettings } from './settings.ts';
import { removeUploadsOfCancelledImports } from './upload-cleanup.ts';

export interface WorkerProcessOptions {
  config: Config;
  settings: WorkerSettings;
  logger: Logger;
  /** HEALTH_* (analyze.health); the defaults when not given. */
  health?: HealthSettings;
  /** COLLECT_* (collect.metrics); the defaults when not given. */
  collect?: CollectSettings;
}

export interface WorkerProcess {
  /** Stored on the jobs it claims and in the registry: host:pid:random. */
  readonly id: string;
  /** The health/metrics port actually bound. */
  readonly port: number;
  readonly kinds: readonly string[];
  /** Drains, releases what is left, and closes everything. Idempotent. */
  stop(): Promise<void>;
}

// A job id no backend ever issues: reading it proves the queue's tables answer.
const PROBE_JOB_ID = '00000000-0000-0000-0000-000000000000';

export async function startWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  const { config, settings, logger } = options;
  const host = hostname();
  const id = `${host}:${process.pid}:${randomUUID().slice(0, 8)}`;
  // A kind whose WORKER_CONCURRENCY_<KIND> is 0 is left to other worker processes.
  const kinds: JobKindName[] = JOB_KINDS.map((kind) => kind.name).filter(
    (kind) => settings.kindConcurrency.get(kind) !== 0,
  );
  if (kinds.length === 0) throw new Error('every job kind has WORKER_CONCURRENCY_<KIND>=0: nothing to run');

  const closers: Array<{ name: string; close: () => Promise<void> }> = [];
  const closeAll = async (): Promise<void> => {
    for (const { name, close } of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        logger.warn({ err: error }, `closing the ${name} failed`);
      }
    }
  };

  let stopping = false;
  try {
    const db = createDb({ databaseUrl: config.databaseUrl, poolMax: config.databasePoolMax });
    closers.push({ name: 'database', close: () => db.destroy() });

    // The catalog's per-kind options for every send this process makes: cron ticks, triggers.
    const backend = await createQueueBackend(config.databaseUrl, { defaults: jobDefaultsOf });
    await backend.start({ maintenance: true });
    closers.push({ name: 'queue backend', close: () => backend.stop() });
    const defaults = await applyDefaultSchedules({ db, queue: backend });
    if (defaults.created.length > 0 || defaults.adopted.length > 0)
      logger.info(defaults, 'default schedules applied');

    const pool = createTaskPool(
      { threads: config.workerThreads },
      {
        onThreadError: (error) =>
          logger.error({ err: error }, 'a pool thread died between tasks; the next task starts another'),
      },
    );
    closers.push({ name: 'thread pool', close: () => pool.close() });

    const metrics = createWorkerMetrics({
      kinds,
      poolStats: () => pool.stats(),
      readyJobs: readyJobsSampler(new Queue(backend)),
    });
    const kindConcurrency: Record<string, number> = {};
    for (const kind of kinds) {
      const ceiling = settings.kindConcurrency.get(kind);
      if (ceiling !== undefined) kindConcurrency[kind] = ceiling;
    }
    const worker = new Worker(backend, {
      workerId: id,
      concurrency: config.workerConcurrency,
      kindConcurrency,
      shutdownTimeoutMs: settings.shutdownTimeoutMs,
    });
    const observer = observeJobs(worker, logger, metrics);
    // Handlers get the process's services: the uploads the API stored, the queue for follow-up
    // jobs (import.csv and analyze.health request a debounced KPI rebuild), HEALTH_/COLLECT_.
    const uploads = readerUploadStore(db);
    const sender = new Queue(backend);
    const bindOptions = { pool, db, loggerFor: observer.loggerFor };
    const handlers = createHandlers({ uploads, sender, health: options.health, collect: options.collect });
    for (const kind of kinds) worker.register(kind, bindCatalogHandler(kind, bindOptions, handlers));
    const uploadPurge = startUploadPurge(uploads, {
      onError: (error) => logger.warn({ err: error }, 'purging incomplete uploads failed'),
      onPurged: (count) => logger.info({ count }, 'incomplete uploads purged'),
    });
    closers.push({ name: 'upload purge', close: () => uploadPurge.stop() });
    const stopUploadCleanup = await removeUploadsOfCancelledImports({ queue: sender, uploads, logger });
    closers.push({ name: 'upload cleanup', close: () => stopUploadCleanup() });

    const health = await startHealthServer({
      port: config.workerPort,
      stopping: () => stopping,
      metrics,
      onCheckFailed: (check, error) => logger.warn({ check, err: error }, `readiness check ${check} failed`),
      checks: [
        { name: 'database', run: async () => void (await db.knex.raw('select 1')) },
        { name: 'queue', run: async () => void (await backend.jobGet(PROBE_JOB_ID)) },
      ],
    });
    closers.push({ name: 'health server', close: () => health.close() });

    // Registered before claiming starts and removed only after the drain, so the row covers
    // every moment this process may hold a job.
    const registry = await startWorkerRegistry({
      db,
      logger,
      registration: {
        id,
        host,
        pid: process.pid,
        concurrency: config.workerConcurrency,
        kinds,
        startedAt: new Date(),
      },
      running: () => worker.runningCount,
    });
    closers.push({ name: 'worker registry', close: () => registry.stop() });

    await worker.start();
    closers.push({
      name: 'queue worker',
      close: async () => {
        await worker.stop();
        observer.detach();
      },
    });

    logger.info(
      {
        workerId: id,
        port: health.port,
        queue: backend.name,
        kinds,
        concurrency: config.workerConcurrency,
        kindConcurrency,
        threads: config.workerThreads,
      },
      'worker started',
    );

    let stopped: Promise<void> | undefined;
    return {
      id,
      port: health.port,
      kinds,
      stop() {
        stopped ??= (async () => {
          stopping = true;
          logger.info(
            { running: worker.runningCount, timeoutMs: settings.shutdownTimeoutMs },
            'worker stopping: draining running jobs',
          );
          await closeAll();
          logger.info('worker stopped');
        })();
        return stopped;
      },
    };
  } catch (error) {
    stopping = true;
    await closeAll();
    throw error;
  }
}
