// CI's `db analyze`: a throwaway database of each dialect (the test harness's: a SQLite file, and
// a PostgreSQL database on TEST_DATABASE_URL's server, required under CI=true), seeded with
// 100,000 models (the scale DESIGN.md's threshold is set at; seeding takes 13 s on SQLite and 17 s
// on PostgreSQL on the shared development machine), then analysed with the same thresholds as
// `npm run db -- analyze`. The report is printed, not written. Exit 1 on a failure, except the
// KNOWN ones below: each is printed as such, and must go from this list when it is mended.
import { seedDatabase } from '@offload/db/seed';
import { createTestDb, testDatabases } from '@offload/db/testing';
import { analyze } from './db-analyze.ts';

/**
 * Statements over DESIGN's budget at 100,000 models when this step was added (2026-12-07), which
 * need their results precomputed by a rebuild rather than a faster plan: each reads every row it
 * counts. Matched by a fragment of their SQL.
 */
const KNOWN: ReadonlyArray<{ sql: RegExp; why: string }> = [
  {
    sql: /from [`"]attestation_cycles[`"] as [`"]c[`"]/i,
    why: 'attestation cycle counts (GET /v1/attestation-cycles, the dashboard) group every attestation record on a cache miss',
  },
  {
    sql: /^SELECT COALESCE\(h\.status, 'unknown'\) AS status, count\(\*\)/,
    why: "the dashboard's health counts read every active model on a cache miss (the global KPI snapshot already holds them)",
  },
];

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
    for (const profile of profiles.filter((p) => p.problems.length > 0)) {
      const known = KNOWN.find((k) => k.sql.test(profile.sql.trim()));
      if (known === undefined) failed = true;
      else
        process.stdout.write(
          `KNOWN, not failing CI: ${profile.label}: ${profile.problems.join('; ')} — ${known.why}\n`,
        );
    }
  } finally {
    await database.destroy();
  }
}
process.exit(failed ? 1 : 0);
