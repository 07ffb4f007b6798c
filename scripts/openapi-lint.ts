// The OpenAPI document through Redocly's linter with its recommended rules (`npm test` runs it):
// any error or warning fails. The document is built as the API serves it and written to
// .tmp/openapi.json. Offline: telemetry and the update check are turned off.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { buildOpenApiDocument } from '../apps/api/src/openapi.ts';

const file = '.tmp/openapi.json';
mkdirSync('.tmp', { recursive: true });
writeFileSync(file, JSON.stringify(buildOpenApiDocument('0.0.0-lint'), null, 2));

const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };
const lint = (format: string) =>
  spawnSync('redocly', ['lint', file, '--extends', 'recommended', '--format', format], {
    env,
    encoding: 'utf8',
  });

const result = lint('json');
let totals: { errors: number; warnings: number } | undefined;
try {
  totals = (JSON.parse(result.stdout) as { totals: { errors: number; warnings: number } }).totals;
} catch {
  totals = undefined;
}
if (totals === undefined || totals.errors + totals.warnings > 0) {
  // Say what is wrong the way people read it.
  const readable = lint('stylish');
  process.stderr.write(readable.stdout + readable.stderr + (totals === undefined ? result.stderr : ''));
  process.stderr.write(
    `openapi lint: ${totals?.errors ?? '?'} errors, ${totals?.warnings ?? '?'} warnings\n`,
  );
  process.exit(1);
}
process.stdout.write('openapi lint: no errors, no warnings (redocly recommended)\n');
