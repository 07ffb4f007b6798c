// Uploads of imports cancelled before they ran. An import.csv job deletes its upload when it
// ends; one cancelled while still queued never runs, so every worker process listens for its
// cancellation and deletes the upload then (deleting twice is harmless). A cancellation missed
// while no worker was up is left to the upload purge (packages/imports/src/purge.ts).
import type { UploadStore } from '@offload/imports';
import type { Logger } from '@offload/observability';
import type { JobEvent, Queue, Unsubscribe } from '@offload/queue';

export interface UploadCleanupOptions {
  queue: Queue;
  uploads: UploadStore;
  logger: Logger;
}

export function removeUploadsOfCancelledImports(options: UploadCleanupOptions): Promise<Unsubscribe> {
  const { queue, uploads, logger } = options;
  const onEvent = (event: JobEvent): void => {
    if (event.state !== 'cancelled') return;
    void (async () => {
      const job = await queue.get(event.id);
      // A job that started deletes its own upload as its handler stops.
      if (job === null || job.startedAt !== null) return;
      const uploadId = (job.payload as { uploadId?: unknown } | null)?.uploadId;
      if (typeof uploadId !== 'string') return;
      await uploads.delete(uploadId);
      logger.info({ jobId: job.id, uploadId }, 'removed the upload of an import cancelled before it ran');
    })().catch((error: unknown) =>
      logger.warn({ err: error, jobId: event.id }, 'could not remove the upload of a cancelled import'),
    );
  };
  return queue.subscribe(onEvent, { kinds: ['import.csv'] });
}
