// Reports and baselines. Every run writes docs/performance/load-<name>.md and .json: when,
// which commit, which machine, and the figures per endpoint next to the same-run reference.
//
// The reference is GET /healthz, measured in the same run under the same load: it touches
// neither the database nor the queue, so an endpoint's p95 divided by the reference's p95 says
// how much work the endpoint adds, whatever the machine's speed that day. The baseline
// (docs/performance/load-baseline.json) stores those ratios per run kind and database; a run
// regresses when a ratio exceeds the baseline's by more than the tolerance AND by more than three
// reference units (at a 1 ms reference a 1 → 3 move is rounding noise, not a regression), provided
// the two runs' references are within 3× of each other (see `incomparable`).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EndpointFigures, RunFigures } from './artillery.ts';
import type { MemoryFigures } from './memory.ts';

export const REFERENCE = 'GET /healthz';
export const TOLERANCE = 0.5;
// Artillery reports whole milliseconds below 10 ms, so at a 1 ms reference a quiet p95 moves by
// two units between identical runs (seen: 1 → 3 and 3 → 5, same code, half an hour apart).
const MIN_REGRESSION_UNITS = 3;
export const REFERENCE_SPREAD = 3;

export interface Provenance {
  date: string;
  commit: string;
  machine: string;
  node: string;
}

export interface BaselineEntry {
  measuredAt: string;
  commit: string;
  /** The reference's own p95 in that run, in ms: how loaded the machine was. */
  referenceP95?: number;
  /** Endpoint p95 / reference p95, per request name. */
  ratios: Record<string, number>;
}

export interface Baseline {
  reference: string;
  tolerance: number;
  rule: string;
  entries: Record<string, BaselineEntry>;
}

export interface Regression {
  endpoint: string;
  baseline: number;
  now: number;
}

export function provenance(root: string): Provenance {
  const git = (args: string[]): string => {
    try {
      return execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  const commit = git(['rev-parse', '--short=12', 'HEAD']) || 'unknown';
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== '';
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    commit: dirty ? `${commit} (with uncommitted changes)` : commit,
    machine: `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 1024 ** 3)} GiB, ${os.type()} ${os.release()}, load average ${os.loadavg()[0]?.toFixed(2)} at start`,
    node: process.version,
  };
}

/** p95 / reference p95 for every endpoint of a run (the reference itself is 1). */
export function ratiosOf(run: RunFigures): Record<string, number> {
  const reference = run.endpoints[REFERENCE]?.p95 ?? 0;
  if (reference <= 0) return {};
  return Object.fromEntries(
    Object.entries(run.endpoints).map(([name, figures]) => [
      name,
      Math.round((figures.p95 / reference) * 100) / 100,
    ]),
  );
}

export function readBaseline(file: string): Baseline {
  if (!existsSync(file)) return emptyBaseline();
  return JSON.parse(readFileSync(file, 'utf8')) as Baseline;
}

function emptyBaseline(): Baseline {
  return {
    reference: REFERENCE,
    tolerance: TOLERANCE,
    rule: `a run regresses when an endpoint's p95 / ${REFERENCE} p95 exceeds the baseline ratio by more than ${TOLERANCE * 100} % and by more than ${MIN_REGRESSION_UNITS} reference units; runs whose ${REFERENCE} p95 differ by more than ${REFERENCE_SPREAD}× are not compared`,
    entries: {},
  };
}

/**
 * Why ratios from this run cannot be held against the entry's, if they cannot. On a machine so
 * busy that the reference itself slows down several-fold, every endpoint's p95 is mostly the
 * same queueing delay and the ratios crowd towards 1; a quiet run against such a baseline would
 * "regress" everywhere. So the runs compare only when their references are within
 * REFERENCE_SPREAD of each other, and the report says when they are not.
 */
export function incomparable(entry: BaselineEntry | undefined, referenceP95: number): string | undefined {
  if (!entry) return 'no baseline entry';
  const then = entry.referenceP95;
  if (then === undefined || then <= 0 || referenceP95 <= 0) return undefined;
  const spread = Math.max(then, referenceP95) / Math.min(then, referenceP95);
  if (spread <= REFERENCE_SPREAD) return undefined;
  return `the reference's p95 is ${referenceP95} ms here and was ${then} ms in the baseline (more than ${REFERENCE_SPREAD}× apart: the machine's load differs too much for the ratios to compare)`;
}

export function compareToBaseline(
  entry: BaselineEntry | undefined,
  ratios: Record<string, number>,
): Regression[] {
  if (!entry) return [];
  const regressions: Regression[] = [];
  for (const [endpoint, baseline] of Object.entries(entry.ratios)) {
    const now = ratios[endpoint];
    if (now === undefined) continue; // a flow that was skipped this time
    if (now > baseline * (1 + TOLERANCE) && now - baseline > MIN_REGRESSION_UNITS) {
      regressions.push({ endpoint, baseline, now });
    }
  }
  return regressions;
}

export function writeBaselineEntry(file: string, key: string, entry: BaselineEntry): void {
  const baseline = readBaseline(file);
  baseline.entries[key] = entry;
  writeFileSync(file, `${JSON.stringify(baseline, null, 2)}\n`);
}

/** One row per endpoint, the reference first, with its p95 ratio and ceiling. */
export function endpointTable(
  endpoints: Record<string, EndpointFigures>,
  ceilings: Record<string, { p95: number; p99: number }>,
): string {
  const reference = endpoints[REFERENCE]?.p95 ?? 0;
  const names = Object.keys(endpoints).sort((a, b) =>
    a === REFERENCE ? -1 : b === REFERENCE ? 1 : a < b ? -1 : 1,
  );
  const rows = names.map((name) => {
    const f = endpoints[name] as EndpointFigures;
    const ratio = reference > 0 ? (f.p95 / reference).toFixed(2) : '—';
    const ceiling = ceilings[name];
    return `| ${name} | ${f.count} | ${f.p50} | ${f.p95} | ${f.p99} | ${f.max} | ${ratio} | ${ceiling ? `${ceiling.p95} / ${ceiling.p99}` : '—'} |`;
  });
  return [
    '| endpoint | requests | p50 ms | p95 ms | p99 ms | max ms | p95 ÷ reference | ceiling p95 / p99 ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

export function memoryTable(memory: Record<string, MemoryFigures>): string {
  const rows = Object.entries(memory).map(
    ([name, m]) =>
      `| ${name} | ${m.samples} | ${m.startMb} | ${m.steadyMb} | ${m.peakMb} | ${m.endMb} | ${m.growthMbPerMinute} |`,
  );
  return [
    '| process | samples | start MB | steady MB (median, 2nd half) | peak MB | end MB | growth MB/min |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}

export function writeReport(dir: string, name: string, markdown: string, json: unknown): string[] {
  const md = path.join(dir, `load-${name}.md`);
  const js = path.join(dir, `load-${name}.json`);
  writeFileSync(md, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
  writeFileSync(js, `${JSON.stringify(json, null, 2)}\n`);
  return [md, js];
}
