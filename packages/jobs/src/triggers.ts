// Follow-up work one job asks for when it lands: an import or an analyzer run changes what the
// KPI snapshots would say, so it requests a KPI rebuild. Requests are debounced: every request
// inside one window maps to the same job (the queue's idempotency key), which runs when the
// window closes, so a burst of imports costs one rebuild, not one each.

/** What a trigger needs from the queue: its producer's send (structural, so no queue import). */
export interface JobSender {
  send(
    kind: string,
    payload: Record<string, unknown>,
    options: { runAt?: string; idempotencyKey?: string; meta?: Record<string, string> },
  ): Promise<{ job: { id: string }; created: boolean }>;
}

export const KPI_REBUILD_DEBOUNCE_MS = 30_000;

export interface DebouncedRequest {
  /** The rebuild job that will run at the end of the window (new or already waiting). */
  jobId: string;
  /** False when an earlier request in the same window already created it. */
  created: boolean;
  runAt: string;
}

/**
 * Requests a `rebuild.kpi` for today at the end of the current debounce window. `reason` is
 * recorded in the job's meta (e.g. `import.csv:<jobId>`).
 */
export async function requestKpiRebuild(
  queue: JobSender,
  reason: string,
  options: { windowMs?: number; now?: number } = {},
): Promise<DebouncedRequest> {
  const windowMs = options.windowMs ?? KPI_REBUILD_DEBOUNCE_MS;
  const now = options.now ?? Date.now();
  const windowEnd = (Math.floor(now / windowMs) + 1) * windowMs;
  const runAt = new Date(windowEnd).toISOString();
  const { job, created } = await queue.send(
    'rebuild.kpi',
    {},
    { runAt, idempotencyKey: `debounce:${runAt}`, meta: { reason } },
  );
  return { jobId: job.id, created, runAt };
}
