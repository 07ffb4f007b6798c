// The analysis as a table for the terminal, and as docs/performance/db-analyze-<dialect>.md: the
// table, then each statement with its parameters and its plan.
import type { Dialect } from '../knex.ts';
import type { ProfileOptions, StatementProfile } from './profile.ts';

export interface AnalysisHeader {
  dialect: Dialect;
  database: string;
  models: number;
  date: string;
  commit: string;
  options: Pick<ProfileOptions, 'runs' | 'largeTableRows' | 'maxP95Ms'>;
}

const ms = (value: number) => value.toFixed(value < 10 ? 2 : 1);
const short = (sql: string, width: number) => {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length <= width ? flat : `${flat.slice(0, width - 1)}…`;
};

function verdict(p: StatementProfile): string {
  if (p.problems.length > 0) return `FAIL: ${p.problems.join('; ')}`;
  return p.judged ? 'ok' : 'batch (not judged)';
}

export function analysisPassed(profiles: readonly StatementProfile[]): boolean {
  return profiles.every((p) => p.problems.length === 0);
}

/** Aligned columns for the terminal. */
export function analysisTable(profiles: readonly StatementProfile[]): string {
  const header = [
    '#',
    'operation',
    'statement',
    'p50 ms',
    'p95 ms',
    'rows',
    'indexes used',
    'full scans',
    'verdict',
  ];
  const rows = profiles.map((p, i) => [
    String(i + 1),
    p.label,
    short(p.sql, 48),
    ms(p.p50Ms),
    ms(p.p95Ms),
    String(p.rows),
    p.indexes.join(', ') || '-',
    p.fullScans.join(', ') || '-',
    p.error === undefined ? verdict(p) : `${verdict(p)} (${p.error})`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const numeric = new Set([0, 3, 4, 5]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function analysisMarkdown(header: AnalysisHeader, profiles: readonly StatementProfile[]): string {
  const passed = analysisPassed(profiles);
  const { runs, largeTableRows, maxP95Ms } = header.options;
  const out = [
    `# db analyze: ${header.dialect === 'postgres' ? 'PostgreSQL' : 'SQLite'}`,
    '',
    `${header.date} · commit ${header.commit} · \`npm run db -- analyze\` on ${header.database} · ${header.models.toLocaleString('en-US')} models`,
    '',
    `The statements below are the ones the code really sent (captured at the database drivers) while the command called every read endpoint of an in-process API, the queue's insert, claim, complete and list operations, and the KPI and compliance rebuilds. Each ran ${runs} times (a rebuild's, 3) in a rolled-back transaction; the plan is ${header.dialect === 'postgres' ? 'EXPLAIN (ANALYZE, BUFFERS)' : 'EXPLAIN QUERY PLAN'}, also rolled back. A statement fails when its p95 passes ${maxP95Ms} ms or it reads a table of more than ${largeTableRows.toLocaleString('en-US')} rows whole; the rebuilds' statements read the whole inventory by design (set-based, a constant number of them) and are reported, not judged; an insert that conflicts with the row its capture wrote (a job's fixed id) is shown, not replayed. The machine is shared and loaded: times are noisy.`,
    '',
    `## Result: ${passed ? 'passed' : 'FAILED'}`,
    '',
    '| # | operation | statement | p50 ms | p95 ms | rows | indexes used | full scans | verdict |',
    '|---:|---|---|---:|---:|---:|---|---|---|',
    ...profiles.map(
      (p, i) =>
        `| ${i + 1} | ${cell(p.label)} | \`${cell(short(p.sql, 60))}\` | ${ms(p.p50Ms)} | ${ms(p.p95Ms)} | ${p.rows} | ${cell(p.indexes.join(', ') || '-')} | ${cell(p.fullScans.join(', ') || '-')} | ${cell(verdict(p))} |`,
    ),
    '',
    '## Statements and plans',
    '',
  ];
  profiles.forEach((p, i) => {
    out.push(`### ${i + 1}. ${p.label}`, '', '```sql', p.sql.trim(), '```', '');
    if (p.params.length > 0) out.push(`Parameters: \`${cell(JSON.stringify(p.params).slice(0, 400))}\``, '');
    out.push('```', p.error === undefined ? p.plan : `not replayed: ${p.error}`, '```', '');
  });
  return out.join('\n');
}
