import type { Knex } from 'knex';
import { columns } from './columns.ts';

// The attestation cycle counts GET /v1/attestation-cycles and the dashboard serve: per cycle its
// records in total and by status, written by the KPI rebuild (set-based, one INSERT … SELECT)
// and read a page at a time, so a read never groups attestation_records. A cache table like
// kpi_snapshots: no foreign key (it is replaced whole by each rebuild, and a cycle deleted
// meanwhile stays in it until the next one); the cycle's name and dates are copied so a page
// reads this table alone, in the order of attestation_cycle_counts_opens_on_cycle_idx (newest
// first is that index read backwards, on both databases).

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('attestation_cycle_counts', (t) => {
    const c = columns(knex, t, 'attestation_cycle_counts');
    t.integer('cycle_id').notNullable().primary();
    t.text('name').notNullable();
    c.calendarDate('opens_on').notNullable();
    c.calendarDate('closes_on').notNullable();
    t.integer('total').notNullable();
    t.integer('attested').notNullable();
    t.integer('pending').notNullable();
    t.integer('exception').notNullable();
    c.instant('computed_at').notNullable();
    t.integer('version').notNullable();
    t.index(['opens_on', 'cycle_id'], 'attestation_cycle_counts_opens_on_cycle_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('attestation_cycle_counts');
}
