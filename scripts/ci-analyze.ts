// CI's `db analyze`: a throwaway database of each dialect (the test harness's: a SQLite file, and
// a PostgreSQL database on TEST_DATABASE_URL's server, required under CI=true), seeded with
// 100,000 models (the scale DESIGN.md's threshold is set at; seeding takes 13 s on SQLite and 17 s
// on PostgreSQL on the shared development machine), then analysed with the same thresholds as
// `npm run db -- analyze`. The report is printed, not written. Exit 1 when any statement fails
// them (over budget, or a large table read whole): there are no known exceptions.
import { analysisPassed } from '@offload/db/analyze';
import { seedDatabase } from '@offload/db/seed';
import { createTestDb, testDatabases } from '@offload/db/testing';
import { analyze } from './db-analyze.ts';

const models = Number(process.argv[2] ?? 100_000);
if (!Number.isSafeInteger(models) || models < 1) {
  process.stderr.write('usage: ci-analyze.ts [models]\n');
  process.exit(2);
}
let failed = false;
for (const kind of testDatabases()) {
  const database = await createTestDb(kind);
  try {
    const t0 = performance.now();
    await seedDatabase(database.db, { models, quiet: true });
    process.stdout.write(
      `\n${kind}: seeded ${models.toLocaleString('en-US')} models in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
    );
    const profiles = await analyze({ databaseUrl: database.databaseUrl, runs: 10, out: null });
    if (!analysisPassed(profiles)) failed = true;
  } finally {
    await database.destroy();
  }
}
process.exit(failed ? 1 : 0);
