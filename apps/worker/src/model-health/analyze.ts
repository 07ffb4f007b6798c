// One analyze.health run, batch by batch:
//
//   for each batch of active models (keyset by id, HEALTH_BATCH_MODELS at a time):
//     read   — the batch's observations in the baseline and recent windows (one query)
//     compute — PSI, z-scores and statuses in a pool thread (tasks/health-math.ts)
//     write  — the verdicts upserted, models without one removed (one transaction)
//     report — progress { batches, models, ok, warn, alert, unknown }
//     stop here if the job was cancelled (the signal is checked between batches)
//   land   — bump the 'health' cache family and stamp the run's rows with its version.
//
// Rows written before a cancellation stay (each is a complete verdict); the version is bumped
// only by a run that finishes, so readers invalidate once per run.
import type { Db } from '@offload/db';
import type { JsonObject } from '@offload/queue';
import type { TaskPool } from '../pool.ts';
import type { HealthAnalysisParams } from '../tasks/health-math.ts';
import { healthMathTask } from '../tasks/index.ts';
import { type HealthSettings, PSI_EPSILON } from './settings.ts';
import {
  activeModelsAmong,
  landHealthRun,
  nextActiveModels,
  readWindowObservations,
  writeVerdicts,
} from './store.ts';

const DAY_MS = 86_400_000;

export interface HealthRunOptions {
  db: Db;
  pool: TaskPool;
  settings: HealthSettings;
  signal: AbortSignal;
  progress(progress: JsonObject): Promise<void>;
  /** Only these models (the active ones among them); default every active model. */
  modelIds?: readonly number[];
  /** The end of the recent window. */
  asOf: Date;
  /** When the run writes its rows (default now). */
  now?: () => Date;
}

export interface HealthRunSummary {
  models: number;
  ok: number;
  warn: number;
  alert: number;
  unknown: number;
  batches: number;
  version: number;
}

export function windowParams(settings: HealthSettings, asOf: Date): HealthAnalysisParams {
  const recentStart = asOf.getTime() - settings.recentDays * DAY_MS;
  return {
    thresholds: settings.thresholds,
    bins: settings.bins,
    minBinPoints: settings.minBinPoints,
    epsilon: PSI_EPSILON,
    minBaselinePoints: settings.minBaselinePoints,
    baselineStart: new Date(recentStart - settings.baselineDays * DAY_MS).toISOString(),
    recentStart: new Date(recentStart).toISOString(),
    asOf: asOf.toISOString(),
  };
}

export async function runHealthAnalysis(options: HealthRunOptions): Promise<HealthRunSummary> {
  const { db, pool, settings, signal } = options;
  const now = options.now ?? (() => new Date());
  const params = windowParams(settings, options.asOf);
  const computedAt = now().toISOString();
  const summary: HealthRunSummary = {
    models: 0,
    ok: 0,
    warn: 0,
    alert: 0,
    unknown: 0,
    batches: 0,
    version: 0,
  };

  // The next batch is read while the pool computes this one and its verdicts are written, so
  // the database and the thread overlap; a read left over by a cancellation is simply dropped.
  const batches = modelBatches(db, settings.batchModels, options.modelIds);
  const readNext = async () => {
    const next = await batches.next();
    if (next.done === true) return null;
    const ids = next.value;
    return { ids, observations: await readWindowObservations(db, ids, params.baselineStart, params.asOf) };
  };
  let pending = readNext();
  try {
    for (;;) {
      signal.throwIfAborted();
      const batch = await pending;
      if (batch === null) break;
      pending = readNext();
      const { ids, observations } = batch;
      const verdicts = await pool.run(healthMathTask, { params, modelIds: ids, observations }, { signal });
      signal.throwIfAborted();
      await writeVerdicts(db, verdicts, computedAt);
      summary.batches += 1;
      summary.models += ids.length;
      for (const verdict of verdicts) summary[verdict.status ?? 'unknown'] += 1;
      const { version: _version, ...counts } = summary;
      await options.progress({ step: 'analysing', ...counts });
    }
  } finally {
    pending.catch(() => undefined);
  }

  signal.throwIfAborted();
  summary.version = await landHealthRun(db, computedAt, now().toISOString());
  return summary;
}

/**
 * The run's batches of active model ids: every active model by keyset, or the given ids cut
 * into batches (sorted, without repeats) and filtered to the active ones; one query a batch.
 */
async function* modelBatches(
  db: Db,
  batchModels: number,
  modelIds: readonly number[] | undefined,
): AsyncGenerator<number[]> {
  if (modelIds !== undefined) {
    const sorted = [...new Set(modelIds)].sort((a, b) => a - b);
    for (let i = 0; i < sorted.length; i += batchModels) {
      const ids = await activeModelsAmong(db, sorted.slice(i, i + batchModels));
      if (ids.length > 0) yield ids;
    }
    return;
  }
  let afterId = 0;
  for (;;) {
    const { ids, more } = await nextActiveModels(db, afterId, batchModels);
    if (ids.length > 0) yield ids;
    if (!more) return;
    afterId = ids[ids.length - 1]!;
  }
}
