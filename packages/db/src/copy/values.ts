// One value of a copied column, in the forms the copy needs: canonical text for the checksum (the
// same whichever database it was read from), PostgreSQL's COPY text format, and a SQLite binding.
//
// What the two databases hand back differs in three ways only, because both readers parse
// instants and dates to the same ISO text (see Db in ../knex.ts): booleans are 1/0 in SQLite and
// true/false in PostgreSQL; jsonb comes back with its keys reordered and spaced, SQLite's JSON
// text as it was written; binary is a Buffer on both. Numbers are JavaScript numbers on both
// (PostgreSQL's float8 output is the shortest exact form, as JavaScript's is).

export type ColumnKind = 'number' | 'text' | 'bool' | 'json' | 'bytes';

/** JSON with object keys sorted, so jsonb's order and SQLite's written order agree. */
export function canonicalJson(text: string): string {
  return JSON.stringify(sortKeys(JSON.parse(text)));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort())
    sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  return sorted;
}

/** A value's canonical text, or null for NULL (which RowChecksum tells from any text). */
export function canonicalValue(kind: ColumnKind, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'bool':
      return value === true || value === 1 || value === 't' ? 't' : 'f';
    case 'json':
      return canonicalJson(typeof value === 'string' ? value : JSON.stringify(value));
    case 'bytes':
      return (value as Buffer).toString('hex');
    case 'number':
      return String(Number(value));
    default:
      return String(value);
  }
}

// PostgreSQL's COPY text format: tab-separated, \N for null, backslash escapes.
function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
    : value;
}

/** One field of a COPY … FROM STDIN text line. */
export function copyField(kind: ColumnKind, value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  switch (kind) {
    case 'bool':
      return value === true || value === 1 ? 't' : 'f';
    case 'bytes':
      return `\\\\x${(value as Buffer).toString('hex')}`;
    case 'json':
      return copyText(typeof value === 'string' ? value : JSON.stringify(value));
    case 'number':
      return String(value);
    default:
      return copyText(String(value));
  }
}

/** A value as better-sqlite3 binds it into our SQLite columns. */
export function sqliteBinding(kind: ColumnKind, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (kind === 'bool') return value === true || value === 1 ? 1 : 0;
  if (kind === 'json' && typeof value !== 'string') return JSON.stringify(value);
  return value;
}
