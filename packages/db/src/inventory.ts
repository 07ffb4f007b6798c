// The model inventory as the API reads it: a keyset-paginated list filtered by region, team and
// status codes, and one model with its validations, their regional approvals and its health.
// Every read is a fixed number of statements whatever the size of the inventory (the list: one
// to resolve the filter codes, one for the page; a model: three), each served by an index
// (migrations 0002 and 0012).
import type { Knex } from 'knex';
import type { Db } from './knex.ts';
import { type Page, paginate } from './pagination.ts';
import { queryRows } from './raw.ts';

export const MODEL_STATUSES = ['active', 'retired'] as const;
export type ModelStatusCode = (typeof MODEL_STATUSES)[number];

/** A filter code that names no region or team. */
export class UnknownCodeError extends Error {
  readonly field: 'region' | 'team';
  readonly code: string;
  constructor(field: 'region' | 'team', code: string) {
    super(`no ${field} has the code ${JSON.stringify(code)}`);
    this.name = 'UnknownCodeError';
    this.field = field;
    this.code = code;
  }
}

export interface ModelSummary {
  id: number;
  externalId: string;
  name: string;
  region: string;
  team: string;
  riskTier: string;
  ownerEmail: string;
  status: ModelStatusCode;
  createdAt: string;
  updatedAt: string;
}

export interface ModelApproval {
  id: number;
  region: string;
  approvalType: string;
  status: 'pending' | 'approved' | 'rejected';
  decidedOn: string | null;
}

export interface ModelValidation {
  id: number;
  kind: 'full' | 'interim';
  status: 'planned' | 'in_progress' | 'approved' | 'rejected';
  approvedOn: string | null;
  createdAt: string;
  approvals: ModelApproval[];
}

export interface ModelHealthView {
  status: 'ok' | 'warn' | 'alert';
  computedAt: string;
  /** What the analyzer published for display (model_health.payload). */
  payload: unknown;
}

export interface ModelDetail extends ModelSummary {
  /** null until the health analysis has covered the model. */
  health: ModelHealthView | null;
  validations: ModelValidation[];
}

export interface ListModelsParams {
  region?: string;
  team?: string;
  status?: ModelStatusCode;
  cursor: string | null;
  limit: number;
}

type Row = Record<string, unknown>;

const MODEL_COLUMNS = [
  'm.id',
  'm.external_id',
  'm.name',
  'r.code as region',
  't.code as team',
  'k.code as risk_tier',
  'm.owner_email',
  'm.status',
  'm.created_at',
  'm.updated_at',
] as const;

// resolve_filter_codes: the ids of a region code and a team code (null when absent or unknown).
const RESOLVE_FILTER_CODES = `SELECT (SELECT id FROM regions WHERE code = ?) AS region_id,
       (SELECT id FROM teams WHERE code = ?) AS team_id`;

// model_with_health: one model, its reference codes and its health row. Parameters: model id.
const MODEL_WITH_HEALTH = `SELECT m.id, m.external_id, m.name, r.code AS region, t.code AS team,
       k.code AS risk_tier, m.owner_email, m.status, m.created_at, m.updated_at,
       h.status AS health_status, h.payload AS health_payload, h.computed_at AS health_computed_at
  FROM models m
  JOIN regions r ON r.id = m.region_id
  JOIN teams t ON t.id = m.team_id
  JOIN risk_tiers k ON k.id = m.risk_tier_id
  LEFT JOIN model_health h ON h.model_id = m.id
 WHERE m.id = ?`;

// model_validations: a model's validations, oldest first (validations_model_kind_status_approved_on_idx).
// Parameters: model id.
const MODEL_VALIDATIONS = `SELECT v.id, v.kind, v.status, v.approved_on, v.created_at
  FROM validations v
 WHERE v.model_id = ?
 ORDER BY v.id`;

// model_approvals: the regional approvals of all of a model's validations in one statement
// (validations by model, then approvals_validation_region_type_unique). Parameters: model id.
const MODEL_APPROVALS = `SELECT a.id, a.validation_id, rg.code AS region, a.approval_type, a.status, a.decided_on
  FROM validations v
  JOIN approvals a ON a.validation_id = v.id
  JOIN regions rg ON rg.id = a.region_id
 WHERE v.model_id = ?
 ORDER BY a.validation_id, a.id`;

/** The hot read statements, by name, for plan tests and diagnostics. */
export const INVENTORY_SQL = { MODEL_WITH_HEALTH, MODEL_VALIDATIONS, MODEL_APPROVALS } as const;

