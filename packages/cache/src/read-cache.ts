// The two-tier read cache. L1 is a node-cache per family in this process; L2 is whatever the
// caller's loader reads (the cache tables the worker's rebuilds write). The cache knows nothing
// of the domain: the caller names the families and passes a loader with each read.
//
// A read of (family, key):
//   1. freshness: the family's current version must be known. On PostgreSQL a LISTEN on
//      CACHE_CHANNEL tells every process as soon as a rebuild commits; on SQLite (or while the
//      listener is reconnecting) the process re-reads cache_versions at most once per
//      `versionCheckMs`, so a rebuild by another process is seen within that time. A family
//      whose version moved has its L1 entries dropped (one invalidation in the stats).
//   2. hit: an L1 entry loaded under the current version and younger than the family's TTL.
//      A read of a key whose entry was dropped because its family's version moved (a rebuild)
//      is `stale`; with no entry before either it is a plain `miss`. Both load.
//   3. miss: one load per key at a time: concurrent misses share the load in flight. The value
//      is stored under the version current when the load started, so a rebuild landing during
//      the load makes the entry stale at once rather than serving old rows for a whole TTL.
// A TTL of 0 turns L1 off for the family (every read loads, still one load in flight per key).
import { bumpCacheVersion, type Db, readCacheVersions } from '@offload/db';
import NodeCache from 'node-cache';
import { CacheListener } from './listener.ts';

export interface CacheFamilyOptions {
  name: string;
  /** L1 lifetime of an entry; 0 = no L1 for this family. */
  ttlSeconds: number;
  /** L1 entries at most (further loads are served but not kept). Default 10,000. */
  maxKeys?: number;
  /**
   * Families this one is derived from: when one of them moves, this one is dropped too (a
   * composed view, or rows that embed another family's data).
   */
  dependsOn?: readonly string[];
}

export interface ReadCacheOptions {
  db: Db;
  families: readonly CacheFamilyOptions[];
  /** How often versions are re-read when no LISTEN connection is up (SQLite always). Default 250 ms. */
  versionCheckMs?: number;
  /** PostgreSQL only: where to LISTEN; default the Db's own connection string. */
  listenConnectionString?: string;
  /** PostgreSQL only: false = never LISTEN, compare versions as on SQLite. Default true. */
  listen?: boolean;
  /** Told about listener losses and failed version checks; the cache keeps serving. */
  onError?: (error: unknown, context: string) => void;
  now?: () => number;
}

export interface CacheFamilyStats {
  family: string;
  ttlSeconds: number;
  /** The family's version as this process last saw it (0: never rebuilt). */
  version: number;
  hits: number;
  /** Reads that had to load, `stale` ones included. */
  misses: number;
  /** Of the misses, those of a key whose entry a version change dropped. */
  stale: number;
  /** hits / (hits + misses); null before the first read. */
  hitRate: number | null;
  /** Entries in L1 now. */
  keys: number;
  /** Loader calls (a load shared by concurrent misses counts once). */
  loads: number;
  loadErrors: number;
  /** Times the family's L1 was dropped because its version moved or it was invalidated. */
  invalidations: number;
}

export interface ReadCacheStats {
  /** `listen` (PostgreSQL LISTEN up), `poll` (version checks) or `off` (not started). */
  invalidation: 'listen' | 'poll' | 'off';
  versionCheckMs: number;
  /** PostgreSQL: times the LISTEN connection was re-established after a loss. */
  listenerReconnects: number;
  families: CacheFamilyStats[];
}

/** A family the cache was not configured with. */
export class UnknownCacheFamilyError extends Error {
  readonly family: string;
  constructor(family: string, known: readonly string[]) {
    super(`unknown cache family ${JSON.stringify(family)}; known: ${known.join(', ')}`);
    this.name = 'UnknownCacheFamilyError';
    this.family = family;
  }
}

interface Entry {
  version: number;
  value: unknown;
}

interface Family {
  name: string;
  /** Families derived from this one (the inverse of dependsOn). */
  dependents: Family[];
  ttlSeconds: number;
  l1: NodeCache | null;
  version: number;
  /** Bumped whenever L1 is dropped, so a load that started before cannot store after. */
  generation: number;
  inflight: Map<string, Promise<unknown>>;
  hits: number;
  misses: number;
  stale: number;
  /** Keys whose entries a drop removed, not read since (at most twice maxKeys). */
  dropped: Set<string>;
  loads: number;
  loadErrors: number;
  invalidations: number;
}

const DEFAULT_MAX_KEYS = 10_000;
const FAMILY_NAME = /^[a-z][a-z0-9_]*$/;

export class ReadCache {
  readonly #db: Db;
  readonly #families = new Map<string, Family>();
  readonly #versionCheckMs: number;
  readonly #now: () => number;
  readonly #onError: (error: unknown, context: string) => void;
  readonly #listener: CacheListener | undefined;
  #started = false;
  #lastCheck = Number.NEGATIVE_INFINITY;
  /** The first version check only learns where families stand: nothing was cached before it. */
  #primed = false;
  #checking: Promise<void> | undefined;

