// wrk as the load generator for the knee (--generator wrk): a C event loop costs a few µs of CPU
// a request where Artillery costs hundreds, so on the shared cores the knee measures the system
// more than the generator. The mix comes from the same scenario files as Artillery's, flattened to
// single requests (wrk keeps no per-user flow): each mix flow's weight is split evenly over the
// requests it makes; a request whose URL needs a value captured mid-flow (a cursor, a model id)
// is left out, except a job poll (`{{ jobId }}`), which load/wrk/mix.lua fills with a job the same
// thread submitted. A flow that makes no other request (the event-stream watch) keeps its POST.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Flow } from './scenarios.ts';

export const MIX_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'wrk', 'mix.lua');

export interface WrkRequest {
  /** The request's name in the scenario files (Artillery's), for the report. */
  name: string;
  method: string;
  /** Path and query; `{{ jobId }}` marks a poll of a submitted job. */
  path: string;
  body: string | null;
  weight: number;
}

const METHODS = ['get', 'post', 'put', 'delete', 'patch'] as const;
const JOB_ID = '{{ jobId }}';

interface Step {
  name?: string;
  url?: string;
  qs?: Record<string, unknown>;
  json?: unknown;
}

/** The single requests of `flow`, in order, loops included. */
function requestsOf(steps: readonly unknown[]): Array<Omit<WrkRequest, 'weight'>> {
  return steps.flatMap((raw) => {
    const step = raw as Record<string, unknown>;
    if (Array.isArray(step.loop)) return requestsOf(step.loop);
    for (const method of METHODS) {
      const request = step[method] as Step | undefined;
      if (request === undefined) continue;
      // Values stay as written: the scenarios' are plain words and numbers, or templates.
      const query = Object.entries(request.qs ?? {})
        .map(([key, value]) => `${key}=${String(value)}`)
        .join('&');
      const path = `${request.url ?? ''}${query === '' ? '' : `?${query}`}`;
      return [
        {
          name: request.name ?? `${method.toUpperCase()} ${request.url}`,
          method: method.toUpperCase(),
          path: path.replace(/\{\{\s*jobId\s*\}\}/, JOB_ID),
          body: request.json === undefined ? null : JSON.stringify(request.json),
        },
      ];
    }
    return [];
  });
}

/** The flat request mix of the `mix` flows, with weights that sum to the flows' weights. */
export function wrkMix(flows: readonly Flow[]): WrkRequest[] {
  const mix: WrkRequest[] = [];
  for (const flow of flows) {
    if (flow.run !== 'mix') continue;
    const requests = requestsOf(flow.scenario.flow).filter(
      (r) => !r.path.replace(JOB_ID, '').includes('{{') && (r.method === 'GET' || r.body !== null),
    );
    // A flow whose job polls have no submission of its own left (an import's) adds nothing.
    if (requests.every((r) => r.path.includes(JOB_ID))) continue;
    const weight = (flow.scenario.weight ?? 1) / requests.length;
    for (const request of requests) mix.push({ ...request, weight });
  }
  return mix;
}

/** The mix file mix.lua reads: weight, name, method, path, body ('-' for none), tab-separated. */
export function mixFileText(mix: readonly WrkRequest[]): string {
  const clean = (text: string) => text.replace(/[\t\n]/g, ' ');
  return `${mix
    .map((r) =>
      [r.weight.toFixed(4), clean(r.name), r.method, r.path, r.body === null ? '-' : clean(r.body)].join(
        '\t',
      ),
    )
    .join('\n')}\n`;
}

export interface WrkFigures {
  durationS: number;
  requests: number;
  rps: number;
  /** Answers of 400 and above, plus socket errors and timeouts. */
  errors: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** wrk's own CPU time over the run, in seconds (user + system, all its threads). */
  cpuS: number;
  /** Requests sent per name. */
  byName: Record<string, number>;
}

// Linux reports process CPU times in ticks of USER_HZ, which is 100 on every platform.
const TICKS_PER_S = 100;

/** The figures in wrk's output: the WRK_JSON line mix.lua's done() prints. */
export function parseWrkOutput(stdout: string): WrkFigures {
  const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (line === undefined) throw new Error(`wrk printed no WRK_JSON line:\n${stdout.slice(-2000)}`);
  const raw = JSON.parse(line.slice('WRK_JSON '.length)) as {
    durationUs: number;
    requests: number;
    errors: number;
    socketErrors: number;
    timeouts: number;
    p50Us: number;
    p90Us: number;
    p99Us: number;
    maxUs: number;
    cpuTicks: number;
    byName: Record<string, number>;
  };
  const ms = (us: number) => Math.round(us / 10) / 100;
  const durationS = raw.durationUs / 1e6;
  return {
    durationS,
    requests: raw.requests,
    rps: Math.round(raw.requests / Math.max(durationS, 1e-6)),
    errors: raw.errors + raw.socketErrors + raw.timeouts,
    p50Ms: ms(raw.p50Us),
    p90Ms: ms(raw.p90Us),
    p99Ms: ms(raw.p99Us),
    maxMs: ms(raw.maxUs),
    cpuS: raw.cpuTicks < 0 ? Number.NaN : raw.cpuTicks / TICKS_PER_S,
    byName: raw.byName,
  };
}

export interface WrkRun {
  wrkBin: string;
  url: string;
  connections: number;
  threads: number;
  durationS: number;
  /** The mix file (mixFileText) and the key every request carries. */
  mixFile: string;
  apiKey: string;
}

/** Runs wrk once with mix.lua and returns its figures. */
export function runWrk(run: WrkRun): Promise<WrkFigures> {
  const args = [
    '-t',
    String(run.threads),
    '-c',
    String(Math.max(run.connections, run.threads)),
    '-d',
    `${run.durationS}s`,
    '--timeout',
    '10s',
    '-s',
    MIX_SCRIPT,
    run.url,
    '--',
    run.mixFile,
    run.apiKey,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(run.wrkBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) reject(new Error(`wrk exited ${code}: ${err || out}`));
      else {
        try {
          resolve(parseWrkOutput(out));
        } catch (error) {
          reject(error);
        }
      }
    });
  });
}

/** CPU seconds (user + system) a process has used so far, from /proc; NaN when unreadable. */
export function processCpuS(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
  } catch {
    return Number.NaN;
  }
}
