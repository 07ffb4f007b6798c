// The metric sources repository: where monitoring metrics are collected from (`metric_sources`).
// The API manages them (/v1/metric-sources) and the worker's collect.metrics reads one. Rows come
// back as MetricSource (camelCase, `enabled` a boolean on both databases).
import type { Knex } from 'knex';
import { NotFoundError, toDbError } from './errors.ts';
import type { Db } from './knex.ts';
import { type Page, paginate } from './pagination.ts';

export const METRIC_SOURCE_FORMATS = ['ndjson', 'csv'] as const;
export type MetricSourceFormat = (typeof METRIC_SOURCE_FORMATS)[number];

export interface MetricSource {
  id: number;
  name: string;
  url: string;
  format: MetricSourceFormat;
  /** Five-field cron; null: collected on demand only. */
  cron: string | null;
  enabled: boolean;
  createdAt: string;
}

export type NewMetricSource = Omit<MetricSource, 'id' | 'createdAt'>;
export type MetricSourcePatch = Partial<NewMetricSource>;

interface Row {
  id: number | string;
  name: string;
  url: string;
  format: MetricSourceFormat;
  cron: string | null;
  enabled: boolean | number;
  created_at: string;
}

const COLUMNS = ['id', 'name', 'url', 'format', 'cron', 'enabled', 'created_at'] as const;

function fromRow(row: Row): MetricSource {
  return {
    id: Number(row.id),
    name: row.name,
    url: row.url,
    format: row.format,
    cron: row.cron,
    enabled: Boolean(row.enabled),
    createdAt: row.created_at,
  };
}

function toRow(source: MetricSourcePatch): Partial<Row> {
  const row: Partial<Row> = {};
  if (source.name !== undefined) row.name = source.name;
  if (source.url !== undefined) row.url = source.url;
  if (source.format !== undefined) row.format = source.format;
  if (source.cron !== undefined) row.cron = source.cron;
  if (source.enabled !== undefined) row.enabled = source.enabled;
  return row;
}

type Executor = Knex | Knex.Transaction;

/** Inserts a source; a taken name is a ConflictError (unique). */
export async function createMetricSource(
  executor: Executor,
  source: NewMetricSource,
  now: string = new Date().toISOString(),
): Promise<MetricSource> {
  try {
    const [row] = (await executor('metric_sources')
      .insert({ ...toRow(source), created_at: now })
      .returning([...COLUMNS])) as Row[];
    return fromRow(row!);
  } catch (error) {
    throw toDbError(error);
  }
}

/** The source, or NotFoundError. */
export async function getMetricSource(executor: Executor, id: number): Promise<MetricSource> {
  const row = (await executor('metric_sources').select(COLUMNS).where({ id }).first()) as Row | undefined;
  if (row === undefined) throw new NotFoundError('metric source', id);
  return fromRow(row);
}

/** A keyset page of sources by id (see pagination.ts: limit 1…100, signed cursor). */
export async function listMetricSources(
  db: Db,
  page: { cursor: string | null; limit: number },
): Promise<Page<MetricSource>> {
  const result = await paginate<Row>(db.knex('metric_sources').select(COLUMNS), {
    orderBy: [{ column: 'id', type: 'integer' }],
    cursor: page.cursor,
    limit: page.limit,
  });
  return { items: result.items.map(fromRow), nextCursor: result.nextCursor };
}

/** Applies `patch` and returns the source as it now is; NotFoundError, or ConflictError on a taken name. */
export async function updateMetricSource(
  executor: Executor,
  id: number,
  patch: MetricSourcePatch,
): Promise<MetricSource> {
  const changes = toRow(patch);
  if (Object.keys(changes).length === 0) return getMetricSource(executor, id);
  let rows: Row[];
  try {
    rows = (await executor('metric_sources')
      .where({ id })
      .update(changes)
      .returning([...COLUMNS])) as Row[];
  } catch (error) {
    throw toDbError(error);
  }
  if (rows.length === 0) throw new NotFoundError('metric source', id);
  return fromRow(rows[0]!);
}

/** Deletes the source; NotFoundError when there is none. */
export async function deleteMetricSource(executor: Executor, id: number): Promise<void> {
  const deleted = await executor('metric_sources').where({ id }).delete();
  if (deleted === 0) throw new NotFoundError('metric source', id);
}
