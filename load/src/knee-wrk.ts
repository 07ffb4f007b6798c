// The knee under wrk (--knee --generator wrk): one API process and one worker, the mix of the
// scenario files flattened to single requests (./wrk.ts), driven by wrk with more connections step
// by step (wrk is a closed loop: each connection sends its next request when the last is answered,
// so the offered load grows with the connections). Each step runs the mix against the API, then
// the same connections against a bare Express route in a process of its own (the reference under
// the same generator), and prints the generator's CPU beside the figures: the share of the cores
// wrk took, and its share of the CPU the step used (wrk, API, worker and the database server where
// it is local and readable). The knee is the highest rate of a step with p99 ≤ 100 ms and no error;
// the steps stop after two in a row fail, as one step on a shared machine can fail on a neighbour's
// burst.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadContext, LoadOptions } from './context.ts';
import { provenance, writeReport } from './report.ts';
import { readFlows } from './scenarios.ts';
import { mixFileText, processCpuS, runWrk, type WrkFigures, wrkMix } from './wrk.ts';

export const CONNECTION_STEPS = [2, 4, 8, 16, 32, 64, 128, 256];
const P99_LIMIT_MS = 100;
const FAILED_STEPS_TO_STOP = 2;
const here = path.dirname(fileURLToPath(import.meta.url));

export interface WrkStep {
  connections: number;
  mix: WrkFigures;
  bare: WrkFigures;
  /** wrk's CPU over the mix step as a share of all the machine's cores, and of the step's CPU. */
  wrkCoreShare: number;
  wrkStepShare: number;
  apiCpuS: number;
  workerCpuS: number;
  verdict: string;
}

/** A step is sustained when it errs nowhere and its p99 is within the limit. */
export function verdictOf(mix: WrkFigures): string {
  if (mix.errors > 0) return `${mix.errors} errors`;
  if (mix.p99Ms > P99_LIMIT_MS) return `p99 ${mix.p99Ms} ms > ${P99_LIMIT_MS}`;
  return 'sustained';
}

function wrkBinary(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('wrk is not installed (Debian: apt-get install -y wrk)');
  }
}

function startBare(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [path.join(here, 'bare-express.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the bare Express reference exited (${code})`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      const match = /PORT (\d+)/.exec(chunk.toString());
      if (match !== null) resolve({ url: `http://127.0.0.1:${match[1]}`, child });
    });
  });
}

export async function runKneeWrk(
  context: LoadContext,
  options: LoadOptions,
  log: (line: string) => void,
): Promise<number> {
  const wrkBin = wrkBinary();
  const about = provenance(context.root);
  const stepS = options.durationS;
  const mix = wrkMix(readFlows(path.join(here, '..', 'scenarios')));
  const mixFile = path.join(context.workDir, 'wrk-mix.tsv');
  writeFileSync(mixFile, mixFileText(mix));
  const bareFile = path.join(context.workDir, 'wrk-bare.tsv');
  writeFileSync(
    bareFile,
    mixFileText([{ name: 'GET /bare', method: 'GET', path: '/bare', body: null, weight: 1 }]),
  );
  const cores = os.cpus().length;

  const { stack, notes } = await context.start(1);
  const bare = await startBare();
  const steps: WrkStep[] = [];
  let knee: WrkStep | undefined;
  let failedInARow = 0;
  let stoppedBy = `reached the last step (${CONNECTION_STEPS.at(-1)} connections)`;
  try {
    log(`wrk knee: warm-up ${options.warmupS} s at 8 connections`);
    await runWrk({
      wrkBin,
      url: stack.target,
      connections: 8,
      threads: 1,
      durationS: options.warmupS,
      mixFile,
      apiKey: context.apiKey,
    });
    for (const connections of CONNECTION_STEPS) {
      const api0 = processCpuS(stack.apiPid);
      const worker0 = processCpuS(stack.workerPid);
      const run = { wrkBin, connections, threads: 1, durationS: stepS, apiKey: context.apiKey };
      const mixFigures = await runWrk({ ...run, url: stack.target, mixFile });
      const apiCpuS = processCpuS(stack.apiPid) - api0;
      const workerCpuS = processCpuS(stack.workerPid) - worker0;
      const bareFigures = await runWrk({ ...run, url: bare.url, mixFile: bareFile });
      const step: WrkStep = {
        connections,
        mix: mixFigures,
        bare: bareFigures,
        wrkCoreShare: mixFigures.cpuS / (mixFigures.durationS * cores),
        wrkStepShare: mixFigures.cpuS / (mixFigures.cpuS + apiCpuS + workerCpuS),
        apiCpuS,
        workerCpuS,
        verdict: verdictOf(mixFigures),
      };
      steps.push(step);
      log(
        `  ${String(connections).padStart(4)} connections: ${mixFigures.rps} req/s, p50 ${mixFigures.p50Ms} p99 ${mixFigures.p99Ms} ms, ${mixFigures.errors} errors; wrk ${pct(step.wrkCoreShare)} of the cores, ${pct(step.wrkStepShare)} of the step's CPU; bare Express ${bareFigures.rps} req/s p99 ${bareFigures.p99Ms} ms — ${step.verdict}`,
      );
      if (stack.failure()) throw new Error(stack.failure());
      if (step.verdict !== 'sustained') {
        failedInARow += 1;
        if (failedInARow >= FAILED_STEPS_TO_STOP) {
          stoppedBy = `${FAILED_STEPS_TO_STOP} steps in a row not sustained, the last at ${connections} connections: ${step.verdict}`;
          break;
        }
        continue;
      }
      failedInARow = 0;
      if (knee === undefined || mixFigures.rps > knee.mix.rps) knee = step;
    }
  } finally {
    bare.child.removeAllListeners('exit');
    bare.child.kill('SIGTERM');
    await stack.stop();
  }

  const markdown = kneeReport({ context, about, stepS, cores, mix, notes, steps, knee, stoppedBy });
  const files = writeReport(context.reportDir, `knee-wrk-${context.dialect}`, markdown, {
    ...about,
    database: context.databaseLabel,
    inventory: context.inventory,
    stepS,
    p99LimitMs: P99_LIMIT_MS,
    mix,
    notes,
    steps,
    knee: knee?.mix.rps ?? 0,
    stoppedBy,
  });
  process.stdout.write(`\n${markdown}\n`);
  log(`report: ${files.map((file) => path.relative(context.root, file)).join(', ')}`);
  return knee === undefined ? 1 : 0;
}

