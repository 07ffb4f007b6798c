// A quick measurement of the KPI rebuild on an existing, seeded database (not a test):
//
//   DATABASE_URL=postgres://…/db node packages/db/src/reports/kpi-bench.ts [--as-of YYYY-MM-DD] [--runs N]
//
// Prints the inventory's size, then for each run the seconds, the statements issued and the
// time spent in them. The first run reads from a cold cache; later runs show the warm figure.
// The rebuild replaces the database's KPI snapshots, as the job would.

import { parseArgs } from 'node:util';
import { loadConfig, redactUrl } from '@offload/config';
import { isIsoDate } from '@offload/domain';
import { withQueryStats } from '../instrumentation.ts';
import { createDb } from '../knex.ts';
import { rebuildKpiSnapshots } from './kpi.ts';

const { values } = parseArgs({
  options: { 'as-of': { type: 'string' }, runs: { type: 'string', default: '3' } },
});
const asOf = values['as-of'];
const runs = Number(values.runs);
if (asOf !== undefined && !isIsoDate(asOf)) throw new RangeError(`--as-of must be YYYY-MM-DD, got ${asOf}`);
if (!Number.isSafeInteger(runs) || runs < 1) throw new RangeError(`--runs must be a positive integer`);

const config = loadConfig();
const db = createDb({ databaseUrl: config.databaseUrl, poolMax: 2 });
try {
  const count = async (table: string) => Number((await db.knex(table).count({ n: '*' }))[0]!.n);
  console.log(
    `database ${redactUrl(config.databaseUrl)}: ${await count('models')} models, ` +
      `${await count('validations')} validations`,
  );
  for (let run = 1; run <= runs; run += 1) {
    const started = performance.now();
    const { result, stats } = await withQueryStats(() => rebuildKpiSnapshots(db, { asOf }));
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `run ${run}: ${seconds.toFixed(2)} s, ${stats.count} queries (${(stats.totalMs / 1000).toFixed(2)} s in them), ` +
        `asOf ${result.asOf}, ${result.activeModels} active models, ${result.snapshots} snapshots, version ${result.version}`,
    );
  }
} finally {
  await db.destroy();
}
