// What the API benchmarks (reads-bench.ts, submit-bench.ts) share: a throwaway database per
// backend, servers on ephemeral ports, and measurements that drive a URL from a load-loop.ts
// process while taking the CPU time this (serving) process spent per answer.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb } from '@offload/db';
import type express from 'express';
import type { LoadRequest, LoadResult } from './load-loop.ts';

export type Backend = 'sqlite' | 'postgres';

/** One measurement, with the CPU the serving process spent per answered request. */
export interface Measured extends LoadResult {
  cpuUsPerRequest: number;
}

export interface LoadShape {
  connections: number;
  durationMs: number;
}

export const log = (line: string) => process.stderr.write(`${line}\n`);

export const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** The PostgreSQL server the throwaway databases go on (BENCH_DATABASE_URL to pick another). */
export const benchPostgresUrl = (): string =>
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';

export function listen(app: express.Express): Promise<Server> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

export async function closeServer(server: Server): Promise<void> {
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeAllConnections();
  await closed;
}

export function urlOf(server: Server, path: string): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
}

/** Runs load-loop.ts against `url` in a process of its own and returns what it printed. */
export function load(
  url: string,
  connections: number,
  durationMs: number,
  request: LoadRequest = {},
): Promise<LoadResult> {
  const script = join(import.meta.dirname, 'load-loop.ts');
  const args = [
    script,
    url,
    String(connections),
    String(durationMs),
    ...(request.authorization === undefined ? [] : [request.authorization]),
    ...(request.method === undefined ? [] : ['--method', request.method]),
    ...(request.body === undefined ? [] : ['--body', request.body]),
    ...Object.entries(request.headers ?? {}).flatMap(([name, value]) => ['--header', `${name}: ${value}`]),
    ...(request.accept === undefined ? [] : ['--accept', request.accept.join(',')]),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`load-loop exited with ${code}`));
      else resolve(JSON.parse(out) as LoadResult);
    });
  });
}

/** Drives `url` from the load process while measuring this (serving) process's CPU time. */
export async function measure(url: string, shape: LoadShape, request: LoadRequest): Promise<Measured> {
  const cpu = process.cpuUsage();
  const result = await load(url, shape.connections, shape.durationMs, request);
  const used = process.cpuUsage(cpu);
  return { ...result, cpuUsPerRequest: (used.user + used.system) / Math.max(1, result.requests) };
}

/**
 * Runs `run` on a fresh database: a file in a temporary directory for SQLite, a database created
 * on `postgresUrl`'s server (and dropped after) for PostgreSQL. `label` names both.
 */
export async function withDatabase<T>(
  backend: Backend,
  postgresUrl: string,
  label: string,
  run: (url: string) => Promise<T>,
): Promise<T> {
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), `offload-${label}-bench-`));
    try {
      return await run(`sqlite:${join(dir, 'bench.db')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const name = `offload_${label}_bench_${Date.now()}_${process.pid}`;
  const admin = createDb({ databaseUrl: postgresUrl, poolMax: 1 });
  try {
    await admin.knex.raw(`CREATE DATABASE ${name}`);
    const url = new URL(postgresUrl);
    url.pathname = `/${name}`;
    try {
      return await run(url.toString());
    } finally {
      await admin.knex.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  } finally {
    await admin.destroy();
  }
}

/** The median measurement by req/s. */
export const median = <M extends Measured>(results: M[]): M =>
  [...results].sort((a, b) => a.rps - b.rps)[Math.floor(results.length / 2)]!;

export const medianOf = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** One target's measurements over the rounds, and its ratios to the reference. */
export interface Figure<T, M extends Measured> {
  target: T;
  rounds: M[];
  median: M;
  /** Median over rounds of (this req/s ÷ the reference's req/s measured just before it); null for the reference. */
  ratio: number | null;
  /** Each round's req/s ratio, in round order; null for the reference. */
  roundRatios: number[] | null;
  /** Median over rounds of (the reference's CPU per request ÷ this one's); null for the reference. */
  cpuRatio: number | null;
}

/**
 * `repeat` rounds in which each of `ours` is measured right after a run of `reference` and
 * compared with that run: drift from other work on the machine then hits both sides of a ratio
 * alike. `show` sees every measurement as it is taken. Returns the reference's figure first.
 */
export async function interleavedRounds<T, M extends Measured>(
  reference: T,
  ours: readonly T[],
  repeat: number,
  run: (target: T) => Promise<M>,
  show: (round: number, target: T, measured: M) => void,
): Promise<Array<Figure<T, M>>> {
  const rounds = new Map<T, M[]>([reference, ...ours].map((t) => [t, []]));
  const ratios = new Map<T, Array<{ rps: number; cpu: number }>>(ours.map((t) => [t, []]));
  for (let round = 1; round <= repeat; round += 1) {
    for (const target of ours) {
      const referenceRun = await run(reference);
      show(round, reference, referenceRun);
      const ourRun = await run(target);
      show(round, target, ourRun);
      rounds.get(reference)!.push(referenceRun);
      rounds.get(target)!.push(ourRun);
      ratios.get(target)!.push({
        rps: ourRun.rps / referenceRun.rps,
        cpu: referenceRun.cpuUsPerRequest / ourRun.cpuUsPerRequest,
      });
    }
  }
  return [...rounds].map(([target, results]) => {
    const pairs = ratios.get(target);
    return {
      target,
      rounds: results,
      median: median(results),
      ratio: pairs === undefined ? null : medianOf(pairs.map((p) => p.rps)),
      roundRatios: pairs === undefined ? null : pairs.map((p) => p.rps),
      cpuRatio: pairs === undefined ? null : medianOf(pairs.map((p) => p.cpu)),
    };
  });
}

export function positive(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}
