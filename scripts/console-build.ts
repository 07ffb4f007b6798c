// Builds the operator console (apps/console) into apps/console/dist, which the API serves at
// /console. Run by `npm run setup` and `npm start` (scripts/toolchain.cjs) and by the console's
// browser tests. In order:
//   1. the OpenAPI document, as the API serves it: the app is built in process on a scratch
//      SQLite file and /v1/openapi.json is fetched from it;
//   2. the typed client, generated from that document by openapi-typescript
//      (apps/console/src/api/schema.gen.ts), so a contract change breaks step 3;
//   3. the console's own type check (TypeScript 5, the generator's peer, from apps/console);
//   4. the Vite build.
// Steps 2-4 are skipped when the document and the console's sources are those of the last
// build (a stamp in dist/), so a second `npm start` costs about a second.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { servedOpenApiDocument } from '../apps/api/src/served-openapi.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const consoleDir = join(root, 'apps/console');
const distDir = join(consoleDir, 'dist');
const stampFile = join(distDir, '.build-stamp');
const schemaFile = join(consoleDir, 'src/api/schema.gen.ts');
const documentFile = join(consoleDir, '.openapi.json');
const bin = (name: string) => join(consoleDir, 'node_modules/.bin', name);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const full = join(dir, name);
      return statSync(full).isDirectory() ? sourceFiles(full) : [full];
    });
}

function fingerprint(document: string): string {
  const hash = createHash('sha256').update(document);
  const inputs = [
    ...['index.html', 'package.json', 'tsconfig.json', 'vite.config.ts'].map((name) =>
      join(consoleDir, name),
    ),
    ...sourceFiles(join(consoleDir, 'src')).filter((file) => file !== schemaFile),
  ];
  for (const file of inputs) hash.update(relative(consoleDir, file)).update(readFileSync(file));
  return hash.digest('hex');
}

function run(command: string, args: string[]): void {
  // The same production build whoever runs it (vitest sets NODE_ENV=test, which Vite would follow).
  const result = spawnSync(command, args, {
    cwd: consoleDir,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) throw new Error(`${relative(root, command)} ${args.join(' ')} failed`);
}

/** Builds the console unless the last build is current. Returns whether it built. */
export async function buildConsole(options: { quiet?: boolean } = {}): Promise<boolean> {
  const document = await servedOpenApiDocument();
  const stamp = fingerprint(document);
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return false;
  const say = (line: string) => options.quiet || process.stderr.write(`[console] ${line}\n`);
  writeFileSync(documentFile, `${document}\n`);
  say('generating the typed client from /v1/openapi.json');
  run(bin('openapi-typescript'), [documentFile, '--output', schemaFile, '--silent']);
  say('type-checking');
  run(bin('tsc'), ['-p', 'tsconfig.json']);
  say('building with Vite');
  run(bin('vite'), ['build', '--logLevel', options.quiet ? 'warn' : 'info']);
  writeFileSync(stampFile, stamp);
  return true;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  buildConsole().catch((error: unknown) => {
    process.stderr.write(
      `[console] build failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  });
}
