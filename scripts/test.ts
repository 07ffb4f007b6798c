// `npm test`: type check, lint, then every vitest suite on SQLite and PostgreSQL.
// Under CI=true an unreachable PostgreSQL fails the run (the suites' global setup checks it).
import { spawnSync } from 'node:child_process';

const steps: Array<[string, string, string[]]> = [
  ['type check', 'tsc', ['-p', 'tsconfig.json']],
  ['lint', 'biome', ['check', '.']],
  ['tests', 'vitest', ['run', ...process.argv.slice(2)]],
];

for (const [name, command, args] of steps) {
  const started = Date.now();
  process.stderr.write(`\n== ${name}: ${command} ${args.join(' ')}\n`);
  const result = spawnSync(command, args, { stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    process.stderr.write(`== ${name} failed after ${seconds}s\n`);
    process.exit(result.status ?? 1);
  }
  process.stderr.write(`== ${name} passed in ${seconds}s\n`);
}
