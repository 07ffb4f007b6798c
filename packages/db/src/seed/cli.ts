// `npm run seed -- --models N [--seed S] [--anchor YYYY-MM-DD] [--reset]`: migrates the
// database named by DATABASE_URL to the latest schema, then seeds it (see ./index.ts) and
// prints the time taken per table.

import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, redactUrl } from '@offload/config';
import { isIsoDate } from '@offload/domain';
import { createDb } from '../knex.ts';
import { migrateLatest } from '../migrate.ts';
import { DEFAULT_ANCHOR, DEFAULT_SEED, SeedRefusedError, seedDatabase } from './index.ts';

const USAGE = `usage: npm run seed -- --models N [--seed S] [--anchor YYYY-MM-DD] [--reset]

  --models N      how many models to create (required, a positive integer)
  --seed S        random seed; the same seed gives the same inventory (default ${DEFAULT_SEED})
  --anchor DATE   the date the inventory is as of (default ${DEFAULT_ANCHOR})
  --reset         empty an existing inventory first instead of refusing

The database is DATABASE_URL (sqlite:<path> or postgres://...).`;

class UsageError extends Error {}

function integerOption(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const value = /^-?\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new UsageError(
      `--${name} must be an integer${min > 0 ? ` of at least ${min}` : ''}, got ${JSON.stringify(text)}`,
    );
  }
  return value;
}

function parseOptions(argv: string[]) {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return null;
  const models = integerOption('models', values.models, 1);
  if (models === undefined) throw new UsageError('--models N is required');
  if (values.anchor !== undefined && !isIsoDate(values.anchor)) {
    throw new UsageError(`--anchor must be a date as YYYY-MM-DD, got ${JSON.stringify(values.anchor)}`);
  }
  return {
    models,
    seed: integerOption('seed', values.seed, Number.MIN_SAFE_INTEGER),
    anchor: values.anchor,
    reset: values.reset ?? false,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      models: { type: 'string' },
      seed: { type: 'string' },
      anchor: { type: 'string' },
      reset: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options === null) {
    console.log(USAGE);
    return;
  }
  const config = loadConfig();
  const db = createDb({ databaseUrl: config.databaseUrl, poolMax: 2 });
  try {
    console.log(`database ${redactUrl(config.databaseUrl)}`);
    const applied = await migrateLatest(db);
    if (applied.length > 0) console.log(`migrated: ${applied.join(', ')}`);
    await seedDatabase(db, { ...options, log: (text) => console.log(text) });
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    console.error(`seed: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  const known = err instanceof ConfigError || err instanceof SeedRefusedError || err instanceof RangeError;
  console.error(`seed: ${known ? (err as Error).message : ((err as Error)?.stack ?? String(err))}`);
  process.exit(1);
});
