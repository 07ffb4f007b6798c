// The arithmetic of model health, as pure functions over plain numbers so that it can be
// checked against hand-computed values and run in a pool thread:
//   - bin edges at the baseline's quantiles (linear interpolation between order statistics),
//   - the population stability index of the recent window against those bins,
//     PSI = Σ (recent% − baseline%) · ln(recent% / baseline%), an empty bin counted as epsilon,
//   - the z-score of the latest point against the baseline's mean and sample deviation,
//   - the status those two give under the configured thresholds.

export const HEALTH_STATUSES = ['ok', 'warn', 'alert'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

export interface HealthThresholds {
  psiWarn: number;
  psiAlert: number;
  zWarn: number;
  zAlert: number;
}

/** The value at quantile `p` (0…1) of `sorted` (ascending), interpolating between neighbours. */
export function quantile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of an empty sample');
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * The interior cut points of `bins` equal-frequency bins of the baseline: at most bins − 1
 * ascending, distinct values (ties in the baseline merge bins rather than leave empty ones).
 */
export function quantileEdges(baseline: readonly number[], bins: number): number[] {
  const sorted = [...baseline].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let i = 1; i < bins; i += 1) {
    const edge = quantile(sorted, i / bins);
    if (edges.length === 0 || edge > edges[edges.length - 1]!) edges.push(edge);
  }
  return edges;
}

/** The bin of `value`: bin i holds (edges[i−1], edges[i]], the first and last bins are open. */
export function binOf(edges: readonly number[], value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (value <= edges[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The share of `values` in each of the edges.length + 1 bins. */
export function binShares(edges: readonly number[], values: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const value of values) counts[binOf(edges, value)]! += 1;
  return counts.map((count) => count / values.length);
}

/** PSI between two share vectors of the same bins; a zero share counts as `epsilon`. */
export function psiOfShares(baseline: readonly number[], recent: readonly number[], epsilon: number): number {
  let psi = 0;
  for (let i = 0; i < baseline.length; i += 1) {
    const b = Math.max(baseline[i]!, epsilon);
    const r = Math.max(recent[i]!, epsilon);
    psi += (r - b) * Math.log(r / b);
  }
  return psi;
}

export interface PsiResult {
  psi: number;
  edges: number[];
  baselineShares: number[];
  recentShares: number[];
}

export function populationStabilityIndex(
  baseline: readonly number[],
  recent: readonly number[],
  bins: number,
  epsilon: number,
): PsiResult {
  const edges = quantileEdges(baseline, bins);
  const baselineShares = binShares(edges, baseline);
  const recentShares = binShares(edges, recent);
  return { psi: psiOfShares(baselineShares, recentShares, epsilon), edges, baselineShares, recentShares };
}

export interface ZScoreResult {
  z: number;
  mean: number;
  sd: number;
}

/**
 * (latest − mean) / sd with the baseline's sample standard deviation (n − 1). A constant
 * baseline has sd 0: the same value scores 0, any other an infinite distance, reported as
 * ±Number.MAX_VALUE so that it stays JSON.
 */
export function zScore(baseline: readonly number[], latest: number): ZScoreResult {
  const n = baseline.length;
  if (n < 2) throw new RangeError('a z-score needs at least two baseline points');
  let sum = 0;
  for (const value of baseline) sum += value;
  const mean = sum / n;
  let squares = 0;
  for (const value of baseline) squares += (value - mean) ** 2;
  const sd = Math.sqrt(squares / (n - 1));
  const diff = latest - mean;
  if (sd === 0) return { z: diff === 0 ? 0 : Math.sign(diff) * Number.MAX_VALUE, mean, sd };
  return { z: diff / sd, mean, sd };
}

/** A metric's status: the worse of what its PSI (null: not computed) and its |z| say. */
export function classify(psi: number | null, z: number, thresholds: HealthThresholds): HealthStatus {
  const absZ = Math.abs(z);
  const p = psi ?? 0;
  if (p >= thresholds.psiAlert || absZ >= thresholds.zAlert) return 'alert';
  if (p >= thresholds.psiWarn || absZ >= thresholds.zWarn) return 'warn';
  return 'ok';
}

/** The worst of several statuses (a model's status is its worst metric's). */
export function worstStatus(statuses: Iterable<HealthStatus>): HealthStatus {
  let worst = 0;
  for (const status of statuses) worst = Math.max(worst, HEALTH_STATUSES.indexOf(status));
  return HEALTH_STATUSES[worst]!;
}
