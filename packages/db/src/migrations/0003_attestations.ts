import type { Knex } from 'knex';
import { columns } from './columns.ts';

// Periodic attestation cycles and each model's record in them.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('attestation_cycles', (t) => {
    const c = columns(knex, t, 'attestation_cycles');
    t.increments('id');
    t.text('name').notNullable().unique({ indexName: 'attestation_cycles_name_unique' });
    c.calendarDate('opens_on').notNullable();
    c.calendarDate('closes_on').notNullable();
    t.check('"closes_on" >= "opens_on"', [], 'attestation_cycles_dates_check');
  });

  await knex.schema.createTable('attestation_records', (t) => {
    const c = columns(knex, t, 'attestation_records');
    t.increments('id');
    t.integer('cycle_id').notNullable().references('id').inTable('attestation_cycles').onDelete('CASCADE');
    t.integer('model_id').notNullable().references('id').inTable('models').onDelete('CASCADE');
    c.oneOf('status', ['pending', 'attested', 'exception']).notNullable().defaultTo('pending');
    c.instant('attested_at').nullable();
    t.unique(['cycle_id', 'model_id'], { indexName: 'attestation_records_cycle_model_unique' });
    // Per-cycle totals by status are a GROUP BY over this index alone.
    t.index(['cycle_id', 'status'], 'attestation_records_cycle_status_idx');
    t.index(['model_id'], 'attestation_records_model_id_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('attestation_records');
  await knex.schema.dropTable('attestation_cycles');
}
