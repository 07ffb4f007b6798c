// @offload/cache: the two-tier read cache (L1 node-cache per process, L2 the cache tables a
// loader reads) with cross-process invalidation by cache family version. Knows no domain.
export { CACHE_LISTENER_APPLICATION_NAME, CacheListener, type CacheListenerOptions } from './listener.ts';
export {
  CACHE_LOOKUP_RESULTS,
  type CacheLookupCount,
  type CacheLookupResult,
  cacheLookupCounts,
} from './lookups.ts';
export {
  type CacheFamilyOptions,
  type CacheFamilyStats,
  ReadCache,
  type ReadCacheOptions,
  type ReadCacheStats,
  UnknownCacheFamilyError,
} from './read-cache.ts';
