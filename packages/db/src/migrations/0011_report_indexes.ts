import type { Knex } from 'knex';
import { columns } from './columns.ts';

// What the report rebuilds and the worker's default schedules need.
//
// Indexes: the regional compliance report reads approvals grouped by (validation_id, region_id),
// which approvals_validation_region_type_unique (0002) already serves, and the attestation cycle
// counts group attestation_records by (cycle_id, status), which
// attestation_records_cycle_status_idx (0003) already serves; reports-queries.test.ts holds both
// plans to them, so no index is added here.
//
// schedule_defaults: the default cron schedules (apps/worker/src/default-schedules.ts) a worker
// has created, by name. A worker creates a default only when its name is not recorded, so an
// operator's edit or deletion of it through the schedules API survives restarts.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('schedule_defaults', (t) => {
    const c = columns(knex, t, 'schedule_defaults');
    t.text('name').notNullable().primary();
    c.instant('applied_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('schedule_defaults');
}
