// Cache lookups as Prometheus counts them: per family and result, each read counted once under
// one of three results. The cache keeps plain numbers (no prom-client here); each app registers
// the counter on its own registry and reads these at scrape time.
import type { ReadCacheStats } from './read-cache.ts';

export const CACHE_LOOKUP_RESULTS = ['hit', 'miss', 'stale'] as const;
export type CacheLookupResult = (typeof CACHE_LOOKUP_RESULTS)[number];

export interface CacheLookupCount {
  family: string;
  result: CacheLookupResult;
  count: number;
}

/** hit: a fresh L1 entry; stale: an L1 entry of an older version (reloaded); miss: no entry. */
export function cacheLookupCounts(stats: ReadCacheStats): CacheLookupCount[] {
  return stats.families.flatMap((f) => [
    { family: f.family, result: 'hit' as const, count: f.hits },
    { family: f.family, result: 'miss' as const, count: f.misses - f.stale },
    { family: f.family, result: 'stale' as const, count: f.stale },
  ]);
}
