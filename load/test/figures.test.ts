// Reading Artillery's output, the baseline comparison and the memory summary: the arithmetic
// the pass/fail verdict of a run rests on.
import { describe, expect, it } from 'vitest';
import { figuresOf } from '../src/artillery.ts';
import { summarise } from '../src/memory.ts';
import { compareToBaseline, endpointTable, incomparable, ratiosOf } from '../src/report.ts';

const output = {
  aggregate: {
    firstMetricAt: 1_000_000,
    lastMetricAt: 1_060_000,
    counters: {
      'http.responses': 3000,
      'vusers.created': 1200,
      'vusers.failed': 2,
      'http.codes.200': 2900,
      'http.codes.202': 98,
      'http.codes.500': 2,
      'errors.Failed expectations for request POST /v1/jobs': 2,
    },
    summaries: {
      'http.response_time': { count: 3000, median: 2, p95: 20, p99: 40, max: 90 },
      'plugins.metrics-by-endpoint.response_time.GET /healthz': {
        count: 100,
        median: 1,
        p95: 4,
        p99: 8,
        max: 9,
      },
      'plugins.metrics-by-endpoint.response_time.GET /v1/jobs': {
        count: 900,
        median: 3,
        p95: 12.04,
        p99: 30,
        max: 50,
      },
      'offload.sse.first_byte': { count: 50, median: 2, p95: 6, p99: 7, max: 8 },
      'vusers.session_length': { count: 1200, median: 10, p95: 50, p99: 90, max: 99 },
    },
  },
};

describe('figuresOf', () => {
  it('counts requests per user over the settled periods, leaving out the first and the last', () => {
    let at = 1_000_000;
    const period = (users: number, responses: number) => {
      at += 10_000;
      return { period: at, counters: { 'vusers.created': users, 'http.responses': responses } };
    };
    const settled = figuresOf({
      ...output,
      intermediate: [period(10, 10), period(10, 300), period(10, 300), period(0, 40)],
    });
    expect(settled.requestsPerUser).toBe(30);
    expect(settled.settledRate).toBe(30); // 600 responses over the 20 s of the middle periods
    // Too short to have settled periods: the whole run.
    const short = figuresOf({ ...output, intermediate: [period(10, 10), period(0, 40)] });
    expect(short.requestsPerUser).toBe(2.5);
    expect(short.settledRate).toBe(50);
  });

  const figures = figuresOf(output);

  it('reads the rate over the metrics window, the errors and the status codes', () => {
    expect(figures.durationS).toBe(60);
    expect(figures.requests).toBe(3000);
    expect(figures.requestRate).toBe(50);
    expect(figures.vusersFailed).toBe(2);
    expect(figures.errors).toEqual({ 'Failed expectations for request POST /v1/jobs': 2 });
    expect(figures.codes).toEqual({ '200': 2900, '202': 98, '500': 2 });
  });

  it("keeps per-endpoint and offload.* summaries, not Artillery's other ones", () => {
    expect(Object.keys(figures.endpoints).sort()).toEqual([
      'GET /healthz',
      'GET /v1/jobs',
      'offload.sse.first_byte',
    ]);
    expect(figures.endpoints['GET /v1/jobs']).toEqual({ count: 900, p50: 3, p95: 12, p99: 30, max: 50 });
    expect(figures.overall.p99).toBe(40);
  });

  it('gives each endpoint its p95 as a multiple of the reference', () => {
    const ratios = ratiosOf({ exitCode: 0, ...figures });
    expect(ratios).toEqual({ 'GET /healthz': 1, 'GET /v1/jobs': 3, 'offload.sse.first_byte': 1.5 });
    expect(endpointTable(figures.endpoints, { 'GET /v1/jobs': { p95: 300, p99: 600 } })).toContain(
      '| GET /v1/jobs | 900 | 3 | 12 | 30 | 50 | 3.00 | 300 / 600 |',
    );
  });
});

describe('compareToBaseline', () => {
  const entry = {
    measuredAt: '2026-12-04T00:00:00Z',
    commit: 'abc',
    ratios: { 'GET /v1/jobs': 8, 'GET /v1/kpi': 1 },
  };

  it('passes within the tolerance and fails beyond it', () => {
    expect(compareToBaseline(entry, { 'GET /v1/jobs': 11.9, 'GET /v1/kpi': 1 })).toEqual([]);
    expect(compareToBaseline(entry, { 'GET /v1/jobs': 12.1, 'GET /v1/kpi': 1 })).toEqual([
      { endpoint: 'GET /v1/jobs', baseline: 8, now: 12.1 },
    ]);
  });

  it('ignores moves of up to three reference units (millisecond rounding), and endpoints not measured', () => {
    expect(compareToBaseline(entry, { 'GET /v1/kpi': 3 })).toEqual([]);
    expect(compareToBaseline(entry, { 'GET /v1/kpi': 4 })).toEqual([]);
    expect(compareToBaseline(entry, { 'GET /v1/kpi': 4.1 })).toEqual([
      { endpoint: 'GET /v1/kpi', baseline: 1, now: 4.1 },
    ]);
    expect(compareToBaseline(undefined, { 'GET /v1/kpi': 50 })).toEqual([]);
  });
});

describe('incomparable', () => {
  const entry = { measuredAt: '', commit: 'abc', referenceP95: 2, ratios: {} };

  it('compares runs whose references are within 3× of each other, and names the gap otherwise', () => {
    expect(incomparable(entry, 5)).toBeUndefined();
    expect(incomparable(entry, 0.8)).toBeUndefined();
    expect(incomparable(entry, 7)).toMatch(/7 ms here and was 2 ms/);
    expect(incomparable(undefined, 2)).toBe('no baseline entry');
    expect(incomparable({ ...entry, referenceP95: undefined }, 50)).toBeUndefined();
  });
});

describe('summarise (memory)', () => {
  it('shows steady memory as no growth, and a leak as its slope', () => {
    const flat = Array.from({ length: 60 }, (_, i) => ({ atMs: i * 2000, mb: 150 + (i % 2) }));
    const leak = Array.from({ length: 60 }, (_, i) => ({ atMs: i * 2000, mb: 150 + i * 0.5 }));
    expect(Math.abs(summarise(flat).growthMbPerMinute)).toBeLessThan(0.1);
    expect(summarise(flat).steadyMb).toBeGreaterThanOrEqual(150);
    const leaking = summarise(leak);
    expect(leaking.growthMbPerMinute).toBeCloseTo(15, 5); // 0.5 MB every 2 s
    expect(leaking.peakMb).toBe(179.5);
    expect(leaking.startMb).toBe(150);
    expect(summarise([]).samples).toBe(0);
  });
});
