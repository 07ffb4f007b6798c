import type { Knex } from 'knex';
import { columns } from './columns.ts';

// Where monitoring metrics come from, and the observations collected from them.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('metric_sources', (t) => {
    const c = columns(knex, t, 'metric_sources');
    t.increments('id');
    t.text('name').notNullable().unique({ indexName: 'metric_sources_name_unique' });
    t.text('url').notNullable();
    c.oneOf('format', ['ndjson', 'csv']).notNullable();
    t.text('cron').nullable(); // null: collected on demand only
    t.boolean('enabled').notNullable().defaultTo(true);
    c.instant('created_at').notNullable().defaultTo(c.now());
  });

  await knex.schema.createTable('model_metrics', (t) => {
    const c = columns(knex, t, 'model_metrics');
    t.integer('model_id').notNullable().references('id').inTable('models').onDelete('CASCADE');
    t.text('metric').notNullable();
    c.instant('observed_at').notNullable();
    t.double('value').notNullable();
    // Collection inserts with ON CONFLICT DO NOTHING on this key, so re-fetching is harmless.
    t.unique(['model_id', 'metric', 'observed_at'], {
      indexName: 'model_metrics_model_metric_observed_at_unique',
    });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('model_metrics');
  await knex.schema.dropTable('metric_sources');
}
