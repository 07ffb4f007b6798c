// `npm run example:client` (CI runs it after `npm test`): examples/client against a started
// stack. Starts `npm start`'s script on a throwaway SQLite database and free ports, generates the
// client's types from the running API's /v1/openapi.json (openapi-typescript), type-checks the
// example with its own TypeScript 5, runs it, then stops the stack with a Ctrl-C. Every step has
// a deadline; the temporary database is removed whatever happens.
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@offload/db/testing';
import { startChild } from './processes.ts';

const EXAMPLE = 'examples/client';
const KEY = `example-client-${process.pid}-key`;
const READY_TIMEOUT_MS = 180_000;
const STEP_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 45_000;

function step(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  process.stderr.write(`[example:client] ${name}\n`);
  const result = spawnSync(command, args, { cwd: EXAMPLE, env, stdio: 'inherit', timeout: STEP_TIMEOUT_MS });
  if (result.status !== 0) {
    throw new Error(`${name} failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`})`);
  }
}

async function stop(stack: ChildProcess): Promise<void> {
  if (stack.exitCode !== null || stack.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => stack.once('exit', () => resolve()));
  process.kill(-stack.pid!, 'SIGINT');
  const timer = setTimeout(() => process.kill(-stack.pid!, 'SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

async function main(): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'offload-example-client-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const stack = startChild('stack', 'scripts/start.ts', {
    tag: 'example:client',
    detached: true,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      DATABASE_URL: `sqlite:${join(directory, 'offload.db')}`,
      PORT: String(port),
      WORKER_PORT: String(await freePort()),
      API_BOOTSTRAP_KEY: KEY,
      LOG_LEVEL: 'warn',
    },
  });
  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (stack.exitCode !== null)
        throw new Error(`the stack exited (${stack.exitCode}) before it was ready`);
      const ready = await fetch(`${url}/readyz`).then(
        (res) => res.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`the stack was not ready within ${READY_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const bin = (name: string) => join('node_modules', '.bin', name);
    step('generate the types from /v1/openapi.json', bin('openapi-typescript'), [
      `${url}/v1/openapi.json`,
      '-o',
      'src/schema.ts',
    ]);
    step('type-check with TypeScript 5', bin('tsc'), ['-p', 'tsconfig.json']);
    step('run', process.execPath, ['src/main.ts'], { ...process.env, OFFLOAD_URL: url, API_KEY: KEY });
    process.stderr.write('[example:client] passed\n');
  } finally {
    await stop(stack);
    rmSync(directory, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`[example:client] ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
