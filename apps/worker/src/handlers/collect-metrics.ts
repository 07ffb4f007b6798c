// collect.metrics: streams one metric source into model_metrics (see ../collect/collect.ts),
// then, when it stored new points, asks for a debounced analyze.health of the models they belong
// to, since their health is computed from those series.
//
//   run ─► completed: { sourceId, read, inserted, skipped, rejected, errors (first, by line), bytes,
//          analysisJobId }: the analysis requested when a row was inserted (with a sender), else
//          null; a re-collection that inserts nothing requests none
//       ─► the source is gone, its address or URL is refused, it answers 4xx, it is larger than
//          COLLECT_MAX_BYTES or a CSV without the expected header: fail for good (retrying
//          cannot help)
//       ─► timeout (COLLECT_TIMEOUT_MS), network error, 5xx, database error: the attempt fails
//          and retries with backoff; batches already stored stay (inserts are idempotent)
//       ─► cancelled / shutdown: stops between batches
//   A failed attempt requests no analysis; a retry finds the points it stored already there and
//   requests one only for what it inserts itself, so those wait for the nightly analysis.
import { NotFoundError } from '@offload/db';
import { type CollectMetricsPayload, type JobSender, requestHealthAnalysis } from '@offload/jobs';
import { type Json, UnrecoverableError } from '@offload/queue';
import { type CollectSummary, runCollection } from '../collect/collect.ts';
import { SourceFormatError } from '../collect/records.ts';
import { type CollectSettings, DEFAULT_COLLECT_SETTINGS } from '../collect/settings.ts';
import { SourceRefusedError, SourceTooLargeError } from '../collect/source-stream.ts';
import type { JobHandler } from './handler.ts';

export interface CollectMetricsServices {
  /** COLLECT_* configuration (collect/settings.ts); the defaults when not given. */
  settings?: CollectSettings;
  /** Sends the follow-up analyze.health (the worker's queue); without one none is requested. */
  sender?: JobSender;
  /** The clock, for tests; default the system's. */
  now?: () => Date;
}

export function collectMetricsHandler(
  services: CollectMetricsServices = {},
): JobHandler<CollectMetricsPayload> {
  const settings = services.settings ?? DEFAULT_COLLECT_SETTINGS;
  const now = services.now ?? (() => new Date());
  return async ({ job, payload, signal, progress, db }): Promise<Json> => {
    let summary: CollectSummary;
    try {
      summary = await runCollection({ db, settings, sourceId: payload.sourceId, signal, progress });
    } catch (error) {
      if (isFinal(error)) {
        const message = `metric source ${payload.sourceId}: ${(error as Error).message}`;
        throw new UnrecoverableError(message, { cause: error });
      }
      throw error;
    }
    const { insertedModelIds, errors, ...counts } = summary;
    const analysis =
      services.sender === undefined || insertedModelIds.size === 0
        ? null
        : await requestHealthAnalysis(services.sender, `collect.metrics:${job.id}`, {
            modelIds: insertedModelIds,
            now: now().getTime(),
          });
    return {
      ...counts,
      errors: errors.map((error) => ({ ...error })),
      analysisJobId: analysis?.jobId ?? null,
    };
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
