// collect.metrics: fetches one metric source (NDJSON or CSV over HTTP, streamed) and inserts its
// observations into `model_metrics` idempotently (DESIGN.md §3), then requests a debounced
// analyze.health of the models that got new points. Sent by the source's cron schedule or on
// demand (POST /v1/metric-sources/:id/collect).
import { z } from 'zod';
import { defineJobKind, rowId } from '../kind.ts';

const payload = z
  .strictObject({
    sourceId: rowId().describe('The metric source (metric_sources.id) to collect.'),
  })
  .describe('collect.metrics payload');

export type CollectMetricsPayload = z.output<typeof payload>;

const result = z
  .object({
    sourceId: z.int(),
    read: z.int().describe('Records read from the source.'),
    inserted: z.int().describe('New observations stored.'),
    skipped: z.int().describe('Valid records already stored (re-collected).'),
    rejected: z.int().describe('Records refused: malformed, or naming an unknown model.'),
    errors: z
      .array(z.object({ line: z.int(), reason: z.string() }))
      .describe('The first rejected records, by line.'),
    bytes: z.int(),
    analysisJobId: z
      .string()
      .nullable()
      .describe('The debounced analyze.health the run requested; null when it stored no new observation.'),
  })
  .describe('collect.metrics result');

export const collectMetrics = defineJobKind({
  name: 'collect.metrics',
  description:
    "Streams a metric source's observations (NDJSON or CSV over HTTP) into model_metrics, inserting idempotently in batches, then requests a health analysis of the models that got new points.",
  payload,
  result,
  cpuBound: false,
  // Makes the worker call an operator's URL (metric sources are admin-only).
  startScope: 'admin',
  defaults: { maxAttempts: 3, backoff: { baseMs: 10_000, maxMs: 600_000 }, leaseSeconds: 60 },
});
