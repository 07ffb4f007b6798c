// The verification a copy ends with, and `npm run db -- verify` runs alone: per table (and per
// queue set), the rows on each side and an order-independent checksum of their canonical values,
// then the target's foreign keys. Both sides are read read-only.
import { RowChecksum } from './checksum.ts';
import { QUEUE_SETS } from './queue-tables.ts';
import { openReader, quoteIdent, type Readable, type TableInfo } from './side.ts';
import { canonicalValue } from './values.ts';

export interface VerifyOptions {
  from: string;
  to: string;
  /** Compare completed, failed and cancelled jobs too (a copy made with --with-history). */
  withHistory?: boolean;
  batchSize?: number;
}

export interface TableVerification {
  name: string;
  sourceRows: number;
  targetRows: number;
  sourceChecksum: string;
  targetChecksum: string;
  ok: boolean;
}

export interface VerificationReport {
  tables: TableVerification[];
  foreignKeyViolations: Array<{ table: string; parent: string; rows: number }>;
  ok: boolean;
}

export const DEFAULT_BATCH_SIZE = 5_000;

export async function verifyDatabases(options: VerifyOptions): Promise<VerificationReport> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const source = await openReader(options.from, '--from');
  try {
    const target = await openReader(options.to, '--to');
    try {
      const sourceTables = await source.tables();
      const targetTables = new Map((await target.tables()).map((t) => [t.name, t]));
      const results: TableVerification[] = [];
      for (const table of sourceTables) {
        const other = targetTables.get(table.name);
        const a = await tableChecksum(source, table, table, batchSize);
        const b =
          other === undefined ? new RowChecksum() : await tableChecksum(target, other, table, batchSize);
        results.push(result(table.name, a, b));
      }
      for (const set of QUEUE_SETS) {
        const sums: RowChecksum[] = [];
        for (const side of [source, target]) {
          const sum = new RowChecksum();
          for await (const rows of set.read(side, options.withHistory ?? false, batchSize)) {
            for (const row of rows) sum.add(set.canonical(row));
          }
          sums.push(sum);
        }
        results.push(result(set.name, sums[0]!, sums[1]!));
      }
      const foreignKeyViolations = await target.foreignKeyViolations([...targetTables.keys()]);
      return {
        tables: results,
        foreignKeyViolations,
        ok: results.every((r) => r.ok) && foreignKeyViolations.length === 0,
      };
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

function result(name: string, a: RowChecksum, b: RowChecksum): TableVerification {
  return {
    name,
    sourceRows: a.rows,
    targetRows: b.rows,
    sourceChecksum: a.value,
    targetChecksum: b.value,
    ok: a.rows === b.rows && a.value === b.value,
  };
}

/** The checksum of `table` on `side`, over the columns of `reference` (the source's), in its order. */
async function tableChecksum(
  side: Readable,
  table: TableInfo,
  reference: TableInfo,
  batchSize: number,
): Promise<RowChecksum> {
  const kinds = new Map(table.columns.map((c) => [c.name, c.kind]));
  const columns = reference.columns.map((c) => ({ name: c.name, kind: kinds.get(c.name) ?? c.kind }));
  const present = columns.filter((c) => kinds.has(c.name));
  const sum = new RowChecksum();
  const sql = `SELECT ${present.map((c) => quoteIdent(c.name)).join(', ')} FROM ${quoteIdent(table.name)}`;
  for await (const rows of side.batches(sql, [], batchSize)) {
    for (const row of rows) {
      sum.add(
        columns.map((c) => (kinds.has(c.name) ? canonicalValue(c.kind, row[c.name]) : '\u0000missing')),
      );
    }
  }
  return sum;
}

/** The verification as a table, then the verdict. */
export function formatVerification(report: VerificationReport): string {
  const header = ['table', 'source rows', 'target rows', 'source checksum', 'target checksum', ''];
  const rows = report.tables.map((t) => [
    t.name,
    t.sourceRows.toLocaleString('en-US'),
    t.targetRows.toLocaleString('en-US'),
    t.sourceChecksum,
    t.targetChecksum,
    t.ok ? 'ok' : 'MISMATCH',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  out.push(
    report.foreignKeyViolations.length === 0
      ? 'foreign keys: every reference on the target points at a row'
      : `foreign keys: ${report.foreignKeyViolations.map((v) => `${v.rows} rows of ${v.table} point at missing ${v.parent}`).join('; ')}`,
  );
  const bad = report.tables.filter((t) => !t.ok).map((t) => t.name);
  const badKeys = [...new Set(report.foreignKeyViolations.map((v) => v.table))];
  out.push(
    report.ok
      ? 'verified: the target holds the same rows as the source'
      : `MISMATCH in ${[...bad, ...badKeys.filter((t) => !bad.includes(t))].join(', ')}`,
  );
  return out.join('\n');
}
