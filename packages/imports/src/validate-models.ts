// Checks one record of a models CSV (DESIGN §3: external_id,name,region,team,risk_tier,
// owner_email,status) against the rules the database would otherwise enforce late or not at
// all, and resolves region, team and tier codes to ids. The reference tables are small: they
// are read once per import (three queries), never per row.

import type { Knex } from 'knex';
import type { CsvRecord } from './parse.ts';

export const MODEL_COLUMNS = [
  'external_id',
  'name',
  'region',
  'team',
  'risk_tier',
  'owner_email',
  'status',
] as const;

export const MODEL_STATUSES = ['active', 'retired'] as const;
export type ModelStatus = (typeof MODEL_STATUSES)[number];

/** Longest values accepted, in characters. */
export const MODEL_LIMITS = { external_id: 100, name: 200, owner_email: 254 } as const;

/** A models row ready to be written. */
export interface ModelRow {
  line: number;
  externalId: string;
  name: string;
  regionId: number;
  teamId: number;
  riskTierId: number;
  ownerEmail: string;
  status: ModelStatus;
}

export interface ModelReferences {
  regions: ReadonlyMap<string, number>;
  teams: ReadonlyMap<string, { id: number; regionId: number; regionCode: string }>;
  tiers: ReadonlyMap<string, number>;
}

// Deliberately loose: one @, no spaces, a dot in the domain. Mail delivery is the real test.
const EMAIL = /^[^\s@",;<>]+@[^\s@",;<>.]+(?:\.[^\s@",;<>.]+)+$/;

/** Region, team and tier codes with their ids: three small queries, once per import. */
export async function loadModelReferences(knex: Knex): Promise<ModelReferences> {
  const [regions, teams, tiers] = await Promise.all([
    knex('regions').select('id', 'code'),
    knex('teams as t')
      .join('regions as r', 'r.id', 't.region_id')
      .select('t.id', 't.code', 't.region_id', 'r.code as region_code'),
    knex('risk_tiers').select('id', 'code'),
  ]);
  return {
    regions: new Map(regions.map((r: { code: string; id: number }) => [r.code, r.id])),
    teams: new Map(
      teams.map((t: { code: string; id: number; region_id: number; region_code: string }) => [
        t.code,
        { id: t.id, regionId: t.region_id, regionCode: t.region_code },
      ]),
    ),
    tiers: new Map(tiers.map((t: { code: string; id: number }) => [t.code, t.id])),
  };
}

/**
 * The row to write, or why the record is rejected (every problem found, `; `-separated).
 * Fields are trimmed; status is matched case-insensitively; codes exactly. `fields` are in
 * MODEL_COLUMNS order.
 */
export function validateModel(record: CsvRecord, refs: ModelReferences): ModelRow | string {
  const [rawId, rawName, rawRegion, rawTeam, rawTier, rawEmail, rawStatus] = record.fields;
  const externalId = rawId!.trim();
  const name = rawName!.trim();
  const region = rawRegion!.trim();
  const team = rawTeam!.trim();
  const tier = rawTier!.trim();
  const ownerEmail = rawEmail!.trim();
  const status = rawStatus!.trim().toLowerCase();
  const problems: string[] = [];

  text(problems, 'external_id', externalId, MODEL_LIMITS.external_id);
  text(problems, 'name', name, MODEL_LIMITS.name);
  if (text(problems, 'owner_email', ownerEmail, MODEL_LIMITS.owner_email) && !EMAIL.test(ownerEmail)) {
    problems.push(`owner_email ${quote(ownerEmail)} is not an e-mail address`);
  }
  const regionId = code(problems, 'region', region, refs.regions);
  const teamRef = code(problems, 'team', team, refs.teams);
  const riskTierId = code(problems, 'risk_tier', tier, refs.tiers);
  if (teamRef !== undefined && regionId !== undefined && teamRef.regionId !== regionId) {
    problems.push(`team ${quote(team)} belongs to region ${quote(teamRef.regionCode)}, not ${quote(region)}`);
  }
  if (status !== 'active' && status !== 'retired') {
    problems.push(`status must be ${MODEL_STATUSES.join(' or ')}, got ${quote(rawStatus!.trim())}`);
  }
  if (problems.length > 0) return problems.join('; ');
  return {
    line: record.line,
    externalId,
    name,
    regionId: regionId!,
    teamId: teamRef!.id,
    riskTierId: riskTierId!,
    ownerEmail,
    status: status as ModelStatus,
  };
}

/** Records a problem unless `value` is non-empty and within `max` characters. */
export function text(problems: string[], column: string, value: string, max: number): boolean {
  if (value.length === 0) {
    problems.push(`${column} is empty`);
    return false;
  }
  if (value.length > max) {
    problems.push(`${column} is longer than ${max} characters`);
    return false;
  }
  return true;
}

function code<T>(
  problems: string[],
  column: string,
  value: string,
  known: ReadonlyMap<string, T>,
): T | undefined {
  if (value.length === 0) {
    problems.push(`${column} is empty`);
    return undefined;
  }
  const found = known.get(value);
  if (found === undefined) problems.push(`${column} ${quote(value)} is unknown`);
  return found;
}

/** A value for a message: quoted, and cut short so one wild field cannot bloat the report. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
}
