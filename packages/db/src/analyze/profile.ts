// Runs each captured statement many times on its own connection and reads its plan: EXPLAIN
// ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite. Every run, the plan included, is inside a
// transaction that is rolled back, so a claim or a completion can be profiled on a live database
// without moving a job.
import { parseDatabaseUrl } from '@offload/config';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Dialect } from '../knex.ts';
import type { CapturedStatement } from './capture.ts';

export interface StatementProfile extends CapturedStatement {
  runs: number;
  p50Ms: number;
  p95Ms: number;
  /** Rows returned (or written) by the statement. */
  rows: number;
  indexes: string[];
  /** Tables read whole, without an index. */
  fullScans: string[];
  plan: string;
  /** Problems that fail the analysis (empty for a statement that is not judged). */
  problems: string[];
  /** Whether the thresholds apply (a batch rebuild reads the whole inventory by design). */
  judged: boolean;
  error?: string;
}

const BATCH_RUNS = 3;

export interface ProfileOptions {
  runs: number;
  /** A table with more rows than this must not be read whole by a judged statement. */
  largeTableRows: number;
  /** A judged statement's p95 above this fails. */
  maxP95Ms: number;
  /** Labels whose statements are reported but not judged. */
  isBatch: (label: string) => boolean;
}

interface Runner {
  dialect: Dialect;
  /** Runs the statement once in a rolled-back transaction; returns its rows and time. */
  time(statement: CapturedStatement): Promise<{ ms: number; rows: number }>;
  explain(statement: CapturedStatement): Promise<string>;
  tableRows(): Promise<Map<string, number>>;
  close(): Promise<void>;
}

export async function profileStatements(
  databaseUrl: string,
  statements: readonly CapturedStatement[],
  options: ProfileOptions,
): Promise<StatementProfile[]> {
  const runner = await openRunner(databaseUrl);
  try {
    const sizes = await runner.tableRows();
    const profiles: StatementProfile[] = [];
    for (const statement of statements) {
      const judged = !options.isBatch(statement.label);
      try {
        const times: number[] = [];
        let rows = 0;
        // A batch statement reads the whole inventory: a few runs say what it costs.
        const runs = judged ? options.runs : Math.min(options.runs, BATCH_RUNS);
        for (let i = 0; i < runs; i++) {
          const run = await runner.time(statement);
          times.push(run.ms);
          rows = run.rows;
        }
        times.sort((a, b) => a - b);
        const plan = await runner.explain(statement);
        const { indexes, fullScans } = readPlan(runner.dialect, plan, sizes, statement.sql);
        const p95Ms = quantile(times, 0.95);
        const problems: string[] = [];
        if (judged) {
          if (p95Ms > options.maxP95Ms) problems.push(`p95 ${p95Ms.toFixed(1)} ms > ${options.maxP95Ms} ms`);
          for (const table of fullScans) {
            const n = sizes.get(table) ?? 0;
            if (n > options.largeTableRows)
              problems.push(`reads ${table} (${n.toLocaleString('en-US')} rows) whole`);
          }
        }
        profiles.push({
          ...statement,
          runs,
          p50Ms: quantile(times, 0.5),
          p95Ms,
          rows,
          indexes,
          fullScans,
          plan,
          problems,
          judged,
        });
      } catch (error) {
        const message = (error as Error).message;
        // An insert of the very row its capture wrote (a job's fixed id) cannot run again; its
        // plan is a primary-key insert, not a question of indexes.
        const conflict = /UNIQUE constraint failed|duplicate key value/.test(message);
        profiles.push({
          ...statement,
          runs: 0,
          p50Ms: 0,
          p95Ms: 0,
          rows: 0,
          indexes: [],
          fullScans: [],
          plan: '',
          problems: judged && !conflict ? [`could not be replayed: ${message}`] : [],
          judged: judged && !conflict,
          error: message,
        });
      }
    }
    return profiles;
  } finally {
    await runner.close();
  }
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/**
 * The indexes a plan uses and the tables it reads whole (only tables of the database count;
 * SQLite's plans name a table by its alias in `sql`, which is read back to the table).
 */
export function readPlan(
  dialect: Dialect,
  plan: string,
  tables: ReadonlyMap<string, number>,
  sql = '',
): { indexes: string[]; fullScans: string[] } {
  const indexes = new Set<string>();
  const fullScans = new Set<string>();
  const aliases = new Map<string, string>();
  for (const m of sql.matchAll(/\b(?:from|join)\s+[`"]?(\w+)[`"]?(?:\s+(?:as\s+)?[`"]?(\w+)[`"]?)?/gi)) {
    if (m[2] !== undefined && tables.has(m[1]!)) aliases.set(m[2], m[1]!);
  }
  const limitedWalk = dialect === 'sqlite' && /\blimit\b/i.test(sql) && !/USE TEMP B-TREE/.test(plan);
  const known = (name: string | undefined) => {
    const table = name === undefined ? undefined : (aliases.get(name) ?? name);
    return table !== undefined && tables.has(table) ? table : undefined;
  };
  for (const line of plan.split('\n')) {
    if (dialect === 'postgres') {
      const index =
        /(?:Index Scan|Index Only Scan)(?: Backward)? using (\S+) on (\S+)|Bitmap Index Scan on (\S+)/.exec(
          line,
        );
      if (index) indexes.add(index[1] ?? index[3]!);
      const seq = /Seq Scan on (\S+)/.exec(line);
      const table = known(seq?.[1]?.replace(/^\w+\./, ''));
      if (table) fullScans.add(table);
    } else {
      const index = /(?:SEARCH|SCAN) (\S+)(?: AS \S+)? USING (?:COVERING )?INDEX (\S+)/.exec(line);
      if (index) indexes.add(index[2]!);
      else if (/USING (?:INTEGER )?PRIMARY KEY/.test(line)) {
        const table = known(/(?:SEARCH|SCAN) (\S+)/.exec(line)?.[1]);
        if (table) indexes.add(`${table} primary key`);
      }
      const scan = /^\s*(?:[|`-]+\s*)?SCAN (\S+)(?: AS \S+)?\s*$/.exec(line);
      const table = known(scan?.[1]);
      // A scan in the table's own order with no sort after it, under a LIMIT, stops at the
      // limit (a first page by id): it reads a page, not the table.
      if (table && limitedWalk) indexes.add(`${table} rowid order, stopped by LIMIT`);
      else if (table) fullScans.add(table);
    }
  }
  return { indexes: [...indexes], fullScans: [...fullScans] };
}

