// The health arithmetic against values worked out by hand: quantile edges, PSI with an empty
// bin, the z-score with the sample deviation, the thresholds at their boundaries, and one batch
// through the pool task's function (windows split by time, worst metric wins, unknown models).
import { describe, expect, it } from 'vitest';
import {
  binOf,
  binShares,
  classify,
  populationStabilityIndex,
  quantile,
  quantileEdges,
  worstStatus,
  zScore,
} from '../src/model-health/math.ts';
import analyzeHealthBatch, { type HealthAnalysisParams } from '../src/tasks/health-math.ts';

const thresholds = { psiWarn: 0.1, psiAlert: 0.25, zWarn: 2, zAlert: 3 };

describe('quantiles and bins', () => {
  it('interpolates between order statistics', () => {
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5.5);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8], 0.25)).toBe(2.75);
    expect(quantile([10], 0.9)).toBe(10);
  });

  it('cuts bins at the baseline quantiles, merging tied edges', () => {
    expect(quantileEdges([8, 1, 7, 2, 6, 3, 5, 4], 4)).toEqual([2.75, 4.5, 6.25]);
    expect(quantileEdges([3, 3, 3, 3], 10)).toEqual([3]);
  });

  it('puts a value on an edge in the lower bin', () => {
    const edges = [2.75, 4.5, 6.25];
    expect([1, 2.75, 3, 4.5, 6.25, 6.3, 100].map((v) => binOf(edges, v))).toEqual([0, 0, 1, 1, 2, 3, 3]);
    expect(binShares(edges, [1, 1, 3, 8])).toEqual([0.5, 0.25, 0, 0.25]);
  });
});

