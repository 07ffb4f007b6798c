// Runs the pinned Artillery (this package's dependency) on a composed script and reads its JSON
// output into figures per endpoint. Telemetry is off: the run talks to loopback only.
import { spawn } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface EndpointFigures {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface RunFigures {
  /** Artillery's exit code: non-zero when an `ensure` check or an expectation failed. */
  exitCode: number;
  durationS: number;
  requests: number;
  /** Requests per second over the run (completed responses / wall time of the metrics). */
  requestRate: number;
  /**
   * Requests per second once settled: over the reporting periods between the first (users
   * arriving) and the last (users finishing, none arriving); the whole run when too short.
   */
  settledRate: number;
  vusersCreated: number;
  vusersFailed: number;
  /** Requests per virtual user once settled (the same periods as `settledRate`). */
  requestsPerUser: number;
  /** Every `errors.*` counter: connection errors, failed expectations, failed captures. */
  errors: Record<string, number>;
  /** HTTP status counts over all requests. */
  codes: Record<string, number>;
  /** All requests together. */
  overall: EndpointFigures;
  /** Per request name (and the processor's own metrics, named offload.*). */
  endpoints: Record<string, EndpointFigures>;
}

const BY_ENDPOINT = 'plugins.metrics-by-endpoint.response_time.';

export async function runArtillery(options: {
  artilleryBin: string;
  script: string;
  /** Variables every virtual user sees (Artillery's --variables). */
  variables: Record<string, string>;
  workDir: string;
  name: string;
  /** Artillery's own console output goes here; with `echo` it is shown as well. */
  logFile: string;
  echo: boolean;
}): Promise<RunFigures> {
  const scriptFile = path.join(options.workDir, `${options.name}.yml`);
  const outputFile = path.join(options.workDir, `${options.name}.json`);
  writeFileSync(scriptFile, options.script);
  const log = openSync(options.logFile, 'a');
  const exitCode = await new Promise<number>((resolve, reject) => {
    const child = spawn(
      options.artilleryBin,
      ['run', '--output', outputFile, '--variables', JSON.stringify(options.variables), scriptFile],
      {
        env: { ...process.env, ARTILLERY_DISABLE_TELEMETRY: 'true', NO_COLOR: '1' },
        stdio: ['ignore', options.echo ? 'pipe' : log, options.echo ? 'pipe' : log],
      },
    );
    if (options.echo) {
      for (const stream of [child.stdout, child.stderr]) {
        stream?.on('data', (chunk: Buffer) => {
          process.stdout.write(chunk);
          writeFileSync(options.logFile, chunk, { flag: 'a' });
        });
      }
    }
    // The runner stopped by a signal takes its Artillery along.
    const stop = () => child.kill('SIGTERM');
    process.once('exit', stop);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.removeListener('exit', stop);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
  let raw: string;
  try {
    raw = readFileSync(outputFile, 'utf8');
  } catch {
    throw new Error(`Artillery exited ${exitCode} without a report; see ${options.logFile}`);
  }
  return { exitCode, ...figuresOf(JSON.parse(raw) as ArtilleryOutput) };
}

interface Summary {
  count?: number;
  p50?: number;
  median?: number;
  p95?: number;
  p99?: number;
  max?: number;
}

interface ArtilleryPeriod {
  /** When the period starts, in epoch ms (a string in some versions). */
  period?: number | string;
  counters?: Record<string, number>;
  rates?: Record<string, number>;
  summaries?: Record<string, Summary>;
  firstMetricAt?: number;
  lastMetricAt?: number;
}

interface ArtilleryOutput {
  aggregate: ArtilleryPeriod;
  intermediate?: ArtilleryPeriod[];
}

export function figuresOf(output: ArtilleryOutput): Omit<RunFigures, 'exitCode'> {
  const { counters = {}, summaries = {} } = output.aggregate;
  const endpoints: Record<string, EndpointFigures> = {};
  for (const [metric, summary] of Object.entries(summaries)) {
    if (metric.startsWith(BY_ENDPOINT)) endpoints[metric.slice(BY_ENDPOINT.length)] = figures(summary);
    else if (metric.startsWith('offload.')) endpoints[metric] = figures(summary);
  }
  const errors: Record<string, number> = {};
  const codes: Record<string, number> = {};
  for (const [counter, value] of Object.entries(counters)) {
    if (counter.startsWith('errors.')) errors[counter.slice('errors.'.length)] = value;
    if (counter.startsWith('http.codes.')) codes[counter.slice('http.codes.'.length)] = value;
  }
  const requests = counters['http.responses'] ?? 0;
  const first = output.aggregate.firstMetricAt ?? 0;
  const last = output.aggregate.lastMetricAt ?? 0;
  const durationS = Math.max(0.001, (last - first) / 1000);
  // Periods 1 … n-2: each starts where the previous ends, so they span period[1] to period[n-1].
  const periods = output.intermediate ?? [];
  const settled = periods.slice(1, -1);
  const span = (Number(periods.at(-1)?.period) - Number(periods[1]?.period)) / 1000;
  const useSettled = settled.length > 0 && span > 0;
  const counted = useSettled ? settled : [output.aggregate];
  const sum = (name: string) => counted.reduce((total, period) => total + (period.counters?.[name] ?? 0), 0);
  return {
    durationS: round(durationS),
    requests,
    requestRate: round(requests / durationS),
    settledRate: round(useSettled ? sum('http.responses') / span : requests / durationS),
    vusersCreated: counters['vusers.created'] ?? 0,
    vusersFailed: counters['vusers.failed'] ?? 0,
    requestsPerUser: round(sum('http.responses') / Math.max(1, sum('vusers.created'))),
    errors,
    codes,
    overall: figures(summaries['http.response_time'] ?? {}),
    endpoints,
  };
}

function figures(summary: Summary): EndpointFigures {
  return {
    count: summary.count ?? 0,
    p50: round(summary.p50 ?? summary.median ?? 0),
    p95: round(summary.p95 ?? 0),
    p99: round(summary.p99 ?? 0),
    max: round(summary.max ?? 0),
  };
}

const round = (value: number): number => Math.round(value * 10) / 10;
