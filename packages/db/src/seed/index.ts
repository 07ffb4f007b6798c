// Fills a migrated database with a realistic, deterministic model-risk inventory: the same
// options give the same rows on SQLite and on PostgreSQL, on any machine, on any day (dates
// are laid out relative to a fixed anchor date, not to today).

import { type IsoDate, isIsoDate, toEpochDay } from '@offload/domain';
import type { Db } from '../knex.ts';
import type { SeedPlan } from './inventory.ts';
import { postgresTarget } from './postgres-target.ts';
import { sqliteTarget } from './sqlite-target.ts';
import { RESET_TABLES, SEED_TABLES } from './tables.ts';

export const DEFAULT_SEED = 42;
export const DEFAULT_ANCHOR: IsoDate = '2026-01-01';

export interface SeedOptions {
  /** How many models; the other tables scale with it (about 5 validations a model). */
  models: number;
  /** Same seed, same inventory. Default 42. */
  seed?: number;
  /** The date the inventory is "as of": histories end there. Default 2026-01-01. */
  anchor?: IsoDate;
  /** Empty the inventory (and the caches derived from it) first, instead of refusing. */
  reset?: boolean;
  /** Where progress lines go; default stderr, none when `quiet`. */
  log?: (line: string) => void;
  quiet?: boolean;
}

export interface SeedTableTiming {
  table: string;
  rows: number;
  ms: number;
}

export interface SeedReport {
  models: number;
  seed: number;
  anchor: IsoDate;
  tables: SeedTableTiming[];
  analyzeMs: number;
  totalRows: number;
  totalMs: number;
}

/** The database already holds an inventory and `reset` was not asked for. */
export class SeedRefusedError extends Error {
  constructor(tables: readonly string[]) {
    super(
      `the database already has data in ${tables.join(', ')}; pass --reset (reset: true) to empty ` +
        'the inventory before seeding',
    );
    this.name = 'SeedRefusedError';
  }
}

// Above this a single run would take hours on SQLite and is surely a typo.
const MAX_MODELS = 100_000_000;

function planOf(options: SeedOptions): SeedPlan & { anchor: IsoDate } {
  const { models, seed = DEFAULT_SEED, anchor = DEFAULT_ANCHOR } = options;
  if (!Number.isSafeInteger(models) || models < 1 || models > MAX_MODELS) {
    throw new RangeError(`models must be an integer from 1 to ${MAX_MODELS}, got ${models}`);
  }
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  if (!isIsoDate(anchor)) throw new RangeError(`anchor must be a date as YYYY-MM-DD, got ${anchor}`);
  return { models, seed, anchor, anchorDay: toEpochDay(anchor) };
}

// Rates of tables loaded in a blink are noise, not throughput.
const rate = (rows: number, ms: number): string =>
  ms >= 100 ? `${Math.round((rows * 1000) / ms).toLocaleString('en-US')} rows/s` : '';

function line(label: string, rows: number | null, ms: number): string {
  const count = rows === null ? '' : `${rows.toLocaleString('en-US')} rows`;
  return `  ${label.padEnd(20)} ${count.padStart(16)} ${(ms / 1000).toFixed(1).padStart(8)} s   ${rows === null ? '' : rate(rows, ms)}`.trimEnd();
}

/**
 * Seeds `db` (already migrated) with `options.models` models and everything that hangs off
 * them. Refuses with SeedRefusedError when the inventory is not empty, unless `reset`. The
 * whole load is one transaction on either database: a failed seed leaves nothing behind, and
 * other sessions wait on the seeded tables until it commits.
 */
export async function seedDatabase(db: Db, options: SeedOptions): Promise<SeedReport> {
  const plan = planOf(options);
  const log = options.quiet
    ? () => {}
    : (options.log ?? ((text: string) => process.stderr.write(`${text}\n`)));
  const started = performance.now();
  const names = SEED_TABLES.map((t) => t.name);
  const target = db.dialect === 'postgres' ? await postgresTarget(db) : await sqliteTarget(db);
  const tables: SeedTableTiming[] = [];
  let analyzeMs = 0;
  const step = async <T>(label: string, run: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const result = await run();
    log(line(label, null, performance.now() - t0));
    return result;
  };
  try {
    await target.begin();
    const occupied = await target.nonEmpty(names);
    if (occupied.length > 0 && !options.reset) throw new SeedRefusedError(occupied);
    log(
      `seeding ${plan.models.toLocaleString('en-US')} models (seed ${plan.seed}, anchor ${plan.anchor}) into ${db.dialect}`,
    );
    await target.suspendIndexes(names);
    if (options.reset) await step('reset', () => target.reset(RESET_TABLES));
    for (const table of SEED_TABLES) {
      const t0 = performance.now();
      const rows = await target.load(table, plan);
      const timing = { table: table.name, rows, ms: performance.now() - t0 };
      tables.push(timing);
      log(line(table.name, rows, timing.ms));
    }
    await step('indexes and keys', () => target.rebuildIndexes(SEED_TABLES));
    await step('commit', () => target.commit());
  } catch (err) {
    await target.rollback().catch(() => {});
    await target.release();
    throw err;
  }
  try {
    const t0 = performance.now();
    await target.analyze(names);
    analyzeMs = performance.now() - t0;
    log(line('analyze', null, analyzeMs));
  } finally {
    await target.release();
  }
  const totalRows = tables.reduce((sum, t) => sum + t.rows, 0);
  const totalMs = performance.now() - started;
  log(line('total', totalRows, totalMs));
  return { models: plan.models, seed: plan.seed, anchor: plan.anchor, tables, analyzeMs, totalRows, totalMs };
}
