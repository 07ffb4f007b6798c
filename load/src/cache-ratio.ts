// The read cache's hit ratio per family under the mix, read from the API's own counter
// (offload_cache_lookups_total{family, result} on /metrics) once the run is over: every lookup
// since the API started, the warm-up included, which is the mix at the same proportions. With
// several API processes the scrape reaches one of them, which served its share of the same mix.
// DESIGN.md §6 asks at least 0.8 per family. A family read fewer than MIN_LOOKUPS times is listed,
// not judged, since a ratio over a handful of lookups says nothing (the Prometheus alert has the
// same floor, as a rate): `health` is not read at all, it only drops the model details it shows.

export const MIN_HIT_RATIO = 0.8;
export const MIN_LOOKUPS = 50;

export interface FamilyLookups {
  family: string;
  hit: number;
  miss: number;
  stale: number;
  /** hit / (hit + miss + stale); null when the family was not read. */
  ratio: number | null;
  /** Whether it was read often enough (MIN_LOOKUPS) for its ratio to be judged. */
  judged: boolean;
}

const LOOKUP = /^offload_cache_lookups_total\{([^}]*)\}\s+(\S+)/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/** The lookups per family in a Prometheus text exposition, in the order families appear. */
export function parseCacheLookups(metricsText: string): FamilyLookups[] {
  const families = new Map<string, FamilyLookups>();
  for (const line of metricsText.split('\n')) {
    const match = LOOKUP.exec(line);
    if (match === null) continue;
    const labels = Object.fromEntries([...match[1]!.matchAll(LABEL)].map((m) => [m[1], m[2]]));
    const family = labels['family'];
    const result = labels['result'];
    if (family === undefined || (result !== 'hit' && result !== 'miss' && result !== 'stale')) continue;
    const entry = families.get(family) ?? { family, hit: 0, miss: 0, stale: 0, ratio: null, judged: false };
    entry[result] += Number(match[2]);
    families.set(family, entry);
  }
  return [...families.values()].map((f) => {
    const total = f.hit + f.miss + f.stale;
    return { ...f, ratio: total === 0 ? null : f.hit / total, judged: total >= MIN_LOOKUPS };
  });
}

/** Families read often enough by the mix whose hit ratio is under MIN_HIT_RATIO. */
export function lowHitRatios(lookups: readonly FamilyLookups[]): FamilyLookups[] {
  return lookups.filter((f) => f.judged && f.ratio !== null && f.ratio < MIN_HIT_RATIO);
}

export async function fetchCacheLookups(target: string): Promise<FamilyLookups[]> {
  const response = await fetch(`${target}/metrics`);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
  return parseCacheLookups(text);
}

export function cacheTable(lookups: readonly FamilyLookups[]): string {
  const rows = lookups.map(
    (f) =>
      `| ${f.family} | ${f.hit} | ${f.miss} | ${f.stale} | ${f.ratio === null ? 'not read' : f.ratio.toFixed(3)}${f.ratio !== null && !f.judged ? ` (under ${MIN_LOOKUPS} lookups: not judged)` : ''} |`,
  );
  return ['| family | hit | miss | stale | hit ratio |', '|---|---:|---:|---:|---:|', ...rows].join('\n');
}
