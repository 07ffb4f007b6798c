// The "before and after" of a benchmark report: every ratio a new report holds, beside the same
// row's ratio in the report it replaces, so that a figure which fell shows in the report itself
// (absolute figures move with the shared machine; ratios are measured against a reference in the
// same run, so they are what can be compared from one run to the next).
//
//   const section = beforeAndAfter(previousMarkdown, newMarkdown);   // appended by scripts/bench.ts
//
// Reports are read as markdown: a table is a header row, a `| --- |` row, then rows; its ratio
// columns are those whose header starts with "ratio". A row is named by the `## ` heading above
// its table (reads and submit have one per database) and its cells up to the first figure (the
// queue's "backend | measurement", the reads' "endpoint"). A previous report's own "Before and
// after" section is not read.

export const SECTION_HEADING = '## Before and after';

/** Rows whose ratio is a time against a time (the queue's latencies, "… (ms)"): lower is better. */
const LOWER_IS_BETTER = /\(ms\)/;

export interface RatioRow {
  row: string;
  column: string;
  value: number;
}

/** Every ratio in a report's tables, by row and column. */
export function reportRatios(markdown: string): RatioRow[] {
  const lines = ownPart(markdown).split('\n');
  const ratios: RatioRow[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    if (line.startsWith('## ')) heading = line.slice(3).trim();
    if (!isRow(line) || !isSeparator(lines[i + 1] ?? '')) continue;
    const headers = cells(line);
    const ratioColumns = headers.flatMap((header, at) => (/^ratio/i.test(header) ? [at] : []));
    i += 2;
    for (; i < lines.length && isRow(lines[i]!); i += 1) {
      const row = cells(lines[i]!);
      const firstFigure = row.findIndex((cell) => /^[-+]?[\d,]*\.?\d+$/.test(cell.replaceAll('*', '')));
      const name = [heading, ...row.slice(0, firstFigure === -1 ? 1 : Math.max(1, firstFigure))]
        .filter((part) => part !== '')
        .join(' · ');
      for (const at of ratioColumns) {
        const value = Number.parseFloat((row[at] ?? '').replaceAll('*', ''));
        if (Number.isFinite(value)) ratios.push({ row: name, column: headers[at]!, value });
      }
    }
    i -= 1;
  }
  return ratios;
}

/** The section comparing `current`'s ratios with `previous`'s (null: there was no report). */
export function beforeAndAfter(previous: string | null, current: string): string {
  const lines = [SECTION_HEADING, ''];
  if (previous === null) {
    lines.push('No earlier report to compare with: this is the first.', '');
    return lines.join('\n');
  }
  const before = new Map(reportRatios(previous).map((r) => [`${r.row}\u0000${r.column}`, r.value]));
  const pairs = reportRatios(current).flatMap((r) => {
    const old = before.get(`${r.row}\u0000${r.column}`);
    return old === undefined ? [] : [{ ...r, old }];
  });
  const when = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/.exec(ownPart(previous))?.[0];
  lines.push(
    `Each ratio of this run beside the same row's in the report it replaced (${when ?? 'undated'}).`,
    'Absolute figures move with the shared machine; ratios are taken against a reference measured in',
    'the same run, so they are what compares from run to run. A ratio a fifth worse is marked (lower',
    'is better for times, "… (ms)", higher for the rest).',
    '',
  );
  if (pairs.length === 0) {
    lines.push('The earlier report has none of these rows.', '');
    return lines.join('\n');
  }
  lines.push('| row | column | before | now | change |', '| --- | --- | ---: | ---: | --- |');
  for (const pair of pairs) {
    // A time against a time (ours ÷ the reference's, in ms) is better lower; the rest higher.
    const worse = LOWER_IS_BETTER.test(pair.row) ? pair.value > pair.old * 1.25 : pair.value < pair.old * 0.8;
    const change = `${pair.value >= pair.old ? '+' : ''}${(pair.value - pair.old).toFixed(2)}`;
    lines.push(
      `| ${pair.row} | ${pair.column} | ${pair.old.toFixed(2)} | ${pair.value.toFixed(2)} | ${worse ? `**${change}, worse**` : change} |`,
    );
  }
  lines.push('');
  return lines.join('\n');
}

/** The report without a "Before and after" section of its own. */
function ownPart(markdown: string): string {
  const at = markdown.indexOf(`\n${SECTION_HEADING}\n`);
  return at === -1 ? markdown : markdown.slice(0, at + 1);
}

function isRow(line: string): boolean {
  return line.trimStart().startsWith('|');
}

function isSeparator(line: string): boolean {
  return /^\s*\|(\s*:?-{3,}:?\s*\|)+\s*$/.test(line);
}

function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((cell) => cell.trim());
}
