// Follow-up work one job asks for when it lands: an import or an analyzer run changes what the
// KPI snapshots would say, so it requests a KPI rebuild; a metric collection that stored new
// points changes the health of the models it touched, so it requests a health analysis of them.
// Requests are debounced: every request inside one window with the same key maps to the same job
// (the queue's idempotency key, per kind), which runs when the window closes, so a burst of
// imports costs one rebuild, not one each.
import { createHash } from 'node:crypto';
import { ANALYZE_HEALTH_MAX_MODEL_IDS } from './kinds/analyze-health.ts';

/** What a trigger needs from the queue: its producer's send (structural, so no queue import). */
export interface JobSender {
  send(
    kind: string,
    payload: Record<string, unknown>,
    options: { runAt?: string; idempotencyKey?: string; meta?: Record<string, string> },
  ): Promise<{ job: { id: string }; created: boolean }>;
}

export const KPI_REBUILD_DEBOUNCE_MS = 30_000;
export const HEALTH_ANALYSIS_DEBOUNCE_MS = 60_000;

export interface DebouncedRequest {
  /** The job that will run at the end of the window (new or already waiting). */
  jobId: string;
  /** False when an earlier request in the same window already created it. */
  created: boolean;
  runAt: string;
}

interface DebounceOptions {
  windowMs?: number;
  /** Epoch milliseconds; default the system clock. */
  now?: number;
}

interface DebouncedSend {
  kind: string;
  payload: Record<string, unknown>;
  /** Recorded in the job's meta (e.g. `import.csv:<jobId>`). */
  reason: string;
  /** What, besides the window, tells two requests apart (joined into the idempotency key). */
  scope: readonly string[];
  windowMs: number;
  now: number;
}

/** Sends a job to run at the end of the current window, once per window and scope. */
async function requestDebounced(
  queue: JobSender,
  { kind, payload, reason, scope, windowMs, now }: DebouncedSend,
): Promise<DebouncedRequest> {
  const windowEnd = (Math.floor(now / windowMs) + 1) * windowMs;
  const runAt = new Date(windowEnd).toISOString();
  const idempotencyKey = ['debounce', ...scope, runAt].join(':');
  const { job, created } = await queue.send(kind, payload, { runAt, idempotencyKey, meta: { reason } });
  return { jobId: job.id, created, runAt };
}

/**
 * Requests a `rebuild.kpi` for today at the end of the current debounce window. `reason` is
 * recorded in the job's meta (e.g. `import.csv:<jobId>`).
 */
export async function requestKpiRebuild(
  queue: JobSender,
  reason: string,
  options: DebounceOptions = {},
): Promise<DebouncedRequest> {
  return requestDebounced(queue, {
    kind: 'rebuild.kpi',
    payload: {},
    reason,
    scope: [],
    windowMs: options.windowMs ?? KPI_REBUILD_DEBOUNCE_MS,
    now: options.now ?? Date.now(),
  });
}

/**
 * Requests an `analyze.health` of `modelIds` at the end of the current debounce window (of every
 * active model when there are none, or more than ANALYZE_HEALTH_MAX_MODEL_IDS). The key holds a
 * digest of the models: the waiting job's payload is fixed when it is created, so a request for
 * other models in the same window gets a job of its own, while requests for the same models,
 * from one source or several, cost one analysis.
 */
export async function requestHealthAnalysis(
  queue: JobSender,
  reason: string,
  options: DebounceOptions & { modelIds?: Iterable<number> } = {},
): Promise<DebouncedRequest> {
  const modelIds = [...new Set(options.modelIds ?? [])].sort((a, b) => a - b);
  const some = modelIds.length > 0 && modelIds.length <= ANALYZE_HEALTH_MAX_MODEL_IDS;
  const models = some ? createHash('sha256').update(modelIds.join(',')).digest('hex').slice(0, 16) : 'all';
  return requestDebounced(queue, {
    kind: 'analyze.health',
    payload: some ? { modelIds } : {},
    reason,
    scope: [`models-${models}`],
    windowMs: options.windowMs ?? HEALTH_ANALYSIS_DEBOUNCE_MS,
    now: options.now ?? Date.now(),
  });
}
