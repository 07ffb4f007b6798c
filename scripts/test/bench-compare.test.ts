// The before-and-after section scripts/bench.ts appends to a benchmark report: ratios found by
// row (under their database's heading) and column, a fall of more than a fifth marked, the
// previous report's own section not read again.
import { describe, expect, it } from 'vitest';
import { beforeAndAfter, reportRatios } from '../bench-compare.ts';

const queueReport = (drain: string, p50: string) => `# Queue benchmark

Generated at 2026-12-07T22:20:08.013Z.

| backend | measurement               |   ours | reference | ratio | target      | result   |
| ------- | ------------------------- | -----: | --------: | ----: | ----------- | -------- |
| sqlite  | drain (jobs/s)            | 30,230 |   434,565 |  ${drain} | ratio ≥ 0.5 | **fail** |
| sqlite  | send-to-start p50 (ms)    |   1.74 |      0.18 |  ${p50} | < 5 ms      | pass     |
| sqlite  | send-to-start p95 (ms)    |   3.30 |      1.33 |  2.48 | —           |          |
`;

const readsReport = `# Reads

## sqlite

| endpoint | req/s | ratio to bare (req/s) | bare CPU/req ÷ ours |
| --- | ---: | ---: | ---: |
| bare Express GET (reference) | 3,560 | — | — |
| GET /v1/kpi | 3,851 | 0.92 | 0.91 |

## postgres

| endpoint | req/s | ratio to bare (req/s) | bare CPU/req ÷ ours |
| --- | ---: | ---: | ---: |
| GET /v1/kpi | 1,916 | 0.93 | 1.00 |

| package | share |
| --- | ---: |
| express | 57.9 % |
`;

describe('reportRatios', () => {
  it('names each ratio by its heading and the cells before the first figure', () => {
    expect(reportRatios(queueReport('0.07', '9.68'))).toEqual([
      { row: 'sqlite · drain (jobs/s)', column: 'ratio', value: 0.07 },
      { row: 'sqlite · send-to-start p50 (ms)', column: 'ratio', value: 9.68 },
      { row: 'sqlite · send-to-start p95 (ms)', column: 'ratio', value: 2.48 },
    ]);
    expect(reportRatios(readsReport)).toEqual([
      { row: 'sqlite · GET /v1/kpi', column: 'ratio to bare (req/s)', value: 0.92 },
      { row: 'postgres · GET /v1/kpi', column: 'ratio to bare (req/s)', value: 0.93 },
    ]);
  });
});

describe('beforeAndAfter', () => {
  it('puts each ratio beside the one it replaces and marks one a fifth worse', () => {
    const section = beforeAndAfter(queueReport('0.07', '9.68'), queueReport('0.13', '4.00'));
    expect(section).toContain('(2026-12-07T22:20:08.013Z)');
    expect(section).toContain('| sqlite · drain (jobs/s) | ratio | 0.07 | 0.13 | +0.06 |');
    // A time against a time: lower is better.
    expect(section).toContain('| sqlite · send-to-start p50 (ms) | ratio | 9.68 | 4.00 | -5.68 |');
    const worse = beforeAndAfter(queueReport('0.13', '4.00'), queueReport('0.07', '9.68'));
    expect(worse).toContain('| sqlite · drain (jobs/s) | ratio | 0.13 | 0.07 | **-0.06, worse** |');
    expect(worse).toContain('| sqlite · send-to-start p50 (ms) | ratio | 4.00 | 9.68 | **+5.68, worse** |');
    expect(section).toContain('| sqlite · send-to-start p95 (ms) | ratio | 2.48 | 2.48 | +0.00 |');
  });

  it('reads only the report, not the section an earlier run appended to it', () => {
    const previous = `${queueReport('0.07', '9.68')}\n${beforeAndAfter(queueReport('0.50', '1.00'), queueReport('0.07', '9.68'))}`;
    expect(reportRatios(previous)).toHaveLength(3);
    expect(beforeAndAfter(previous, queueReport('0.07', '9.68'))).toContain('| 0.07 | 0.07 | +0.00 |');
  });

  it('says when there is nothing to compare with', () => {
    expect(beforeAndAfter(null, readsReport)).toContain('No earlier report');
    expect(beforeAndAfter(readsReport, queueReport('0.1', '1'))).toContain('none of these rows');
  });
});
