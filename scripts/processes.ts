// The stack's Node.js processes (an API, a worker) started as children of a script: `npm start`
// runs them in the foreground with the script's own environment; `npm run load` runs them with
// an environment of its own and their output in a log file, and stops them when it is done.
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';

export const API_ENTRY = 'apps/api/src/main.ts';
export const WORKER_ENTRY = 'apps/worker/src/main.ts';

export interface StartChildOptions {
  /** Default: this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Default: 'inherit'. */
  stdio?: StdioOptions;
  /** Prefix of the line written when the process cannot start. Default 'start'. */
  tag?: string;
  /** In a process group of its own, out of reach of the terminal's Ctrl-C. Default false. */
  detached?: boolean;
}

/** Runs `entry` (a TypeScript entry point) under the Node.js running this script. */
export function startChild(name: string, entry: string, options: StartChildOptions = {}): ChildProcess {
  const child = spawn(process.execPath, [entry], {
    stdio: options.stdio ?? 'inherit',
    env: options.env ?? process.env,
    detached: options.detached ?? false,
  });
  const tag = options.tag ?? 'start';
  child.on('error', (error) => process.stderr.write(`[${tag}] ${name} failed: ${error.message}\n`));
  return child;
}

/** SIGTERM, then SIGKILL if the process has not exited after `graceMs`; resolves on exit. */
export function stopChild(child: ChildProcess, graceMs = 20_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
