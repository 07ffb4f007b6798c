// rebuild.kpi: recomputes every KPI snapshot as of the payload's date (default today, UTC, when
// the job runs) and lands them with a new 'kpi' cache version. The rebuild is a fixed handful of
// set-based statements (@offload/db/reports) in a read step and a write step; the signal is
// checked before each, and once the write transaction begins it lands or rolls back as a whole.
import { rebuildKpiSnapshots } from '@offload/db/reports';
import type { RebuildKpiPayload } from '@offload/jobs';
import type { Json } from '@offload/queue';
import type { HandlerContext } from './handler.ts';

export async function rebuildKpi(context: HandlerContext<RebuildKpiPayload>): Promise<Json> {
  const { payload, signal, progress, db, logger } = context;
  const started = performance.now();
  signal.throwIfAborted();
  await progress({ stage: 'rebuilding', asOf: payload.asOf ?? null });
  const result = await rebuildKpiSnapshots(db, { asOf: payload.asOf, signal });
  const durationMs = Math.round(performance.now() - started);
  logger.info({ ...result, durationMs }, 'KPI snapshots rebuilt');
  return {
    asOf: result.asOf,
    version: result.version,
    snapshots: result.snapshots,
    activeModels: result.activeModels,
    durationMs,
  };
}
