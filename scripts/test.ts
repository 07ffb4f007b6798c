// `npm test`: type check, lint, the OpenAPI document through Redocly's recommended rules, then every vitest suite on SQLite and PostgreSQL, ending with a
// one-line summary. Under CI=true an unreachable PostgreSQL fails the run (the suites' global
// setup checks it) instead of skipping its suites.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { summaryLine } from './test-summary.ts';

const reportFile = '.tmp/vitest-report.json';

const steps: Array<[string, string, string[]]> = [
  ['type check', 'tsc', ['-p', 'tsconfig.json']],
  ['lint', 'biome', ['check', '.']],
  ['OpenAPI lint', 'node', ['scripts/openapi-lint.ts']],
  [
    'tests',
    'vitest',
    [
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${reportFile}`,
      ...process.argv.slice(2),
    ],
  ],
];

function summary(): string | undefined {
  try {
    return summaryLine(JSON.parse(readFileSync(reportFile, 'utf8')));
  } catch {
    return undefined;
  }
}

mkdirSync('.tmp', { recursive: true });
rmSync(reportFile, { force: true });
for (const [name, command, args] of steps) {
  const started = Date.now();
  process.stderr.write(`\n== ${name}: ${command} ${args.join(' ')}\n`);
  const result = spawnSync(command, args, { stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    process.stderr.write(`== ${name} failed after ${seconds}s\n`);
    const line = summary();
    if (line) process.stdout.write(`${line}\n`);
    process.exit(result.status ?? 1);
  }
  process.stderr.write(`== ${name} passed in ${seconds}s\n`);
}
process.stdout.write(`${summary() ?? 'tests: summary unavailable'}\n`);
