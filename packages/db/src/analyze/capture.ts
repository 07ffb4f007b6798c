// Captures the statements a workload really sends, at the drivers: every pg `Client#query` and
// every better-sqlite3 statement run in this process, whoever issues it (knex, the queue's own
// connections, pg-boss). Each is labelled with the operation the workload was performing
// (`operation(label, fn)`), so the report can say "GET /v1/kpi" or "queue claim" rather than
// show anonymous SQL. The label is the process's current one, not an async context: a request
// sent over HTTP is served in the server's context, not the caller's, so the workload runs one
// operation at a time. Statements are kept once per (label, SQL), with the parameters of their
// first run as the representative ones.
import Database from 'better-sqlite3';
import pg from 'pg';

export interface CapturedStatement {
  label: string;
  sql: string;
  params: unknown[];
}

let current: string | undefined;

// Transaction control, session settings, notifications and locks are not queries to profile.
const NOT_A_QUERY =
  /^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET|RESET|LISTEN|UNLISTEN|NOTIFY|PRAGMA|SHOW|DECLARE|FETCH|CLOSE|DISCARD)\b/i;
const PROFILED = /^\s*(SELECT|WITH|INSERT|UPDATE|DELETE)\b/i;

/** Runs `fn` with the statements sent meanwhile labelled `label` (one operation at a time). */
export async function operation<T>(label: string, fn: () => Promise<T>): Promise<T> {
  current = label;
  try {
    return await fn();
  } finally {
    current = undefined;
  }
}

export interface Capture {
  statements(): CapturedStatement[];
  stop(): void;
}

/** Starts capturing; `stop` puts the drivers back. One capture at a time per process. */
export function captureStatements(): Capture {
  const seen = new Map<string, CapturedStatement>();
  const record = (sql: unknown, params: unknown) => {
    const label = current;
    if (label === undefined || typeof sql !== 'string') return;
    const body = withoutLeadingComments(sql);
    if (NOT_A_QUERY.test(body) || !PROFILED.test(body) || body.includes(';\n')) return;
    const key = `${label}\u0000${sql}`;
    if (!seen.has(key)) seen.set(key, { label, sql, params: Array.isArray(params) ? [...params] : [] });
  };

  const clientProto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const pgQuery = clientProto.query;
  clientProto.query = function (this: unknown, ...args: unknown[]) {
    const [first, second] = args;
    if (typeof first === 'string') record(first, second);
    else if (first !== null && typeof first === 'object' && 'text' in first) {
      const config = first as { text: unknown; values?: unknown };
      record(config.text, config.values ?? second);
    }
    return pgQuery.apply(this, args);
  };

  // better-sqlite3's Statement class is reached through one statement's prototype.
  const probe = new Database(':memory:');
  const statementProto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<
    string,
    (...args: unknown[]) => unknown
  >;
  probe.close();
  const originals = new Map<string, (...args: unknown[]) => unknown>();
  for (const method of ['run', 'get', 'all', 'iterate']) {
    const original = statementProto[method]!;
    originals.set(method, original);
    statementProto[method] = function (this: { source: string }, ...args: unknown[]) {
      record(this.source, args.length === 1 && Array.isArray(args[0]) ? args[0] : args);
      return original.apply(this, args);
    };
  }

  return {
    statements: () => [...seen.values()],
    stop() {
      clientProto.query = pgQuery;
      for (const [method, original] of originals) statementProto[method] = original;
    },
  };
}

// Our named statements open with a comment saying what they do and take.
function withoutLeadingComments(sql: string): string {
  return sql.replace(/^(?:\s*--[^\n]*\n|\s*\/\*[\s\S]*?\*\/)*/, '');
}
