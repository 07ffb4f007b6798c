// Fits a handler to the queue runtime: validates the payload against the kind's catalog schema
// first (an invalid payload can never succeed, so it fails the job at once, without retries),
// then runs the handler with what it needs beyond the runtime's context.
//
// A database error a handler lets through is classified once (@offload/db publicDbError): a
// permanent one (a constraint, a value the column cannot hold, a refused statement) fails the job
// at once, a transient one (connection, serialization, lock) is retried. Either way the job's
// error, which its owner reads through the API, is a stable code and message; the driver's text
// (SQL, values, hosts) goes to the job's log line only.
import { type Db, publicDbError } from '@offload/db';
import { InvalidJobPayloadError, type JobKindName, type PayloadOf, parseJobPayload } from '@offload/jobs';
import type { Logger } from '@offload/observability';
import { type Job, type JobHandler as RuntimeHandler, UnrecoverableError } from '@offload/queue';
import type { TaskPool } from '../pool.ts';
import type { JobHandler } from './handler.ts';

export interface BindOptions {
  pool: TaskPool;
  /** The logger bound to the running attempt (see job-observer.ts). */
  loggerFor(job: Job): Logger;
  /** The process's database; a binding without one (diagnostic tests) fails a handler that uses it. */
  db?: Db;
}

export function bindHandler<K extends JobKindName>(
  kind: K,
  handler: JobHandler<PayloadOf<K>>,
  options: BindOptions,
): RuntimeHandler {
  return async ({ job, signal, progress }) => {
    let payload: PayloadOf<K>;
    try {
      payload = parseJobPayload(kind, job.payload);
    } catch (error) {
      // The runtime skips the remaining attempts of an UnrecoverableError.
      if (error instanceof InvalidJobPayloadError)
        throw new UnrecoverableError(error.message, { cause: error });
      throw error;
    }
    const { db } = options;
    const logger = options.loggerFor(job);
    try {
      return await handler({
        job,
        payload,
        signal,
        progress,
        logger,
        pool: options.pool,
        get db(): Db {
          if (db === undefined) throw new Error(`the ${kind} handler needs a database, and none was bound`);
          return db;
        },
      });
    } catch (error) {
      throw publicJobError(error, logger);
    }
  };
}

/** A database error as the job shows it (see the header); any other error as it was thrown. */
export function publicJobError(error: unknown, logger: Logger): unknown {
  const face = publicDbError(error);
  if (face === undefined) return error;
  logger.warn({ err: error, code: face.code }, `database error in a job: ${face.message}`);
  const message = `${face.code}: ${face.message}`;
  if (!face.transient) return new UnrecoverableError(message);
  const transient = new Error(message);
  transient.name = 'DatabaseUnavailable';
  return transient;
}
