// collect.metrics: streams one metric source into model_metrics (see ../collect/collect.ts).
//
//   run ─► completed: { sourceId, read, inserted, skipped, rejected, errors (first, by line), bytes }
//       ─► the source is gone, its address or URL is refused, it answers 4xx, it is larger than
//          COLLECT_MAX_BYTES or a CSV without the expected header: fail for good (retrying
//          cannot help)
//       ─► timeout (COLLECT_TIMEOUT_MS), network error, 5xx, database error: the attempt fails
//          and retries with backoff; batches already stored stay (inserts are idempotent)
//       ─► cancelled / shutdown: stops between batches
import { NotFoundError } from '@offload/db';
import type { CollectMetricsPayload } from '@offload/jobs';
import { type Json, UnrecoverableError } from '@offload/queue';
import { runCollection } from '../collect/collect.ts';
import { SourceFormatError } from '../collect/records.ts';
import { type CollectSettings, DEFAULT_COLLECT_SETTINGS } from '../collect/settings.ts';
import { SourceRefusedError, SourceTooLargeError } from '../collect/source-stream.ts';
import type { JobHandler } from './handler.ts';

export interface CollectMetricsServices {
  /** COLLECT_* configuration (collect/settings.ts); the defaults when not given. */
  settings?: CollectSettings;
}

export function collectMetricsHandler(
  services: CollectMetricsServices = {},
): JobHandler<CollectMetricsPayload> {
  const settings = services.settings ?? DEFAULT_COLLECT_SETTINGS;
  return async ({ payload, signal, progress, db }): Promise<Json> => {
    try {
      const summary = await runCollection({ db, settings, sourceId: payload.sourceId, signal, progress });
      return { ...summary, errors: summary.errors.map((error) => ({ ...error })) };
    } catch (error) {
      if (isFinal(error)) {
        const message = `metric source ${payload.sourceId}: ${(error as Error).message}`;
        throw new UnrecoverableError(message, { cause: error });
      }
      throw error;
    }
  };
}

function isFinal(error: unknown): boolean {
  return (
    error instanceof NotFoundError ||
    error instanceof SourceRefusedError ||
    error instanceof SourceTooLargeError ||
    error instanceof SourceFormatError
  );
}
