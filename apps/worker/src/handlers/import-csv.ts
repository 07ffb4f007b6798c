// import.csv: imports an upload the API stored (DESIGN §3). The upload is streamed from its
// store (a folder beside the SQLite file, or PostgreSQL chunks that any machine can read),
// parsed, validated and upserted in batches by importCsv (@offload/imports); progress carries
// bytes, rows and counts; the result, the counts and the first rejected rows by line.
//
//   run ─► completed: request a debounced KPI rebuild (if rows changed), delete the upload
//       ─► the file as a whole is wrong (header, empty, delimiter): fail for good, delete it
//       ─► cancelled: stop between batches (those committed stay), delete it
//       ─► shutdown or lease lost: keep it, another attempt imports it (idempotently)
//       ─► any other error: keep it for the next attempt; delete it after the last one
import type { Db } from '@offload/db';
import { NotFoundError } from '@offload/db';
import {
  CsvFormatError,
  createUploadStore,
  type ImportProgress,
  importCsv,
  type UploadStore,
} from '@offload/imports';
import { type ImportCsvPayload, type JobSender, requestKpiRebuild } from '@offload/jobs';
import { JobAbortedError, type Json, UnrecoverableError } from '@offload/queue';
import type { HandlerContext, JobHandler } from './handler.ts';

export interface ImportCsvServices {
  /** Where the API stored the upload; by default the store that fits the database's shape. */
  uploads?: UploadStore;
  /** Sends the follow-up rebuild.kpi (the worker's queue). */
  sender?: JobSender;
}

/**
 * The handler with its services. The worker process builds it with its queue (createHandlers);
 * without a sender (HANDLERS, for tests and diagnostics) no rebuild is requested
 * and the result says so (`kpiRebuildJobId: null`).
 */
export function importCsvHandler(services: ImportCsvServices = {}): JobHandler<ImportCsvPayload> {
  return (context) => runImportCsv(context, services);
}

/** The upload store a worker reads with: any positive limit will do, it only reads. */
export function readerUploadStore(db: Db): UploadStore {
  return createUploadStore(db, { maxBytes: Number.MAX_SAFE_INTEGER });
}

async function runImportCsv(
  context: HandlerContext<ImportCsvPayload>,
  services: ImportCsvServices,
): Promise<Json> {
  const { job, payload, signal, logger, db } = context;
  const uploads = services.uploads ?? readerUploadStore(db);
  const { uploadId, entity } = payload;
  const lastAttempt = job.attempts >= job.maxAttempts;
  const remove = async () => {
    await uploads.delete(uploadId).catch((error: unknown) => {
      logger.warn({ err: error, uploadId }, 'could not delete the upload of an import that ended');
    });
  };

  let writes: Promise<void> = Promise.resolve();
  const onProgress = (counts: ImportProgress) => {
    // Progress is advisory: one write at a time, a failed one only logged.
    writes = writes
      .then(() => context.progress({ stage: 'importing', entity, ...counts }))
      .catch((error: unknown) => logger.debug({ err: error }, 'import progress not recorded'));
  };

  const gone = (cause: NotFoundError) =>
    new UnrecoverableError(`upload ${uploadId} is gone (already imported, or removed)`, { cause });

  // Only the owner who uploaded a file may import it (the API checks it too, at submission).
  const upload = await uploads.stat(uploadId).catch((error: unknown) => {
    throw error instanceof NotFoundError ? gone(error) : error;
  });
  if (upload.owner !== null && upload.owner !== job.owner) {
    throw new UnrecoverableError(`upload ${uploadId} was uploaded by another owner`);
  }

  let result: Awaited<ReturnType<typeof importCsv>>;
  try {
    result = await importCsv(db, { entity, source: uploads.open(uploadId), signal, onProgress });
  } catch (error) {
    await writes;
    if (error instanceof CsvFormatError) {
      await remove();
      throw new UnrecoverableError(`the file cannot be imported: ${error.message}`, { cause: error });
    }
    if (error instanceof NotFoundError) throw gone(error);
    if (lastAttempt) await remove();
    throw error;
  }
  await writes;

  if (result.cancelled) {
    const reason: unknown = signal.reason;
    // Released at shutdown or taken over by another attempt: that attempt needs the upload.
    const again = reason instanceof JobAbortedError && reason.reason !== 'cancelled';
    if (!again) await remove();
    throw reason instanceof Error ? reason : new JobAbortedError('cancelled', job.id);
  }

  const changed = result.inserted + result.updated > 0;
  const rebuild =
    changed && services.sender !== undefined
      ? await requestKpiRebuild(services.sender, `import.csv:${job.id}`)
      : undefined;
  if (changed && services.sender === undefined) {
    logger.warn('import.csv ran without a queue: no KPI rebuild requested');
  }
  await remove();
  logger.info(
    {
      entity,
      read: result.read,
      inserted: result.inserted,
      updated: result.updated,
      unchanged: result.unchanged,
      rejected: result.rejected,
    },
    'import finished',
  );
  return {
    entity,
    uploadId,
    bytes: result.bytes,
    read: result.read,
    inserted: result.inserted,
    updated: result.updated,
    unchanged: result.unchanged,
    rejected: result.rejected,
    errors: result.errors.map(({ line, reason }) => ({ line, reason })),
    kpiRebuildJobId: rebuild?.jobId ?? null,
  };
}
