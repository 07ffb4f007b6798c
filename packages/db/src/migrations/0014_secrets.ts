import type { Knex } from 'knex';

// Secrets the deployment generates for itself and every process shares through the database:
// `cursor` signs the pagination cursors of every list when CURSOR_SECRET is unset (a random value
// written once by the first process that needs it, never derived from anything a caller could know).

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('secrets', (t) => {
    t.text('name').notNullable().primary();
    t.text('value').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('secrets');
}