describe('population stability index', () => {
  it('is 0 when the recent shares match the baseline', () => {
    expect(populationStabilityIndex([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [2, 7], 2, 1e-4).psi).toBe(0);
  });

  it('counts an empty bin as epsilon (two bins, all recent points above the median)', () => {
    // edges [5.5]; baseline [0.5, 0.5]; recent [0, 1] → 0.0001:
    // (0.0001 − 0.5)·ln(0.0001/0.5) + (1 − 0.5)·ln(1/0.5) = 4.257744876 + 0.346573590 = 4.604318467
    const result = populationStabilityIndex([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [6, 7, 8, 9], 2, 1e-4);
    expect(result.edges).toEqual([5.5]);
    expect(result.baselineShares).toEqual([0.5, 0.5]);
    expect(result.recentShares).toEqual([0, 1]);
    expect(result.psi).toBeCloseTo(4.604318467, 8);
  });

  it('sums over four quartile bins', () => {
    // baseline quartiles [0.25 ×4]; recent [0.5, 0.25, 0, 0.25]:
    // 0.25·ln 2 + (0.0001 − 0.25)·ln(0.0001/0.25) = 0.173286795 + 1.955229098 = 2.128515893
    const result = populationStabilityIndex([1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 3, 8], 4, 1e-4);
    expect(result.psi).toBeCloseTo(2.128515893, 8);
  });
});

describe('z-score', () => {
  it('uses the baseline mean and sample standard deviation', () => {
    // mean 5, Σ(x − 5)² = 32, sd = √(32/7) = 2.138089935, z = (9 − 5)/sd = 1.870828693
    const result = zScore([2, 4, 4, 4, 5, 5, 7, 9], 9);
    expect(result.mean).toBe(5);
    expect(result.sd).toBeCloseTo(2.138089935, 8);
    expect(result.z).toBeCloseTo(1.870828693, 8);
  });

  it('scores a constant baseline 0 for the same value and as far as can be for another', () => {
    expect(zScore([3, 3, 3], 3).z).toBe(0);
    expect(zScore([3, 3, 3], 2).z).toBe(-Number.MAX_VALUE);
  });

  it('needs two baseline points', () => {
    expect(() => zScore([1], 1)).toThrow(RangeError);
  });
});

describe('status', () => {
  it('is the worse of what PSI and |z| say, thresholds inclusive', () => {
    expect(classify(0.05, 1.9, thresholds)).toBe('ok');
    expect(classify(0.1, 0, thresholds)).toBe('warn');
    expect(classify(0.2, -2.5, thresholds)).toBe('warn');
    expect(classify(0.25, 0, thresholds)).toBe('alert');
    expect(classify(0, -3, thresholds)).toBe('alert');
  });

  it('a model takes its worst metric', () => {
    expect(worstStatus(['ok', 'alert', 'warn'])).toBe('alert');
    expect(worstStatus(['ok', 'ok'])).toBe('ok');
  });
});

describe('analyzeHealthBatch (the pool task)', () => {
  const params: HealthAnalysisParams = {
    thresholds,
    bins: 2,
    minBinPoints: 1,
    epsilon: 1e-4,
    minBaselinePoints: 3,
    baselineStart: '2026-01-01T00:00:00.000Z',
    recentStart: '2026-01-11T00:00:00.000Z',
    asOf: '2026-01-15T00:00:00.000Z',
  };
  const day = (d: number) => new Date(Date.UTC(2026, 0, d)).toISOString();

  it('splits series by window, scores each metric and gives unknown models a null status', () => {
    const rows: Array<[number, string, string, number]> = [];
    // Model 1: "a" stable (baseline 1..10 on days 2..11... recent 2 and 7), "b" shifted up.
    for (let d = 1; d <= 10; d += 1) rows.push([1, 'a', day(d + 1), d]);
    rows.push([1, 'a', day(12), 2], [1, 'a', day(13), 7]);
    for (let d = 1; d <= 10; d += 1) rows.push([1, 'b', day(d + 1), d]);
    rows.push([1, 'b', day(12), 6], [1, 'b', day(13), 7], [1, 'b', day(14), 8], [1, 'b', day(15), 9]);
    // Model 2: two baseline points only, below minBaselinePoints.
    rows.push([2, 'a', day(5), 1], [2, 'a', day(6), 2], [2, 'a', day(13), 3]);
    const observations = {
      modelId: rows.map((r) => r[0]),
      metric: rows.map((r) => r[1]),
      observedMs: rows.map((r) => Date.parse(r[2])),
      value: rows.map((r) => r[3]),
    };
    const [one, two, three] = analyzeHealthBatch({ params, modelIds: [1, 2, 3], observations });

    // Day 11 is the recent window's start, so it belongs to the baseline: 1..10.
    expect(one!.details.metrics.a).toMatchObject({ baselinePoints: 10, recentPoints: 2, edges: [5.5] });
    expect(one!.payload.metrics.a).toMatchObject({ status: 'ok', psi: 0 });
    expect(one!.payload.metrics.a!.latest).toEqual({ value: 7, observedAt: day(13) });
    // b: PSI 4.6043 as above; z of 9 against 1..10 = (9 − 5.5)/3.027650354 = 1.156...
    expect(one!.payload.metrics.b!.psi).toBeCloseTo(4.604318467, 8);
    expect(one!.payload.metrics.b!.z).toBeCloseTo(3.5 / 3.027650354, 8);
    expect(one!.payload.metrics.b!.status).toBe('alert');
    expect(one!.status).toBe('alert');
    expect(one!.payload.status).toBe('alert');
    expect(one!.details.windows).toEqual({
      baseline: { from: params.baselineStart, to: params.recentStart },
      recent: { from: params.recentStart, to: params.asOf },
    });

    expect(two!.status).toBeNull();
    expect(two!.details.skipped.a).toMatch(/2 baseline point\(s\)/);
    expect(three).toMatchObject({ modelId: 3, status: null, payload: { status: null, metrics: {} } });
  });

  it('bins no finer than the recent window can fill, and leaves the z-score alone to decide below two bins', () => {
    const baseline = Array.from({ length: 10 }, (_, i) => i + 1); // days 2…11, values 1…10
    const observations = {
      modelId: [...baseline.map(() => 1), 1, 1, 1, 1],
      metric: [...baseline.map(() => 'a'), 'a', 'a', 'a', 'a'],
      observedMs: [...baseline.map((_, i) => day(i + 2)), day(12), day(13), day(14), day(15)].map(Date.parse),
      value: [...baseline, 6, 7, 8, 9],
    };
    const run = (bins: number, minBinPoints: number) =>
      analyzeHealthBatch({ params: { ...params, bins, minBinPoints }, modelIds: [1], observations })[0]!;

    // Four recent points, at least two a bin: two bins, as in the hand-computed case above.
    const two = run(10, 2);
    expect(two.details.metrics.a).toMatchObject({ bins: 2, edges: [5.5] });
    expect(two.payload.metrics.a!.psi).toBeCloseTo(4.604318467, 8);
    expect(two.status).toBe('alert');

    // At least three a bin: one bin, no PSI; z = (9 − 5.5)/3.027650354 = 1.156 → ok.
    const none = run(10, 3);
    expect(none.payload.metrics.a).toMatchObject({ psi: null, status: 'ok' });
    expect(none.details.metrics.a).toMatchObject({ bins: 0, edges: [] });
  });
});
