// The cache hit ratio the load report prints per family and fails under 0.8.
import { describe, expect, it } from 'vitest';
import { cacheTable, lowHitRatios, parseCacheLookups } from '../src/cache-ratio.ts';

const metrics = `# HELP offload_cache_lookups_total Read cache lookups, by family and result.
# TYPE offload_cache_lookups_total counter
offload_cache_lookups_total{family="kpi",result="hit"} 950
offload_cache_lookups_total{family="kpi",result="miss"} 30
offload_cache_lookups_total{family="kpi",result="stale"} 20
offload_cache_lookups_total{family="models",result="hit"} 70
offload_cache_lookups_total{family="models",result="miss"} 25
offload_cache_lookups_total{family="models",result="stale"} 5
offload_cache_lookups_total{family="health",result="hit"} 1
offload_cache_lookups_total{family="health",result="miss"} 3
offload_cache_lookups_total{family="health",result="stale"} 0
offload_cache_lookups_total{family="attestations",result="hit"} 0
offload_cache_lookups_total{family="attestations",result="miss"} 0
offload_cache_lookups_total{family="attestations",result="stale"} 0
offload_api_rate_limited_requests_total 0
`;

describe('cache hit ratio per family', () => {
  const lookups = parseCacheLookups(metrics);

  it('reads the counter per family and result', () => {
    expect(lookups).toEqual([
      { family: 'kpi', hit: 950, miss: 30, stale: 20, ratio: 0.95, judged: true },
      { family: 'models', hit: 70, miss: 25, stale: 5, ratio: 0.7, judged: true },
      { family: 'health', hit: 1, miss: 3, stale: 0, ratio: 0.25, judged: false },
      { family: 'attestations', hit: 0, miss: 0, stale: 0, ratio: null, judged: false },
    ]);
  });

  it('fails the families under 0.8, and does not judge a family read fewer than 50 times', () => {
    expect(lowHitRatios(lookups).map((f) => f.family)).toEqual(['models']);
    expect(lowHitRatios(parseCacheLookups(''))).toEqual([]);
  });

  it('prints a table with the ratio per family', () => {
    expect(cacheTable(lookups).split('\n')).toEqual([
      '| family | hit | miss | stale | hit ratio |',
      '|---|---:|---:|---:|---:|',
      '| kpi | 950 | 30 | 20 | 0.950 |',
      '| models | 70 | 25 | 5 | 0.700 |',
      '| health | 1 | 3 | 0 | 0.250 (under 50 lookups: not judged) |',
      '| attestations | 0 | 0 | 0 | not read |',
    ]);
  });
});