const pct = (share: number) => (Number.isFinite(share) ? `${(share * 100).toFixed(1)} %` : '—');

export function kneeReport(r: {
  context: Pick<LoadContext, 'dialect' | 'databaseLabel' | 'inventory'>;
  about: ReturnType<typeof provenance>;
  stepS: number;
  cores: number;
  mix: ReturnType<typeof wrkMix>;
  notes: string[];
  steps: WrkStep[];
  knee: WrkStep | undefined;
  stoppedBy: string;
}): string {
  const total = r.mix.reduce((sum, m) => sum + m.weight, 0);
  return [
    `# Load test: the knee on ${r.context.dialect}, wrk as the generator`,
    '',
    `${r.about.date} · commit ${r.about.commit} · Node.js ${r.about.node}`,
    '',
    `Machine: ${r.about.machine}. The machine was loaded by other developers' tests during the run, so absolute figures are noisy; compare each step with the bare-Express reference measured right after it under the same generator.`,
    '',
    `- Database: ${r.context.databaseLabel}; ${r.context.inventory.models.toLocaleString('en-US')} models; one API process, one worker`,
    `- Generator: wrk (one thread, closed loop), load/wrk/mix.lua; each step ${r.stepS} s of the mix at N connections, then ${r.stepS} s of GET /bare on a bare Express 5 app (own process) at the same N`,
    `- Sustained: p99 ≤ ${P99_LIMIT_MS} ms and no error (status ≥ 400, socket error or timeout); the steps stop after ${FAILED_STEPS_TO_STOP} in a row are not, and the knee is the fastest sustained step`,
    `- wrk CPU: its user + system time over the mix step, as a share of all ${r.cores} cores and of the CPU that wrk, the API and the worker used in the step (the database server is not counted)`,
    ...r.notes.map((note) => `- ${note}`),
    '',
    `**Knee: ${r.knee === undefined ? 'none sustained' : `${r.knee.mix.rps} req/s at ${r.knee.connections} connections (p99 ${r.knee.mix.p99Ms} ms; bare Express ${r.knee.bare.rps} req/s there)`}**; stopped by ${r.stoppedBy}.`,
    '',
    '| connections | mix req/s | p50 ms | p90 ms | p99 ms | errors | wrk CPU, of the cores | wrk CPU, of the step | API CPU s | worker CPU s | bare Express req/s | bare p99 ms | mix ÷ bare | verdict |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...r.steps.map(
      (s) =>
        `| ${s.connections} | ${s.mix.rps} | ${s.mix.p50Ms} | ${s.mix.p90Ms} | ${s.mix.p99Ms} | ${s.mix.errors} | ${pct(s.wrkCoreShare)} | ${pct(s.wrkStepShare)} | ${s.apiCpuS.toFixed(2)} | ${s.workerCpuS.toFixed(2)} | ${s.bare.rps} | ${s.bare.p99Ms} | ${(s.mix.rps / Math.max(1, s.bare.rps)).toFixed(2)} | ${s.verdict} |`,
    ),
    '',
    '## The mix (from load/scenarios, flattened to single requests)',
    '',
    'Each mix flow’s weight is split over its requests; a request needing a value captured mid-flow (a cursor, a model id) is left out, and a job poll reads a job the same wrk thread submitted. The event-stream watch keeps its POST only; the CSV upload (multipart) is left out.',
    '',
    '| request | method | path | share of the mix |',
    '|---|---|---|---:|',
    ...r.mix.map((m) => `| ${m.name} | ${m.method} | \`${m.path}\` | ${pct(m.weight / total)} |`),
    '',
  ].join('\n');
}
