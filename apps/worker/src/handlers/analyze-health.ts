// analyze.health: recomputes model health (see ../health/analyze.ts for the run, batch by
// batch), then asks for a debounced KPI rebuild, since the KPI snapshots count health statuses.
//
//   run ─► completed: { models, ok, warn, alert, unknown, batches, version, kpiRebuildJobId }
//       ─► cancelled / shutdown: stops between batches; verdicts already written stay, the
//          'health' version is not bumped (the next run lands them)
//       ─► a failed batch (database, pool task): the attempt fails and retries from the start
//          (every write is an upsert, so a repeated batch changes nothing)
import { type AnalyzeHealthPayload, type JobSender, requestKpiRebuild } from '@offload/jobs';
import type { Json } from '@offload/queue';
import { runHealthAnalysis } from '../model-health/analyze.ts';
import { DEFAULT_HEALTH_SETTINGS, type HealthSettings } from '../model-health/settings.ts';
import type { JobHandler } from './handler.ts';

export interface AnalyzeHealthServices {
  /** HEALTH_* configuration (health/settings.ts); the defaults when not given. */
  settings?: HealthSettings;
  /** Sends the follow-up rebuild.kpi (the worker's queue); without one none is requested. */
  sender?: JobSender;
  /** The clock, for tests; default the system's. */
  now?: () => Date;
}

export function analyzeHealthHandler(services: AnalyzeHealthServices = {}): JobHandler<AnalyzeHealthPayload> {
  const settings = services.settings ?? DEFAULT_HEALTH_SETTINGS;
  const now = services.now ?? (() => new Date());
  return async ({ job, payload, signal, progress, pool, db }): Promise<Json> => {
    const summary = await runHealthAnalysis({
      db,
      pool,
      settings,
      signal,
      progress,
      asOf: payload.asOf === undefined ? now() : new Date(payload.asOf),
      now,
      ...(payload.modelIds === undefined ? {} : { modelIds: payload.modelIds }),
    });
    const rebuild =
      services.sender === undefined
        ? null
        : await requestKpiRebuild(services.sender, `analyze.health:${job.id}`, { now: now().getTime() });
    return { ...summary, kpiRebuildJobId: rebuild?.jobId ?? null };
  };
}