function rows(db: Db, sql: string, bindings: Knex.RawBinding[]): Promise<Row[]> {
  return queryRows<Row>(db.knex, sql, bindings);
}

function toSummary(row: Row): ModelSummary {
  return {
    id: Number(row.id),
    externalId: String(row.external_id),
    name: String(row.name),
    region: String(row.region),
    team: String(row.team),
    riskTier: String(row.risk_tier),
    ownerEmail: String(row.owner_email),
    status: row.status as ModelStatusCode,
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
  };
}

/**
 * The list query for a filter, before paging: models joined to their reference codes, filtered
 * by ids so that the models indexes on (region_id | team_id | status, …, id) serve the page.
 */
export function modelListQuery(
  db: Db,
  filter: { regionId?: number; teamId?: number; status?: ModelStatusCode },
): Knex.QueryBuilder {
  const query = db
    .knex('models as m')
    .join('regions as r', 'r.id', 'm.region_id')
    .join('teams as t', 't.id', 'm.team_id')
    .join('risk_tiers as k', 'k.id', 'm.risk_tier_id')
    .select(MODEL_COLUMNS);
  if (filter.regionId !== undefined) query.where('m.region_id', filter.regionId);
  if (filter.teamId !== undefined) query.where('m.team_id', filter.teamId);
  if (filter.status !== undefined) query.where('m.status', filter.status);
  return query;
}

/** Resolves region and team codes to ids in one statement; UnknownCodeError names a bad one. */
export async function resolveFilterCodes(
  db: Db,
  codes: { region?: string; team?: string },
): Promise<{ regionId?: number; teamId?: number }> {
  if (codes.region === undefined && codes.team === undefined) return {};
  const [row] = await rows(db, RESOLVE_FILTER_CODES, [codes.region ?? null, codes.team ?? null]);
  const ids: { regionId?: number; teamId?: number } = {};
  if (codes.region !== undefined) {
    if (row?.region_id == null) throw new UnknownCodeError('region', codes.region);
    ids.regionId = Number(row.region_id);
  }
  if (codes.team !== undefined) {
    if (row?.team_id == null) throw new UnknownCodeError('team', codes.team);
    ids.teamId = Number(row.team_id);
  }
  return ids;
}

/** One page of models in id order, filtered by region, team and status codes. */
export async function listModels(db: Db, params: ListModelsParams): Promise<Page<ModelSummary>> {
  const ids = await resolveFilterCodes(db, { region: params.region, team: params.team });
  const page = await paginate<Row>(
    modelListQuery(db, { ...ids, ...(params.status === undefined ? {} : { status: params.status }) }),
    { orderBy: [{ column: 'm.id', type: 'integer' }], cursor: params.cursor, limit: params.limit },
  );
  return { items: page.items.map(toSummary), nextCursor: page.nextCursor };
}

/** A model with its validations (each with its approvals) and its health; null if there is none. */
export async function getModelDetail(db: Db, id: number): Promise<ModelDetail | null> {
  const [model] = await rows(db, MODEL_WITH_HEALTH, [id]);
  if (model === undefined) return null;
  const [validationRows, approvalRows] = await Promise.all([
    rows(db, MODEL_VALIDATIONS, [id]),
    rows(db, MODEL_APPROVALS, [id]),
  ]);
  const approvalsOf = new Map<number, ModelApproval[]>();
  for (const a of approvalRows) {
    const validationId = Number(a.validation_id);
    let list = approvalsOf.get(validationId);
    if (list === undefined) {
      list = [];
      approvalsOf.set(validationId, list);
    }
    list.push({
      id: Number(a.id),
      region: String(a.region),
      approvalType: String(a.approval_type),
      status: a.status as ModelApproval['status'],
      decidedOn: a.decided_on == null ? null : String(a.decided_on),
    });
  }
  return {
    ...toSummary(model),
    health:
      model.health_status == null
        ? null
        : {
            status: model.health_status as ModelHealthView['status'],
            computedAt: String(model.health_computed_at),
            payload: JSON.parse(String(model.health_payload)),
          },
    validations: validationRows.map((v) => ({
      id: Number(v.id),
      kind: v.kind as ModelValidation['kind'],
      status: v.status as ModelValidation['status'],
      approvedOn: v.approved_on == null ? null : String(v.approved_on),
      createdAt: String(v.created_at),
      approvals: approvalsOf.get(Number(v.id)) ?? [],
    })),
  };
}
