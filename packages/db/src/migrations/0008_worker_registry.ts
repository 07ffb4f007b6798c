import type { Knex } from 'knex';
import { columns } from './columns.ts';

// The live worker processes: each upserts its row every few seconds and deletes it on a clean
// exit. A row whose heartbeat is older than a minute is a dead worker; readers skip it and
// maintenance may delete it.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('worker_registry', (t) => {
    const c = columns(knex, t, 'worker_registry');
    t.text('id').notNullable().primary();
    t.text('host').notNullable();
    t.integer('pid').notNullable();
    t.integer('concurrency').notNullable();
    t.integer('running').notNullable().defaultTo(0);
    c.json('kinds').notNullable();
    c.instant('started_at').notNullable();
    c.instant('last_heartbeat_at').notNullable();
    t.index(['last_heartbeat_at'], 'worker_registry_last_heartbeat_at_index');
    t.check('"pid" > 0 AND "concurrency" >= 0 AND "running" >= 0', [], 'worker_registry_counts_check');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('worker_registry');
}