async function openRunner(databaseUrl: string): Promise<Runner> {
  const target = parseDatabaseUrl(databaseUrl);
  if (target.kind === 'sqlite') {
    const db = new Database(target.path, { fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    const prepared = new Map<string, Database.Statement>();
    const prepare = (sql: string) => {
      let statement = prepared.get(sql);
      if (statement === undefined) {
        statement = db.prepare(sql);
        prepared.set(sql, statement);
      }
      return statement;
    };
    return {
      dialect: 'sqlite',
      async time({ sql, params }) {
        const statement = prepare(sql);
        db.exec('BEGIN');
        try {
          const t0 = performance.now();
          const rows = statement.reader ? statement.all(...params).length : statement.run(...params).changes;
          return { ms: performance.now() - t0, rows };
        } finally {
          db.exec('ROLLBACK');
        }
      },
      async explain({ sql, params }) {
        const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{
          id: number;
          parent: number;
          detail: string;
        }>;
        const depth = new Map<number, number>([[0, -1]]);
        return rows
          .map((row) => {
            const level = (depth.get(row.parent) ?? -1) + 1;
            depth.set(row.id, level);
            return `${'  '.repeat(level)}${row.detail}`;
          })
          .join('\n');
      },
      async tableRows() {
        const names = db
          .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
          .pluck()
          .all() as string[];
        return new Map(
          names.map((name) => [
            name,
            db
              .prepare(`SELECT count(*) FROM "${name.replace(/"/g, '""')}"`)
              .pluck()
              .get() as number,
          ]),
        );
      },
      async close() {
        db.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  return {
    dialect: 'postgres',
    async time({ sql, params }) {
      await client.query('BEGIN');
      try {
        const t0 = performance.now();
        const result = await client.query(sql, params);
        return { ms: performance.now() - t0, rows: result.rowCount ?? result.rows.length };
      } finally {
        await client.query('ROLLBACK');
      }
    },
    async explain({ sql, params }) {
      await client.query('BEGIN');
      try {
        const result = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
        return result.rows.map((row) => String(row['QUERY PLAN'])).join('\n');
      } finally {
        await client.query('ROLLBACK');
      }
    },
    async tableRows() {
      // The planner's estimate: exact counts of large tables would cost more than the analysis.
      const { rows } = await client.query(
        `SELECT c.relname AS name, GREATEST(c.reltuples, 0)::bigint AS n
           FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p') AND s.nspname NOT IN ('pg_catalog', 'information_schema')`,
      );
      return new Map(rows.map((r) => [String(r.name), Number(r.n)]));
    },
    async close() {
      await client.end();
    },
  };
}
