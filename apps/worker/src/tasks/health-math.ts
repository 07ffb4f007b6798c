// analyze.health's CPU-bound step, run in a pool thread: one batch of models' observations in,
// one health verdict per model out. The main thread reads the rows and writes the verdicts; all
// the grouping and arithmetic happens here (see ../model-health/math.ts for the formulas).
//
// Observations arrive columnar (four parallel arrays) to keep the structured clone cheap, sorted
// by model, metric and time. A metric is analysed when its baseline has at least
// `minBaselinePoints` points and its recent window at least one; a model none of whose metrics
// qualifies gets status null (unknown) and the caller removes its health row.
//
// PSI compares shares of bins, which a handful of recent points cannot fill: with 8 weekly
// points in 10 bins most bins are empty and the index is large whatever the data. So the bins
// are reduced until each expects at least `minBinPoints` recent points, and with fewer than two
// bins left the PSI is not computed (null) and the z-score alone decides.
import {
  classify,
  type HealthStatus,
  type HealthThresholds,
  populationStabilityIndex,
  worstStatus,
  zScore,
} from '../model-health/math.ts';

export interface HealthAnalysisParams {
  thresholds: HealthThresholds;
  bins: number;
  /** Fewer bins than `bins` when the recent window is small: at least this many points a bin. */
  minBinPoints: number;
  epsilon: number;
  minBaselinePoints: number;
  /** Window bounds, ISO-8601 instants: baseline (baselineStart, recentStart], recent (recentStart, asOf]. */
  baselineStart: string;
  recentStart: string;
  asOf: string;
}

export interface ObservationColumns {
  modelId: number[];
  metric: string[];
  /** Epoch milliseconds. */
  observedMs: number[];
  value: number[];
}

export interface HealthBatchInput {
  params: HealthAnalysisParams;
  modelIds: number[];
  observations: ObservationColumns;
}

/** What GET /v1/models/:id shows of one metric. */
export interface MetricHealthView {
  status: HealthStatus;
  /** null: too few recent points to bin (see the header). */
  psi: number | null;
  z: number;
  latest: { value: number; observedAt: string };
}

export interface MetricHealthDetails {
  baselinePoints: number;
  recentPoints: number;
  mean: number;
  sd: number;
  /** Bins used for the PSI (0 when it was not computed). */
  bins: number;
  edges: number[];
  baselineShares: number[];
  recentShares: number[];
}

export interface ModelHealthVerdict {
  modelId: number;
  /** null: no metric had enough data; the model's health is unknown. */
  status: HealthStatus | null;
  payload: { status: HealthStatus | null; metrics: Record<string, MetricHealthView> };
  details: {
    windows: { baseline: { from: string; to: string }; recent: { from: string; to: string } };
    bins: number;
    epsilon: number;
    metrics: Record<string, MetricHealthDetails>;
    /** Metrics left out and why (too few points in a window). */
    skipped: Record<string, string>;
  };
}

export default function analyzeHealthBatch(input: HealthBatchInput): ModelHealthVerdict[] {
  const { params, modelIds, observations } = input;
  const recentStartMs = Date.parse(params.recentStart);
  const verdicts = new Map<number, ModelHealthVerdict>();
  for (const modelId of modelIds) verdicts.set(modelId, emptyVerdict(modelId, params));

  const n = observations.modelId.length;
  let start = 0;
  while (start < n) {
    const modelId = observations.modelId[start]!;
    const metric = observations.metric[start]!;
    let end = start;
    const baseline: number[] = [];
    const recent: number[] = [];
    while (end < n && observations.modelId[end] === modelId && observations.metric[end] === metric) {
      const value = observations.value[end]!;
      if (observations.observedMs[end]! > recentStartMs) recent.push(value);
      else baseline.push(value);
      end += 1;
    }
    const verdict = verdicts.get(modelId);
    if (verdict !== undefined) {
      const latest = {
        value: observations.value[end - 1]!,
        observedAt: new Date(observations.observedMs[end - 1]!).toISOString(),
      };
      analyseMetric(verdict, metric, baseline, recent, latest, params);
    }
    start = end;
  }

  for (const verdict of verdicts.values()) {
    const statuses = Object.values(verdict.payload.metrics).map((metric) => metric.status);
    verdict.status = statuses.length === 0 ? null : worstStatus(statuses);
    verdict.payload.status = verdict.status;
  }
  return [...verdicts.values()];
}

function analyseMetric(
  verdict: ModelHealthVerdict,
  metric: string,
  baseline: number[],
  recent: number[],
  latest: { value: number; observedAt: string },
  params: HealthAnalysisParams,
): void {
  const minBaseline = Math.max(2, params.minBaselinePoints);
  if (baseline.length < minBaseline || recent.length === 0) {
    verdict.details.skipped[metric] =
      `${baseline.length} baseline point(s) (at least ${minBaseline} needed) and ${recent.length} recent point(s) (at least 1 needed)`;
    return;
  }
  const bins = Math.min(params.bins, Math.floor(recent.length / Math.max(1, params.minBinPoints)));
  const binned =
    bins >= 2
      ? populationStabilityIndex(baseline, recent, bins, params.epsilon)
      : { psi: null, edges: [], baselineShares: [], recentShares: [] };
  const { z, mean, sd } = zScore(baseline, latest.value);
  const { psi, edges, baselineShares, recentShares } = binned;
  verdict.payload.metrics[metric] = { status: classify(psi, z, params.thresholds), psi, z, latest };
  verdict.details.metrics[metric] = {
    baselinePoints: baseline.length,
    recentPoints: recent.length,
    mean,
    sd,
    bins: bins >= 2 ? bins : 0,
    edges,
    baselineShares,
    recentShares,
  };
}

function emptyVerdict(modelId: number, params: HealthAnalysisParams): ModelHealthVerdict {
  return {
    modelId,
    status: null,
    payload: { status: null, metrics: {} },
    details: {
      windows: {
        baseline: { from: params.baselineStart, to: params.recentStart },
        recent: { from: params.recentStart, to: params.asOf },
      },
      bins: params.bins,
      epsilon: params.epsilon,
      metrics: {},
      skipped: {},
    },
  };
}
