// rebuild.compliance: recomputes the regional compliance report and lands it with a new
// 'compliance' cache version, in one transaction of a fixed number of statements
// (@offload/db/reports). The signal is checked before the read and again before the writes (an
// abort then rolls the transaction back), so a cancelled job lands nothing.
import { rebuildComplianceReport } from '@offload/db/reports';
import type { RebuildCompliancePayload } from '@offload/jobs';
import type { Json } from '@offload/queue';
import type { HandlerContext } from './handler.ts';

export async function rebuildCompliance(context: HandlerContext<RebuildCompliancePayload>): Promise<Json> {
  const { signal, progress, db, logger } = context;
  const started = performance.now();
  signal.throwIfAborted();
  await progress({ stage: 'rebuilding' });
  const result = await rebuildComplianceReport(db, { signal });
  const durationMs = Math.round(performance.now() - started);
  logger.info({ ...result, durationMs }, 'regional compliance report rebuilt');
  return { version: result.version, regions: result.regions, computedAt: result.computedAt, durationMs };
}
