// One collect.metrics run: read the source row, stream its body (source-stream.ts), parse it into
// validated records (records.ts) and store them batch by batch (store.ts), reporting progress
// after each batch and stopping between batches when the job is cancelled. Memory holds one
// batch whatever the size of the source, plus the ids of the models that got new points (at
// most one past what an analyze.health payload takes), for the follow-up analysis.
import { type Db, getMetricSource } from '@offload/db';
import { ANALYZE_HEALTH_MAX_MODEL_IDS } from '@offload/jobs';
import type { JsonObject } from '@offload/queue';
import { type RecordError, readMetricRecords } from './records.ts';
import type { CollectSettings } from './settings.ts';
import { streamSource } from './source-stream.ts';
import { storeObservations } from './store.ts';

/** Rejected records listed in the result; the count covers them all. */
export const MAX_REPORTED_ERRORS = 20;

export interface CollectRunOptions {
  db: Db;
  settings: CollectSettings;
  sourceId: number;
  signal: AbortSignal;
  progress(progress: JsonObject): Promise<void>;
}

export interface CollectSummary {
  sourceId: number;
  read: number;
  inserted: number;
  skipped: number;
  rejected: number;
  errors: RecordError[];
  bytes: number;
  /**
   * The distinct models that got new points. Kept up to ANALYZE_HEALTH_MAX_MODEL_IDS + 1: a full
   * set means "more than ANALYZE_HEALTH_MAX_MODEL_IDS", and the follow-up analyses every model.
   */
  insertedModelIds: Set<number>;
}

export async function runCollection(options: CollectRunOptions): Promise<CollectSummary> {
  const { db, settings, signal } = options;
  const source = await getMetricSource(db.knex, options.sourceId);
  const summary: CollectSummary = {
    sourceId: source.id,
    read: 0,
    inserted: 0,
    skipped: 0,
    rejected: 0,
    errors: [],
    bytes: 0,
    insertedModelIds: new Set(),
  };
  const body = countBytes(
    streamSource(source.url, {
      timeoutMs: settings.timeoutMs,
      maxBytes: settings.maxBytes,
      allowPrivateNetworks: settings.allowPrivateNetworks,
      signal,
    }),
    (bytes) => {
      summary.bytes += bytes;
    },
  );
  for await (const batch of readMetricRecords(body, source.format, settings.batchRows)) {
    const stored = await storeObservations(db, batch.records);
    summary.read += batch.read;
    summary.inserted += stored.inserted;
    summary.skipped += stored.skipped;
    for (const modelId of stored.insertedModelIds) {
      if (summary.insertedModelIds.size > ANALYZE_HEALTH_MAX_MODEL_IDS) break;
      summary.insertedModelIds.add(modelId);
    }
    const rejected = [...batch.errors, ...stored.rejected].sort((a, b) => a.line - b.line);
    summary.rejected += rejected.length;
    summary.errors.push(...rejected.slice(0, MAX_REPORTED_ERRORS - summary.errors.length));
    const { errors: _errors, insertedModelIds: _modelIds, ...counts } = summary;
    await options.progress({ step: 'collecting', ...counts });
    signal.throwIfAborted();
  }
  return summary;
}

async function* countBytes(
  chunks: AsyncIterable<Buffer>,
  add: (bytes: number) => void,
): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    add(chunk.length);
    yield chunk;
  }
}
