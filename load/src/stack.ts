// The system under load: one API (API_PROCESSES of them in cluster mode) and one worker,
// started with scripts/processes.ts on free loopback ports, with rate limiting off and their
// logs in a file, and stopped when the run ends. Ready means GET /readyz answers 200.
import type { ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { freePort } from '@offload/db/testing';
import { API_ENTRY, startChild, stopChild, WORKER_ENTRY } from '../../scripts/processes.ts';

export interface StackOptions {
  databaseUrl: string;
  apiKey: string;
  apiProcesses: number;
  /** Where both processes write their output. */
  logFile: string;
  /** The environment the processes inherit before the settings above. */
  baseEnv: NodeJS.ProcessEnv;
}

export interface Stack {
  target: string;
  apiPid: number;
  workerPid: number;
  /** Why a process of the stack has exited before `stop`, if one has. */
  failure(): string | undefined;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 120_000;

/** Raised when a process of the stack exits before it is ready or while it is under load. */
export class StackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StackError';
  }
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const [port, workerPort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...options.baseEnv,
    DATABASE_URL: options.databaseUrl,
    PORT: String(port),
    WORKER_PORT: String(workerPort),
    API_PROCESSES: String(options.apiProcesses),
    API_BOOTSTRAP_KEY: options.apiKey,
    // The load is many clients sharing one key: the per-key limit would measure itself.
    API_RATE_LIMIT_PER_SECOND: '0',
    // Every client comes from one loopback address: the bad-key flows would meet the unknown-key gate.
    API_UNKNOWN_KEY_PER_SECOND: '0',
    LOG_LEVEL: 'warn',
  };
  const out = openSync(options.logFile, 'a');
  const stdio = ['ignore', out, out] as const;
  const children: Array<[string, ChildProcess]> = [
    ['api', startChild('api', API_ENTRY, { env, stdio: [...stdio], tag: 'load' })],
    ['worker', startChild('worker', WORKER_ENTRY, { env, stdio: [...stdio], tag: 'load' })],
  ];
  let stopping = false;
  let failure: string | undefined;
  const died = new Promise<never>((_, reject) => {
    for (const [name, child] of children) {
      child.once('exit', (code, signal) => {
        if (stopping) return;
        failure ??= `the ${name} exited (${code ?? signal}); see ${options.logFile}`;
        reject(new StackError(failure));
      });
    }
  });
  died.catch(() => {});
  const stop = async () => {
    stopping = true;
    await Promise.all(children.map(([, child]) => stopChild(child)));
  };
  const target = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([waitReady(`${target}/readyz`), died]);
  } catch (error) {
    await stop();
    throw error;
  }
  const [api, worker] = children.map(([, child]) => child.pid ?? 0);
  return { target, apiPid: api ?? 0, workerPid: worker ?? 0, failure: () => failure, stop };
}

async function waitReady(url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {}
    if (Date.now() > deadline) throw new StackError(`${url} was not ready after ${READY_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