  constructor(options: ReadCacheOptions) {
    this.#db = options.db;
    this.#versionCheckMs = options.versionCheckMs ?? 250;
    if (!Number.isInteger(this.#versionCheckMs) || this.#versionCheckMs < 0) {
      throw new RangeError(`versionCheckMs must be an integer ≥ 0, got ${options.versionCheckMs}`);
    }
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? (() => {});
    for (const family of options.families) {
      if (!FAMILY_NAME.test(family.name)) {
        throw new RangeError(
          `cache family name must match ${FAMILY_NAME}, got ${JSON.stringify(family.name)}`,
        );
      }
      if (this.#families.has(family.name)) throw new RangeError(`cache family ${family.name} given twice`);
      if (!Number.isInteger(family.ttlSeconds) || family.ttlSeconds < 0) {
        throw new RangeError(`ttlSeconds of cache family ${family.name} must be an integer ≥ 0`);
      }
      this.#families.set(family.name, {
        name: family.name,
        dependents: [],
        ttlSeconds: family.ttlSeconds,
        l1:
          family.ttlSeconds === 0
            ? null
            : new NodeCache({
                stdTTL: family.ttlSeconds,
                checkperiod: Math.max(1, Math.min(60, family.ttlSeconds)),
                useClones: false,
                maxKeys: family.maxKeys ?? DEFAULT_MAX_KEYS,
              }),
        version: 0,
        generation: 0,
        inflight: new Map(),
        hits: 0,
        misses: 0,
        stale: 0,
        dropped: new Set(),
        loads: 0,
        loadErrors: 0,
        invalidations: 0,
      });
    }
    for (const family of options.families) {
      for (const source of family.dependsOn ?? []) {
        const from = this.#families.get(source);
        if (from === undefined || source === family.name) {
          throw new RangeError(
            `cache family ${family.name} depends on ${JSON.stringify(source)}, not another family`,
          );
        }
        from.dependents.push(this.#families.get(family.name)!);
      }
    }
    if (this.#db.dialect === 'postgres' && options.listen !== false) {
      const connectionString = options.listenConnectionString ?? connectionStringOf(this.#db);
      this.#listener = new CacheListener({
        connectionString,
        onNotification: (family, version) => this.#observe(family, version),
        // Whatever was sent while no one listened is in cache_versions.
        onConnected: () => this.#checkVersions(true).catch((e) => this.#onError(e, 'version check')),
        onDisconnected: (error) => this.#onError(error, 'cache listener lost; reconnecting'),
      });
    }
  }

