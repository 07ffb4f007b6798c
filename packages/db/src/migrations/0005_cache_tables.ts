import type { Knex } from 'knex';
import { columns } from './columns.ts';

// Results precomputed by jobs and served by the API. Every row carries the `version` it was
// computed under and when; `cache_versions` holds the current version per family so a process
// can tell a stale L1 entry without reading the payload.

const SNAPSHOT_TABLES = ['kpi_snapshots', 'report_snapshots'] as const;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('model_health', (t) => {
    const c = columns(knex, t, 'model_health');
    t.integer('model_id').notNullable().primary().references('id').inTable('models').onDelete('CASCADE');
    c.oneOf('status', ['ok', 'warn', 'alert']).notNullable();
    c.json('payload').notNullable(); // what the API shows
    c.json('details').notNullable().defaultTo('{}'); // the analysis behind it: PSI, z-score, windows
    c.instant('computed_at').notNullable();
    t.integer('version').notNullable().defaultTo(1);
    t.index(['status'], 'model_health_status_idx');
  });

  for (const name of SNAPSHOT_TABLES) {
    await knex.schema.createTable(name, (t) => {
      const c = columns(knex, t, name);
      t.text('key').notNullable().primary(); // e.g. `global`, `region:EU`, `region:EU/team:RISK`
      c.json('payload').notNullable();
      c.instant('computed_at').notNullable();
      t.integer('version').notNullable().defaultTo(1);
    });
  }

  await knex.schema.createTable('cache_versions', (t) => {
    const c = columns(knex, t, 'cache_versions');
    t.text('family').notNullable().primary();
    t.integer('version').notNullable().defaultTo(0);
    c.instant('updated_at').notNullable().defaultTo(c.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('cache_versions');
  for (const name of [...SNAPSHOT_TABLES].reverse()) await knex.schema.dropTable(name);
  await knex.schema.dropTable('model_health');
}
