import type { Knex } from 'knex';
import { columns } from './columns.ts';

// Models, their validations and the regional approvals of those validations: the inventory the
// revalidation rule (DESIGN §2.1) and the regional compliance report read.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('models', (t) => {
    const c = columns(knex, t, 'models');
    t.increments('id');
    t.text('external_id').notNullable().unique({ indexName: 'models_external_id_unique' });
    t.text('name').notNullable();
    t.integer('region_id').notNullable().references('id').inTable('regions');
    t.integer('team_id').notNullable().references('id').inTable('teams');
    t.integer('risk_tier_id').notNullable().references('id').inTable('risk_tiers');
    t.text('owner_email').notNullable();
    c.oneOf('status', ['active', 'retired']).notNullable().defaultTo('active');
    c.instant('created_at').notNullable().defaultTo(c.now());
    c.instant('updated_at').notNullable().defaultTo(c.now());
    // The list endpoint filters by region, team and status and pages by id; KPI scopes group
    // by region and team.
    t.index(['region_id', 'team_id', 'status', 'id'], 'models_region_team_status_id_idx');
    t.index(['team_id'], 'models_team_id_idx');
    t.index(['risk_tier_id'], 'models_risk_tier_id_idx');
  });

  await knex.schema.createTable('validations', (t) => {
    const c = columns(knex, t, 'validations');
    t.increments('id');
    t.integer('model_id').notNullable().references('id').inTable('models').onDelete('CASCADE');
    c.oneOf('kind', ['full', 'interim']).notNullable();
    c.oneOf('status', ['planned', 'in_progress', 'approved', 'rejected']).notNullable();
    c.calendarDate('approved_on').nullable();
    c.instant('created_at').notNullable().defaultTo(c.now());
    // The revalidation rule needs the latest approval date per model and kind: without a date
    // an approved validation would silently not count.
    t.check(
      `("status" = 'approved' AND "approved_on" IS NOT NULL) OR ("status" <> 'approved' AND "approved_on" IS NULL)`,
      [],
      'validations_approved_on_check',
    );
    // Latest approved FULL / INTERIM per model, and "has an open validation", by index only.
    t.index(['model_id', 'kind', 'status', 'approved_on'], 'validations_model_kind_status_approved_on_idx');
    t.index(['status', 'model_id'], 'validations_status_model_idx');
  });

  await knex.schema.createTable('approvals', (t) => {
    const c = columns(knex, t, 'approvals');
    t.increments('id');
    t.integer('validation_id').notNullable().references('id').inTable('validations').onDelete('CASCADE');
    t.integer('region_id').notNullable().references('id').inTable('regions');
    t.text('approval_type').notNullable();
    c.oneOf('status', ['pending', 'approved', 'rejected']).notNullable().defaultTo('pending');
    c.calendarDate('decided_on').nullable();
    // The compliance report measures the lag to the decision: a decision has a date, a
    // pending approval has none.
    t.check(
      `("status" = 'pending' AND "decided_on" IS NULL) OR ("status" <> 'pending' AND "decided_on" IS NOT NULL)`,
      [],
      'approvals_decided_on_check',
    );
    t.unique(['validation_id', 'region_id', 'approval_type'], {
      indexName: 'approvals_validation_region_type_unique',
    });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('approvals');
  await knex.schema.dropTable('validations');
  await knex.schema.dropTable('models');
}