  /** The family names, as configured. */
  get families(): string[] {
    return [...this.#families.keys()];
  }

  /**
   * Reads the current versions and, on PostgreSQL, starts listening. A listener that cannot
   * connect does not fail the start: the cache compares versions until it connects.
   */
  async start(): Promise<void> {
    this.#started = true;
    await this.#checkVersions(true);
    if (this.#listener !== undefined) {
      await this.#listener.start().catch((error: unknown) => this.#onError(error, 'cache listener start'));
    }
  }

  async close(): Promise<void> {
    this.#started = false;
    await this.#listener?.stop();
    for (const family of this.#families.values()) family.l1?.close();
  }

  /**
   * The value of `key` in `family` when L1 holds it fresh and no version check is due; else
   * undefined, and the caller goes through `get` (which checks, loads, counts the miss). Not
   * counted: a caller that answers with the value says so with `countHit` (one that does not,
   * and goes through `get` after all, is counted there once). Synchronous, for the hot reads'
   * short path: no promise, no await.
   */
  peek<T>(familyName: string, key: string): T | undefined {
    const family = this.#family(familyName);
    if (family.l1 === null || this.#mustCheck()) return undefined;
    const entry = family.l1.get<Entry>(key);
    if (entry === undefined || entry.version !== family.version) return undefined;
    return entry.value as T;
  }

  /** Counts a hit of `family` whose value a caller answered with after `peek`. */
  countHit(familyName: string): void {
    this.#family(familyName).hits += 1;
  }

  /** The value of `key` in `family`: from L1 when fresh, else from `load` (one load per key at a time). */
  async get<T>(familyName: string, key: string, load: () => Promise<T>): Promise<T> {
    const family = this.#family(familyName);
    if (family.l1 !== null && this.#mustCheck()) await this.#checkVersions(false);
    const entry = family.l1?.get<Entry>(key);
    if (entry !== undefined && entry.version === family.version) {
      family.hits += 1;
      return entry.value as T;
    }
    family.misses += 1;
    if (entry !== undefined || family.dropped.delete(key)) family.stale += 1;
    const running = family.inflight.get(key);
    if (running !== undefined) return running as Promise<T>;
    const version = family.version;
    const generation = family.generation;
    let loading: Promise<T> | undefined;
    loading = (async () => {
      try {
        // Deferred a tick, so a loader that throws synchronously still settles after `loading` is set.
        const value = await Promise.resolve().then(load);
        family.loads += 1;
        if (family.l1 !== null && family.generation === generation) {
          try {
            family.l1.set<Entry>(key, { version, value });
          } catch {
            // ECACHEFULL: serve it, do not keep it.
          }
        }
        return value;
      } catch (error) {
        family.loadErrors += 1;
        throw error;
      } finally {
        if (family.inflight.get(key) === loading) family.inflight.delete(key);
      }
    })();
    family.inflight.set(key, loading);
    return loading;
  }

  /**
   * Moves `family` (every family when none is given) to its next version in the database, so
   * every process drops it: at once on PostgreSQL (NOTIFY), within versionCheckMs on SQLite.
   * Returns the new versions.
   */
  async invalidate(familyName?: string): Promise<Record<string, number>> {
    const names = familyName === undefined ? this.families : [this.#family(familyName).name];
    const now = new Date(this.#now()).toISOString();
    const versions = await this.#db.knex.transaction(async (trx) => {
      const bumped: Record<string, number> = {};
      for (const name of names) bumped[name] = await bumpCacheVersion(trx, this.#db.dialect, name, now);
      return bumped;
    });
    for (const [name, version] of Object.entries(versions)) {
      // Our own bump always drops L1, even if its notification got here first.
      const family = this.#family(name);
      family.version = Math.max(family.version, version);
      this.#drop(family);
    }
    return versions;
  }

  stats(): ReadCacheStats {
    return {
      invalidation: !this.#started ? 'off' : this.#listener?.connected ? 'listen' : 'poll',
      versionCheckMs: this.#versionCheckMs,
      listenerReconnects: this.#listener?.reconnects ?? 0,
      families: [...this.#families.values()].map((f) => {
        const reads = f.hits + f.misses;
        return {
          family: f.name,
          ttlSeconds: f.ttlSeconds,
          version: f.version,
          hits: f.hits,
          misses: f.misses,
          stale: f.stale,
          hitRate: reads === 0 ? null : f.hits / reads,
          keys: f.l1?.keys().length ?? 0,
          loads: f.loads,
          loadErrors: f.loadErrors,
          invalidations: f.invalidations,
        };
      }),
    };
  }

  #family(name: string): Family {
    const family = this.#families.get(name);
    if (family === undefined) throw new UnknownCacheFamilyError(name, this.families);
    return family;
  }

  #mustCheck(): boolean {
    if (this.#listener?.connected) return false;
    return this.#now() - this.#lastCheck >= this.#versionCheckMs;
  }

  /** Re-reads every family's version (one query; concurrent callers share it). */
  #checkVersions(force: boolean): Promise<void> {
    if (this.#checking !== undefined) return this.#checking;
    if (!force && !this.#mustCheck()) return Promise.resolve();
    const checking = (async () => {
      try {
        const versions = await readCacheVersions(this.#db.knex);
        this.#lastCheck = this.#now();
        for (const [name, version] of versions) this.#observe(name, version);
        this.#primed = true;
      } catch (error) {
        // Serving a possibly stale entry beats failing the read; the next read tries again.
        this.#onError(error, 'version check');
        if (!force) return;
        throw error;
      } finally {
        this.#checking = undefined;
      }
    })();
    this.#checking = checking;
    return checking;
  }

  /** A family is at `version` (from a notification, a version check or our own bump). */
  #observe(name: string, version: number): void {
    const family = this.#families.get(name);
    if (family === undefined || version <= family.version) return;
    family.version = version;
    // Before the first check nothing was cached: learn the version, count nothing.
    if (this.#primed) this.#drop(family);
  }

  #drop(family: Family, seen = new Set<Family>()): void {
    if (seen.has(family)) return;
    seen.add(family);
    family.invalidations += 1;
    family.generation += 1;
    // Keep the keys an earlier drop removed and nobody has read since: our own bump drops again
    // right behind its notification, and must not make those reads plain misses.
    const keys = family.l1?.keys() ?? [];
    const maxKeys = family.l1?.options.maxKeys ?? 0;
    if (family.dropped.size + keys.length > 2 * maxKeys) family.dropped = new Set();
    for (const key of keys) family.dropped.add(key);
    family.l1?.flushAll();
    // A load started under the old version must not be shared with readers of the new one.
    family.inflight.clear();
    for (const dependent of family.dependents) this.#drop(dependent, seen);
  }
}

function connectionStringOf(db: Db): string {
  const connection = (db.knex.client as { config?: { connection?: unknown } }).config?.connection;
  if (typeof connection === 'string') return connection;
  const value = (connection as { connectionString?: unknown } | undefined)?.connectionString;
  if (typeof value !== 'string') {
    throw new Error('the PostgreSQL Db has no connection string: pass listenConnectionString');
  }
  return value;
}
