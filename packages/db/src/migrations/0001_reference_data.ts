import type { Knex } from 'knex';

// Regions, teams and risk tiers: small tables every model points at, addressed by `code` in
// CSV imports and API filters.

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('regions', (t) => {
    t.increments('id');
    t.text('code').notNullable().unique({ indexName: 'regions_code_unique' });
    t.text('name').notNullable();
  });

  await knex.schema.createTable('teams', (t) => {
    t.increments('id');
    t.text('code').notNullable().unique({ indexName: 'teams_code_unique' });
    t.text('name').notNullable();
    t.integer('region_id').notNullable().references('id').inTable('regions');
    t.index(['region_id'], 'teams_region_id_idx');
  });

  await knex.schema.createTable('risk_tiers', (t) => {
    t.increments('id');
    t.text('code').notNullable().unique({ indexName: 'risk_tiers_code_unique' });
    t.integer('revalidation_months').notNullable();
    t.integer('lead_days').notNullable();
    t.integer('grace_days').notNullable();
    t.integer('interim_validity_days').notNullable();
    t.check('"revalidation_months" > 0', [], 'risk_tiers_revalidation_months_check');
    t.check(
      '"lead_days" >= 0 AND "grace_days" >= 0 AND "interim_validity_days" >= 0',
      [],
      'risk_tiers_days_check',
    );
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('risk_tiers');
  await knex.schema.dropTable('teams');
  await knex.schema.dropTable('regions');
}
