import type { Knex } from 'knex';

// Indexes for the inventory reads (GET /v1/models): the list filters by any of region, team
// and status and pages by id, so each single filter (with or without status) gets an index
// ending in id, and the page is read in index order with no sort. Region, team and status
// together use models_region_team_status_id_idx (0002); a model's validations and approvals
// use 0002's validations_model_kind_status_approved_on_idx and
// approvals_validation_region_type_unique.

const INDEXES = [
  { name: 'models_region_status_id_idx', columns: ['region_id', 'status', 'id'] },
  { name: 'models_team_status_id_idx', columns: ['team_id', 'status', 'id'] },
  { name: 'models_status_id_idx', columns: ['status', 'id'] },
] as const;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('models', (t) => {
    for (const { name, columns } of INDEXES) t.index([...columns], name);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('models', (t) => {
    for (const { name, columns } of [...INDEXES].reverse()) t.dropIndex([...columns], name);
  });
}
