import type { Knex } from 'knex';

export interface Inventory {
  regionId: number;
  teamId: number;
  tierId: number;
  modelId: number;
  validationId: number;
  cycleId: number;
}

/** One row in each parent table, for tests that need rows to point at. */
export async function insertInventory(knex: Knex, suffix = ''): Promise<Inventory> {
  const [region] = await knex('regions')
    .insert({ code: `EU${suffix}`, name: 'Europe' })
    .returning('id');
  const regionId = region.id as number;
  const [team] = await knex('teams')
    .insert({ code: `RISK${suffix}`, name: 'Risk', region_id: regionId })
    .returning('id');
  const [tier] = await knex('risk_tiers')
    .insert({
      code: `T1${suffix}`,
      revalidation_months: 12,
      lead_days: 30,
      grace_days: 60,
      interim_validity_days: 90,
    })
    .returning('id');
  const [model] = await knex('models')
    .insert({
      external_id: `M-1${suffix}`,
      name: 'Scorecard',
      region_id: regionId,
      team_id: team.id,
      risk_tier_id: tier.id,
      owner_email: 'owner@example.com',
    })
    .returning('id');
  const [validation] = await knex('validations')
    .insert({ model_id: model.id, kind: 'full', status: 'approved', approved_on: '2024-02-29' })
    .returning('id');
  const [cycle] = await knex('attestation_cycles')
    .insert({ name: `2024 H1${suffix}`, opens_on: '2024-01-01', closes_on: '2024-06-30' })
    .returning('id');
  return {
    regionId,
    teamId: team.id,
    tierId: tier.id,
    modelId: model.id,
    validationId: validation.id,
    cycleId: cycle.id,
  };
}
