// The knee: how far beyond the floor the mix goes. For one API process and then for
// API_PROCESSES=2 (one a core here), on a warm stack, the mix runs STEP_S seconds at each rate
// of RATES in turn, and stops at the first step whose p99 passes P99_LIMIT_MS, which errs, or
// which does not reach MIN_RATE_SHARE of its target (the system, or Artillery sharing the
// same cores, cannot go faster). The knee is the highest rate sustained before that step,
// counted over the step's settled middle (Artillery's 10 s periods, less the first and last).
import path from 'node:path';
import type { RunFigures } from './artillery.ts';
import type { LoadContext, LoadOptions } from './context.ts';
import { arrivalsFor, artilleryRun } from './mix.ts';
import { provenance, writeReport } from './report.ts';

const RATES = [50, 75, 100, 125, 150, 200, 250, 300, 400, 500, 600, 800, 1000];
const STEP_S = 30;
const P99_LIMIT_MS = 100;
// Only a step that falls far short counts as not keeping up: a user's request count varies with
// the system's latency (polls), so the offered rate is approximate; the knee is the achieved rate.
const MIN_RATE_SHARE = 0.5;
const CONFIGURATIONS = [1, 2];

interface Step {
  target: number;
  achieved: number;
  requests: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  verdict: string;
}

interface KneeResult {
  apiProcesses: number;
  kneeRate: number;
  stoppedBy: string;
  steps: Step[];
}

export async function runKnee(
  context: LoadContext,
  options: LoadOptions,
  log: (line: string) => void,
): Promise<number> {
  const about = provenance(context.root);
  const results: KneeResult[] = [];
  let notes: string[] = [];
  for (const apiProcesses of CONFIGURATIONS) {
    const started = await context.start(apiProcesses);
    notes = started.notes;
    const { stack, mix } = started;
    try {
      const name = `knee-${context.dialect}-api${apiProcesses}`;
      log(`knee with ${apiProcesses} API process(es): warm-up ${options.warmupS} s`);
      const warmup = await artilleryRun(
        context,
        stack.target,
        `${name}-warmup`,
        mix,
        [{ duration: options.warmupS, arrivalRate: Math.max(1, Math.round(RATES[0]! / 3)) }],
        { ensure: false, echo: false },
      );
      const steps: Step[] = [];
      let kneeRate = 0;
      let stoppedBy = `reached the last step (${RATES.at(-1)} req/s)`;
      for (const rate of RATES) {
        const run = await artilleryRun(
          context,
          stack.target,
          `${name}-${rate}`,
          mix,
          [{ duration: STEP_S, arrivalCount: arrivalsFor(warmup, rate, STEP_S) }],
          { ensure: false, echo: false },
        );
        const step = judge(rate, run);
        steps.push(step);
        log(
          `  ${String(rate).padStart(5)} req/s target: ${step.achieved} achieved, p50 ${step.p50} p95 ${step.p95} p99 ${step.p99} ms, ${step.errors} errors — ${step.verdict}`,
        );
        if (step.verdict !== 'sustained') {
          stoppedBy = `${rate} req/s: ${step.verdict}`;
          break;
        }
        kneeRate = step.achieved;
        if (stack.failure()) throw new Error(stack.failure());
      }
      results.push({ apiProcesses, kneeRate, stoppedBy, steps });
      log(`knee with ${apiProcesses} API process(es): ${kneeRate} req/s (stopped by ${stoppedBy})`);
    } finally {
      await stack.stop();
    }
  }

  const markdown = [
    `# Load test: the knee on ${context.dialect}`,
    '',
    `${about.date} · commit ${about.commit} · Node.js ${about.node}`,
    '',
    `Machine: ${about.machine}. Artillery runs on the same cores as the API, the worker and the database, and the machine is shared, so the knee is a lower bound and noisy.`,
    '',
    `- Database: ${context.databaseLabel}; ${context.inventory.models.toLocaleString('en-US')} models`,
    `- Each step: ${STEP_S} s of the mix at the target rate; a step is sustained when p99 ≤ ${P99_LIMIT_MS} ms, no request errs and at least ${MIN_RATE_SHARE * 100} % of the target is reached`,
    ...notes.map((note) => `- ${note}`),
    '',
    '| API processes | knee (highest sustained req/s) | stopped by |',
    '|---:|---:|---|',
    ...results.map((r) => `| ${r.apiProcesses} | ${r.kneeRate} | ${r.stoppedBy} |`),
    ...results.flatMap((r) => [
      '',
      `## ${r.apiProcesses} API process${r.apiProcesses > 1 ? 'es' : ''}`,
      '',
      '| target req/s | achieved req/s | requests | p50 ms | p95 ms | p99 ms | errors | verdict |',
      '|---:|---:|---:|---:|---:|---:|---:|---|',
      ...r.steps.map(
        (s) =>
          `| ${s.target} | ${s.achieved} | ${s.requests} | ${s.p50} | ${s.p95} | ${s.p99} | ${s.errors} | ${s.verdict} |`,
      ),
    ]),
    '',
  ].join('\n');
  const files = writeReport(context.reportDir, `knee-${context.dialect}`, markdown, {
    ...about,
    database: context.databaseLabel,
    inventory: context.inventory,
    stepS: STEP_S,
    p99LimitMs: P99_LIMIT_MS,
    notes,
    results,
  });
  process.stdout.write(`\n${markdown}\n`);
  log(`report: ${files.map((file) => path.relative(context.root, file)).join(', ')}`);
  // The knee is a measurement, not a check: it fails only when even the floor is not sustained.
  return results.every((r) => r.kneeRate >= RATES[0]! * MIN_RATE_SHARE) ? 0 : 1;
}

function judge(target: number, run: RunFigures): Step {
  const errors = Object.values(run.errors).reduce((sum, n) => sum + n, 0) + run.vusersFailed;
  const verdict =
    errors > 0
      ? `${errors} errors (${Object.entries(run.errors)
          .map(([name, n]) => `${name}: ${n}`)
          .join('; ')}${run.vusersFailed > 0 ? `; ${run.vusersFailed} users failed` : ''})`
      : run.overall.p99 > P99_LIMIT_MS
        ? `p99 ${run.overall.p99} ms > ${P99_LIMIT_MS}`
        : run.settledRate < target * MIN_RATE_SHARE
          ? `only ${run.settledRate} req/s reached`
          : 'sustained';
  return {
    target,
    achieved: run.settledRate,
    requests: run.requests,
    p50: run.overall.p50,
    p95: run.overall.p95,
    p99: run.overall.p99,
    errors,
    verdict,
  };
}
