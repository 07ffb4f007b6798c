// `npm run bench`: runs the benchmarks, each in a process of its own (so that one's memory and
// event loop do not colour another's figures), and writes their reports under docs/performance/,
// each ending with its "Before and after": every ratio beside the one in the report it replaced
// (bench-compare.ts), so that a figure which fell shows in the report.
//
//   npm run bench                      every benchmark with its default sizes
//   npm run bench -- --jobs 5000       a smaller queue run (arguments go to every benchmark)
//   npm run bench -- --only queue      one benchmark by name (queue, kpi, import, reads, submit, console)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { beforeAndAfter } from './bench-compare.ts';

interface Benchmark {
  name: string;
  script: string;
  /** Where it writes its markdown report. */
  report: string;
  /** Options of this runner's command line it understands, passed on when given. */
  accepts: readonly string[];
}

const BENCHMARKS: readonly Benchmark[] = [
  {
    name: 'queue',
    script: 'packages/queue/bench/queue-bench.ts',
    report: 'docs/performance/queue-bench.md',
    accepts: ['jobs', 'samples', 'repeat', 'concurrency', 'backend'],
  },
  {
    name: 'kpi',
    script: 'packages/db/bench/kpi-bench.ts',
    report: 'docs/performance/kpi-bench.md',
    // --backend sqlite|postgres; sizes as comma-separated model counts.
    accepts: ['backend', 'runs', 'postgres-sizes', 'sqlite-sizes', 'naive-models'],
  },
  {
    // CSV import against COPY: 10 and 100 MB files by default, 1 GB with --sizes 10,100,1000.
    name: 'import',
    script: 'packages/imports/bench/import-bench.ts',
    report: 'docs/performance/import-bench.md',
    accepts: ['sizes', 'db'],
  },
  {
    // Read endpoints against a bare Express route; --backend sqlite|postgres.
    name: 'reads',
    script: 'apps/api/bench/reads-bench.ts',
    report: 'docs/performance/reads-bench.md',
    // --profile DIR (default: a folder in the temporary directory; none to skip).
    accepts: ['models', 'duration', 'connections', 'repeat', 'backend', 'profile'],
  },
  {
    // POST /v1/jobs against a bare Express INSERT route; --backend sqlite|postgres.
    name: 'submit',
    script: 'apps/api/bench/submit-bench.ts',
    report: 'docs/performance/submit-bench.md',
    accepts: ['duration', 'connections', 'repeat', 'backend'],
  },
  {
    // The console's overview and first jobs page with --jobs retained jobs (default 1,000,000):
    // server time and Chromium render time; --backend sqlite|postgres.
    name: 'console',
    script: 'apps/console/bench/console-bench.ts',
    report: 'docs/performance/console-bench.md',
    accepts: ['jobs', 'samples', 'backend'],
  },
];

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    jobs: { type: 'string' },
    samples: { type: 'string' },
    repeat: { type: 'string' },
    concurrency: { type: 'string' },
    backend: { type: 'string' },
    runs: { type: 'string' },
    'postgres-sizes': { type: 'string' },
    'sqlite-sizes': { type: 'string' },
    'naive-models': { type: 'string' },
    sizes: { type: 'string' },
    db: { type: 'string' },
    models: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string' },
    profile: { type: 'string' },
  },
});

const selected = BENCHMARKS.filter((b) => values.only === undefined || b.name === values.only);
if (selected.length === 0) {
  process.stderr.write(`--only must be one of: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`);
  process.exit(2);
}

let failed = 0;
for (const bench of selected) {
  const args = [bench.script, '--out', bench.report];
  for (const option of bench.accepts) {
    const value = values[option as keyof typeof values];
    // --backend picks one of the queue's backends (the benchmark's own flag is --only).
    if (value !== undefined) args.push(option === 'backend' ? '--only' : `--${option}`, value);
  }
  process.stderr.write(`\n== bench ${bench.name}: node ${args.join(' ')}\n`);
  const previous = existsSync(bench.report) ? readFileSync(bench.report, 'utf8') : null;
  const started = Date.now();
  const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  // A benchmark that missed a target still wrote its report (and exits 1): compare it too.
  const report = existsSync(bench.report) ? readFileSync(bench.report, 'utf8') : null;
  if (report !== null && report !== previous) {
    const section = beforeAndAfter(previous, report);
    writeFileSync(bench.report, `${report.trimEnd()}\n\n${section}`);
    process.stderr.write(`\n${section}\n`);
  }
  if (result.status === 0) {
    process.stderr.write(`== bench ${bench.name} done in ${seconds}s: ${bench.report}\n`);
  } else {
    failed += 1;
    process.stderr.write(`== bench ${bench.name} failed (exit ${result.status}) after ${seconds}s\n`);
  }
}
process.exit(failed === 0 ? 0 : 1);
