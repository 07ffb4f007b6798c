// The worker registry: each worker process keeps one row in `worker_registry` fresh, so the API
// can list the live workers (GET /v1/workers) from any machine.
//
//   start  — upsert the row (host, pid, concurrency, running, kinds, started_at), then again
//            every `intervalMs` (default 10 s) with the running count and last_heartbeat_at.
//   stop   — a clean exit deletes the row. A crashed worker's row stays and goes stale:
//            readers treat rows whose last_heartbeat_at is older than a minute as dead,
//            and every heartbeat deletes rows long dead (PURGE_AFTER_MS), so the table stays small.
//
// The registry is a convenience for operators, never a dependency of job processing: a failed
// heartbeat is logged (a missing table once, as a warning) and the worker carries on.
import { type Db, WORKER_REGISTRY_TABLE as TABLE } from '@offload/db';
import type { Logger } from '@offload/observability';

/** Rows older than this are deleted by any live worker's heartbeat. */
export const PURGE_AFTER_MS = 60 * 60_000;

export interface WorkerRegistration {
  /** The worker id also stored on the jobs it claims (host:pid:random). */
  id: string;
  host: string;
  pid: number;
  concurrency: number;
  kinds: readonly string[];
  startedAt: Date;
}

export interface WorkerRegistryOptions {
  db: Db;
  logger: Logger;
  registration: WorkerRegistration;
  /** Attempts running now, read at each heartbeat. */
  running: () => number;
  intervalMs?: number;
  now?: () => Date;
}

export interface WorkerRegistry {
  /** Writes the row now (the timer also calls it). Never rejects. */
  beat(): Promise<void>;
  /** Stops the timer and deletes the row. Never rejects. */
  stop(): Promise<void>;
}

export async function startWorkerRegistry(options: WorkerRegistryOptions): Promise<WorkerRegistry> {
  const { db, logger, registration } = options;
  const now = options.now ?? (() => new Date());
  const intervalMs = options.intervalMs ?? 10_000;
  let failing: string | undefined;
  let stopped = false;
  let inFlight: Promise<void> = Promise.resolve();

  async function write(): Promise<void> {
    const at = now();
    await db
      .knex(TABLE)
      .insert({
        id: registration.id,
        host: registration.host,
        pid: registration.pid,
        concurrency: registration.concurrency,
        running: options.running(),
        kinds: JSON.stringify(registration.kinds),
        started_at: registration.startedAt.toISOString(),
        last_heartbeat_at: at.toISOString(),
      })
      .onConflict('id')
      .merge(['running', 'concurrency', 'kinds', 'last_heartbeat_at']);
    await db
      .knex(TABLE)
      .where('last_heartbeat_at', '<', new Date(at.getTime() - PURGE_AFTER_MS).toISOString())
      .delete();
  }

  // Logs the first failure of each sort, and the recovery, instead of one line per heartbeat.
  function report(error: unknown): void {
    const missing = isMissingTable(error);
    const sort = missing ? 'missing-table' : error instanceof Error ? error.message : String(error);
    if (sort === failing) return;
    failing = sort;
    if (missing) {
      logger.warn(`worker registry disabled until the ${TABLE} table exists (its migration has not run)`);
    } else {
      logger.warn({ err: error }, 'worker registry heartbeat failed; will retry');
    }
  }

  function beat(): Promise<void> {
    if (stopped) return inFlight;
    inFlight = inFlight.then(() =>
      write().then(() => {
        if (failing !== undefined) logger.info('worker registry heartbeat recovered');
        failing = undefined;
      }, report),
    );
    return inFlight;
  }

  await beat();
  const timer = setInterval(() => void beat(), intervalMs);
  timer.unref();

  return {
    beat,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await inFlight;
      try {
        await db.knex(TABLE).where({ id: registration.id }).delete();
      } catch (error) {
        if (!isMissingTable(error))
          logger.warn({ err: error }, 'could not remove this worker from the registry');
      }
    },
  };
}

// SQLite: "no such table: worker_registry"; PostgreSQL: undefined_table (42P01).
function isMissingTable(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === '42P01' || (typeof message === 'string' && message.includes(`no such table: ${TABLE}`));
}
