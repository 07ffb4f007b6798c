// Deterministic models CSV files for the benchmarks: the same size gives the same bytes on any
// machine. Rows point at the reference data the seed makes (regions, teams, tiers by code), and
// some names are quoted (a comma, an escaped quote) so the parsers do more than split lines.

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

export const MODEL_COLUMNS = 'external_id,name,region,team,risk_tier,owner_email,status';

// The codes the seed catalogue makes (packages/db/src/seed/catalog.ts): eight teams per region.
const REGIONS = ['NAM', 'LATAM', 'EMEA', 'UK', 'APAC'];
const FUNCTIONS = ['CRD', 'RET', 'MKT', 'FRD', 'AML', 'PRC', 'TRS', 'OPS'];
export const SEED_TEAMS: ReadonlyArray<{ team: string; region: string }> = REGIONS.flatMap((region) =>
  FUNCTIONS.map((fn) => ({ team: `${region}-${fn}`, region })),
);
export const SEED_TIERS = ['tier1', 'tier2', 'tier3', 'tier4'];

const PRODUCTS = ['Mortgage', 'Card', 'Auto loan', 'SME', 'Deposit', 'Trading book', 'Payments'];
const TYPES = ['PD scorecard', 'LGD model', 'Fraud detector', 'Pricing engine', 'Stress test'];

/** Mixes i into well-spread bits, so picks look random but are fixed by i. */
function mix(i: number): number {
  let x = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Row `i` (0-based) of the models file, ending with a line feed. */
export function modelLine(i: number, prefix = 'IMP'): string {
  const h = mix(i);
  const { team, region } = SEED_TEAMS[h % SEED_TEAMS.length]!;
  const tier = SEED_TIERS[(h >>> 8) % SEED_TIERS.length]!;
  const product = PRODUCTS[(h >>> 12) % PRODUCTS.length]!;
  const type = TYPES[(h >>> 16) % TYPES.length]!;
  let name = `${product} ${type} ${i}`;
  if (i % 10 === 3) name = `"${product}, ${type} ${i}"`;
  else if (i % 50 === 7) name = `"${product} ""${type}"" ${i}"`;
  const status = (h >>> 20) % 10 === 0 ? 'retired' : 'active';
  const owner = `owner.${(h >>> 4) % 997}@example.com`;
  return `${prefix}-${String(i).padStart(9, '0')},${name},${region},${team},${tier},${owner},${status}\n`;
}

export interface GeneratedFile {
  path: string;
  bytes: number;
  rows: number;
}

/**
 * Writes a models CSV of at least `targetBytes` (header included, LF line ends) to `path`,
 * streaming it in 1 MiB pieces.
 */
export async function generateModelsCsv(path: string, targetBytes: number): Promise<GeneratedFile> {
  const out = createWriteStream(path);
  let bytes = 0;
  let rows = 0;
  let piece = `${MODEL_COLUMNS}\n`;
  while (bytes + piece.length < targetBytes) {
    while (piece.length < 1 << 20 && bytes + piece.length < targetBytes) {
      piece += modelLine(rows);
      rows += 1;
    }
    bytes += Buffer.byteLength(piece);
    if (!out.write(piece)) await once(out, 'drain');
    piece = '';
  }
  out.end(piece);
  bytes += Buffer.byteLength(piece);
  await once(out, 'finish');
  return { path, bytes, rows };
}
