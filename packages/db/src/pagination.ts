import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { cursorSigner, InvalidCursorError } from './cursor-signer.ts';
import type { Db } from './knex.ts';
import { rawRows } from './raw.ts';

// Keyset pagination: a page starts after the sort key of the previous page's last row, so a
// page costs the same at row 10 as at row 10 million, and rows inserted meanwhile neither
// repeat nor go missing. The cursor is that key, signed so that a client can only hand back
// what we gave it.

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 100;

/** A bad `limit`: the API answers 400 (a larger limit is refused, never clamped). */
export class InvalidPageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPageError';
  }
}

export type CursorValue = string | number;

export interface PageParams {
  limit: number;
  /** The opaque cursor, verified; null for the first page. */
  cursor: string | null;
}

export interface CursorOptions {
  /** HMAC key; defaults to the process's (cursor-signer.ts, setDefaultCursorSecret). */
  secret?: string | Uint8Array;
}

// secrets: write the named secret unless it exists. Params: name, value.
const INSERT_SECRET = 'INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING';
// secrets: read one. Params: name.
const SELECT_SECRET = 'SELECT value FROM secrets WHERE name = ?';

/**
 * The deployment's cursor secret: `configured` (CURSOR_SECRET) when set, else a random one kept
 * in the database, written by whichever process asks first, so every process shares it and no
 * caller can derive it (as they could from a DATABASE_URL).
 */
export async function deploymentCursorSecret(db: Db, configured?: string): Promise<string> {
  if (configured !== undefined) return configured;
  await db.knex.raw(INSERT_SECRET, ['cursor', randomBytes(32).toString('base64url')]);
  const row = rawRows(await db.knex.raw(SELECT_SECRET, ['cursor']))[0];
  if (row === undefined) throw new Error('the cursor secret could not be stored');
  return String(row.value);
}

/**
 * Validates `limit` (an integer from 1 to 100, default 50; strings as in a query string) and
 * the cursor's signature. An empty cursor means the first page.
 */
export function parsePageParams(
  input: { cursor?: unknown; limit?: unknown },
  options: CursorOptions = {},
): PageParams {
  const limit = parseLimit(input.limit);
  const { cursor } = input;
  if (cursor === undefined || cursor === null || cursor === '') return { limit, cursor: null };
  if (typeof cursor !== 'string') throw new InvalidCursorError();
  decodeCursor(cursor, options);
  return { limit, cursor };
}

function parseLimit(raw: unknown): number {
  if (raw === undefined || raw === null) return DEFAULT_PAGE_LIMIT;
  const value =
    typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE_LIMIT) {
    throw new InvalidPageError(
      `limit must be an integer from 1 to ${MAX_PAGE_LIMIT} (got ${JSON.stringify(typeof raw === 'string' || typeof raw === 'number' ? raw : String(raw))})`,
    );
  }
  return value;
}

export function encodeCursor(key: readonly CursorValue[], options: CursorOptions = {}): string {
  return cursorSigner(options.secret).seal(JSON.stringify(key));
}

export function decodeCursor(cursor: string, options: CursorOptions = {}): CursorValue[] {
  let key: unknown;
  try {
    key = JSON.parse(cursorSigner(options.secret).openText(cursor));
  } catch (error) {
    if (error instanceof InvalidCursorError) throw error;
    throw new InvalidCursorError();
  }
  if (!Array.isArray(key) || !key.every((v) => typeof v === 'string' || typeof v === 'number')) {
    throw new InvalidCursorError();
  }
  return key;
}

export interface OrderBy {
  column: string;
  direction?: 'asc' | 'desc';
  /**
   * The column's type: a cursor value of another type is refused (400) before it reaches SQL,
   * where PostgreSQL would fail the query and SQLite would compare it silently.
   */
  type?: 'integer' | 'text' | 'date';
}

export interface PaginateOptions<TRow> extends CursorOptions {
  /** The sort key; its columns together must be unique and non-null (end with the id). */
  orderBy: readonly OrderBy[];
  cursor: string | null | undefined;
  limit: number;
  /** The row's sort key, in orderBy's order; defaults to the row's fields named by the columns. */
  keyOf?: (row: TRow) => readonly CursorValue[];
}

export interface Page<TRow> {
  items: TRow[];
  /** null on the last page. */
  nextCursor: string | null;
}

/**
 * Runs `query` (left unchanged) for one page: rows after the cursor's key in `orderBy` order,
 * at most `limit`. Fetches one extra row to know whether another page exists.
 */
export async function paginate<TRow>(
  query: Knex.QueryBuilder,
  options: PaginateOptions<TRow>,
): Promise<Page<TRow>> {
  const { orderBy, limit } = options;
  if (orderBy.length === 0) throw new Error('paginate needs at least one orderBy column');
  parseLimit(limit);
  const page = query.clone();
  if (options.cursor) {
    const after = decodeCursor(options.cursor, options);
    if (after.length !== orderBy.length || !orderBy.every((o, i) => fitsColumn(after[i]!, o.type))) {
      throw new InvalidCursorError();
    }
    page.where(keysetAfter(orderBy, after));
  }
  page
    .orderBy(orderBy.map(({ column, direction = 'asc' }) => ({ column, order: direction })))
    .limit(limit + 1);

  const rows = (await page) as TRow[];
  if (rows.length <= limit) return { items: rows, nextCursor: null };
  const items = rows.slice(0, limit);
  const keyOf = options.keyOf ?? defaultKeyOf<TRow>(orderBy);
  const key = keyOf(items[items.length - 1]!);
  if (key.some((v) => typeof v !== 'string' && typeof v !== 'number')) {
    throw new Error(`paginate: the sort key must be strings and numbers, got ${JSON.stringify(key)}`);
  }
  return { items, nextCursor: encodeCursor(key, options) };
}

/** The range of an `integer` column (PostgreSQL fails a comparison with a value past it). */
const MAX_INTEGER_KEY = 2_147_483_647;

function fitsColumn(value: CursorValue, type: OrderBy['type']): boolean {
  if (type === 'integer') return Number.isSafeInteger(value) && Math.abs(value as number) <= MAX_INTEGER_KEY;
  if (type === 'date') {
    return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value));
  }
  if (type === 'text') return typeof value === 'string' && !value.includes('\u0000') && value.isWellFormed();
  return true;
}

/**
 * `(a, b) > (x, y)` spelled out as `a > x OR (a = x AND b > y)`, with `<` for descending
 * columns: row-value comparison does not mix directions, and this form uses the index on both
 * databases.
 */
function keysetAfter(orderBy: readonly OrderBy[], after: readonly CursorValue[]) {
  return (outer: Knex.QueryBuilder) => {
    orderBy.forEach((current, i) => {
      outer.orWhere((inner) => {
        for (let j = 0; j < i; j += 1) inner.where(orderBy[j]!.column, '=', after[j]!);
        inner.where(current.column, current.direction === 'desc' ? '<' : '>', after[i]!);
      });
    });
  };
}

function defaultKeyOf<TRow>(orderBy: readonly OrderBy[]) {
  // `models.id` is read back as the field `id`.
  const fields = orderBy.map(({ column }) => column.slice(column.lastIndexOf('.') + 1));
  return (row: TRow) => fields.map((field) => (row as Record<string, CursorValue>)[field]!);
}
