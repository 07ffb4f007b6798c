// What a job handler sees and returns. The runtime (@offload/queue's Worker) claims the job,
// keeps its lease alive and records the outcome; a handler only does the work.
import type { Db } from '@offload/db';
import type { Logger } from '@offload/observability';
import type { Job, Json, JsonObject } from '@offload/queue';
import type { TaskPool } from '../pool.ts';

export interface HandlerContext<P> {
  job: Job;
  /** The payload, already validated against the kind's catalog schema. */
  payload: P;
  /** Aborted when the job is cancelled, its lease is lost, or shutdown gives up waiting. */
  signal: AbortSignal;
  /** Records progress on the job (visible to pollers and SSE). */
  progress(progress: JsonObject): Promise<void>;
  /** Bound to the job: jobId, kind, attempt and the submitting request's requestId. */
  logger: Logger;
  /** The process's thread pool, for CPU-bound steps. */
  pool: TaskPool;
  /** The process's database (domain tables and cache tables). */
  db: Db;
}

/** Resolves to the job's result (small JSON); throws to fail the attempt. */
export type JobHandler<P> = (context: HandlerContext<P>) => Promise<Json>;
