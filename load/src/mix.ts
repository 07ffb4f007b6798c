// The steady run: warm-up, then the mix at the target rate with every check on, then the
// authentication burst; memory sampled throughout; the report and the baseline comparison.
// It fails when Artillery's own checks fail (a ceiling breached, an expectation unmet), when
// any request errs, when the achieved rate falls short of the target, when a process of the
// stack dies, when a process's steady RSS passes the budget, when a read cache family answers
// under 0.8 of its lookups from memory, or when a ratio regresses.
import path from 'node:path';
import { type RunFigures, runArtillery } from './artillery.ts';
import {
  cacheTable,
  type FamilyLookups,
  fetchCacheLookups,
  lowHitRatios,
  MIN_HIT_RATIO,
} from './cache-ratio.ts';
import type { LoadContext, LoadOptions } from './context.ts';
import { type MemoryFigures, sampleMemory } from './memory.ts';
import {
  type BaselineEntry,
  compareToBaseline,
  endpointTable,
  incomparable,
  memoryTable,
  provenance,
  REFERENCE,
  ratiosOf,
  readBaseline,
  TOLERANCE,
  writeBaselineEntry,
  writeReport,
} from './report.ts';
import { ceilingsOf, composeScript, type Flow, type Phase } from './scenarios.ts';

// The warm-up runs near the target rate (so the job list is as long as it will be and the
// browse flows follow as many pages); its own requests per user then set the measured rate.
const GUESSED_REQUESTS_PER_USER = 3;
const BURST_CLIENTS = 20;
/** The measured phase must reach this share of the target rate to count. */
const MIN_RATE_SHARE = 0.9;
/** Steady RSS budget per process (DESIGN.md §6, the seed's). */
const RSS_BUDGET_MB = 300;

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** Runs `flows` once with `phases`; the composed script and output stay in the work dir. */
export function artilleryRun(
  context: LoadContext,
  target: string,
  name: string,
  flows: readonly Flow[],
  phases: Phase[],
  options: { ensure: boolean; echo: boolean },
): Promise<RunFigures> {
  const script = composeScript(flows, {
    target,
    processor: context.processor,
    phases,
    ensure: options.ensure,
  });
  return runArtillery({
    artilleryBin: context.artilleryBin,
    script,
    variables: { apiKey: context.apiKey, apiTarget: target },
    workDir: context.workDir,
    name,
    logFile: path.join(context.workDir, 'artillery.log'),
    echo: options.echo,
  });
}

/** How many virtual users over `durationS` make `rate` requests a second, given a warm-up. */
export function arrivalsFor(warmup: RunFigures, rate: number, durationS: number): number {
  // The whole warm-up's ratio, not the settled one: a user's request count grows with the job
  // list (more pages to follow) and with the queue's latency (more polls), so the early periods
  // pull the estimate down and the rate lands at or above the target, never below the floor.
  const perUser = warmup.requests / Math.max(1, warmup.vusersCreated);
  return Math.max(1, Math.round((rate * durationS) / Math.max(1, perUser)));
}

const errorCount = (run: RunFigures | undefined): number =>
  run ? Object.values(run.errors).reduce((sum, n) => sum + n, 0) + run.vusersFailed : 0;

export async function runMix(
  context: LoadContext,
  options: LoadOptions,
  log: (line: string) => void,
): Promise<number> {
  const kind = `${options.quick ? 'quick' : 'full'}-${context.dialect}${options.apiProcesses > 1 ? `-cluster${options.apiProcesses}` : ''}`;
  const about = provenance(context.root);
  const started = await context.start(options.apiProcesses);
  const { stack, mix, burst, notes } = started;
  const sampler = sampleMemory({ api: stack.apiPid, worker: stack.workerPid });
  let warmup: RunFigures;
  let measured: RunFigures;
  let burstRun: RunFigures | undefined;
  let memory: Record<string, MemoryFigures>;
  let arrivals: number;
  let cache: FamilyLookups[] | string;
  try {
    const warmupArrivals = Math.max(1, Math.round(options.rate / GUESSED_REQUESTS_PER_USER));
    log(`warm-up: ${options.warmupS} s at ${warmupArrivals} virtual users/s (${mix.length} flows)`);
    warmup = await artilleryRun(
      context,
      stack.target,
      `${kind}-warmup`,
      mix,
      [{ duration: options.warmupS, arrivalRate: warmupArrivals, name: 'warm-up' }],
      { ensure: false, echo: false },
    );
    arrivals = arrivalsFor(warmup, options.rate, options.durationS);
    log(
      `warm-up: ${warmup.requests} requests from ${warmup.vusersCreated} virtual users (${warmup.requestsPerUser} a user once settled), ${errorCount(warmup)} errors; ` +
        `measured phase: ${arrivals} virtual users over ${options.durationS} s for ${options.rate} req/s`,
    );
    sampler.restart();
    measured = await artilleryRun(
      context,
      stack.target,
      `${kind}-measured`,
      mix,
      [{ duration: options.durationS, arrivalCount: arrivals, name: `${options.rate} req/s` }],
      { ensure: true, echo: true },
    );
    if (burst.length > 0) {
      log(`authentication burst: ${BURST_CLIENTS} clients at once`);
      burstRun = await artilleryRun(
        context,
        stack.target,
        `${kind}-burst`,
        burst,
        [{ duration: 1, arrivalCount: BURST_CLIENTS, name: 'burst' }],
        { ensure: true, echo: false },
      );
    }
    memory = sampler.stop();
    cache = await fetchCacheLookups(stack.target).catch(
      (error: unknown) => `not read: ${(error as Error).message}`,
    );
  } finally {
    sampler.stop();
    await stack.stop();
  }

  const ceilings = ceilingsOf([...mix, ...burst]);
  const breaches = Object.entries(ceilings).flatMap(([name, ceiling]) => {
    const figures = measured.endpoints[name] ?? burstRun?.endpoints[name];
    if (!figures) return [];
    const over: string[] = [];
    if (figures.p95 >= ceiling.p95) over.push(`${name} p95 ${figures.p95} ms ≥ ${ceiling.p95}`);
    if (figures.p99 >= ceiling.p99) over.push(`${name} p99 ${figures.p99} ms ≥ ${ceiling.p99}`);
    return over;
  });
  // Only what has a ceiling is compared: request latencies, not the end-to-end job times
  // (offload.*.job_done), which follow the worker's backlog and are reported, not judged.
  const ratios = Object.fromEntries(Object.entries(ratiosOf(measured)).filter(([name]) => name in ceilings));
  const baselineFile = path.join(context.reportDir, 'load-baseline.json');
  const baselineEntry = readBaseline(baselineFile).entries[kind];
  const referenceP95 = measured.endpoints[REFERENCE]?.p95 ?? 0;
  const notComparable = incomparable(baselineEntry, referenceP95);
  const regressions = notComparable ? [] : compareToBaseline(baselineEntry, ratios);
  const allErrors = { ...warmup.errors, ...measured.errors, ...burstRun?.errors };
  const checks: Check[] = [
    {
      name: 'Artillery checks (ensure, expect)',
      ok: measured.exitCode === 0 && (burstRun?.exitCode ?? 0) === 0,
      detail: `exit codes: measured ${measured.exitCode}${burstRun ? `, burst ${burstRun.exitCode}` : ''}`,
    },
    {
      name: 'zero errors',
      ok: errorCount(warmup) + errorCount(measured) + errorCount(burstRun) === 0,
      detail:
        Object.keys(allErrors).length === 0
          ? 'none (warm-up, measured, burst)'
          : Object.entries(allErrors)
              .map(([error, n]) => `${error}: ${n}`)
              .join('; '),
    },
    {
      name: 'latency ceilings',
      ok: breaches.length === 0,
      detail: breaches.length === 0 ? `every endpoint under its p95/p99 ceiling` : breaches.join('; '),
    },
    {
      name: `rate at least ${MIN_RATE_SHARE * 100} % of ${options.rate} req/s`,
      ok: measured.requestRate >= options.rate * MIN_RATE_SHARE,
      detail: `${measured.requestRate} req/s achieved`,
    },
    {
      name: 'stack alive',
      ok: stack.failure() === undefined,
      detail: stack.failure() ?? 'API and worker ran to the end',
    },
    {
      name: `steady RSS under ${RSS_BUDGET_MB} MB`,
      ok: Object.values(memory).every((m) => m.steadyMb < RSS_BUDGET_MB),
      detail: Object.entries(memory)
        .map(([name, m]) => `${name} ${m.steadyMb} MB (growth ${m.growthMbPerMinute} MB/min)`)
        .join(', '),
    },
    {
      name: `cache hit ratio at least ${MIN_HIT_RATIO} per family`,
      ok: typeof cache !== 'string' && lowHitRatios(cache).length === 0,
      detail:
        typeof cache === 'string'
          ? cache
          : cache
              .filter((f) => f.ratio !== null)
              .map(
                (f) => `${f.family} ${f.ratio!.toFixed(3)}${f.judged ? '' : ' (too few lookups to judge)'}`,
              )
              .join(', ') || 'no family was read',
    },
    {
      name: `no regression against the baseline (${kind})`,
      ok: regressions.length === 0,
      detail: notComparable
        ? `not compared: ${notComparable}`
        : regressions.length === 0
          ? `every p95 ÷ reference within ${TOLERANCE * 100} % of the baseline's (${baselineEntry?.commit})`
          : regressions.map((r) => `${r.endpoint} ${r.baseline} → ${r.now}`).join('; '),
    },
  ];
  const passed = checks.every((check) => check.ok);

  const markdown = [
    `# Load test: ${kind}`,
    '',
    `${about.date} · commit ${about.commit} · Node.js ${about.node}`,
    '',
    `Machine: ${about.machine}. The machine is shared (other work runs on it), so absolute figures are noisy; the ratios to ${REFERENCE} measured in the same run are what the baseline compares.`,
    '',
    `- Database: ${context.databaseLabel}; ${context.inventory.models.toLocaleString('en-US')} models${context.inventory.seeded ? `, seeded in ${(context.inventory.seedMs / 1000).toFixed(1)} s` : ' (existing inventory)'}`,
    `- Stack: ${options.apiProcesses} API process${options.apiProcesses > 1 ? 'es (cluster mode)' : ''}, 1 worker, per-key rate limit off`,
    `- Warm-up: ${options.warmupS} s, ${warmup.requests} requests from ${warmup.vusersCreated} virtual users`,
    `- Measured: ${options.durationS} s aiming at ${options.rate} req/s (${arrivals} virtual users): ${measured.requests} requests, **${measured.requestRate} req/s**, overall p50 ${measured.overall.p50} / p95 ${measured.overall.p95} / p99 ${measured.overall.p99} ms`,
    `- Status codes: ${Object.entries(measured.codes)
      .map(([code, n]) => `${code}: ${n}`)
      .join(', ')}`,
    ...notes.map((note) => `- ${note}`),
    '',
    `## Result: ${passed ? 'passed' : 'FAILED'}`,
    '',
    ...checks.map((check) => `- ${check.ok ? 'ok' : '**FAIL**'} ${check.name}: ${check.detail}`),
    '',
    '## Per endpoint (measured phase)',
    '',
    endpointTable(measured.endpoints, ceilings),
    '',
    "offload.sse.first_byte is the time to the event stream's headers, offload.sse.job_done the time from opening the stream to the terminal event.",
    ...(burstRun
      ? [
          '',
          `## Authentication burst (${BURST_CLIENTS} clients at once)`,
          '',
          endpointTable(burstRun.endpoints, ceilings),
        ]
      : []),
    '',
    '## Read cache (lookups since the API started: warm-up, measured phase and burst)',
    '',
    typeof cache === 'string' ? cache : cacheTable(cache),
    '',
    '## Memory (RSS through the measured phase and the burst)',
    '',
    memoryTable(memory),
    '',
  ].join('\n');
  const files = writeReport(context.reportDir, kind, markdown, {
    kind,
    passed,
    ...about,
    database: context.databaseLabel,
    dialect: context.dialect,
    inventory: context.inventory,
    apiProcesses: options.apiProcesses,
    targetRate: options.rate,
    durationS: options.durationS,
    arrivals,
    notes,
    checks,
    reference: REFERENCE,
    ratios,
    warmup,
    measured,
    burst: burstRun ?? null,
    memory,
    cache,
  });
  process.stdout.write(`\n${markdown}\n`);
  log(`report: ${files.map((file) => path.relative(context.root, file)).join(', ')}`);
  if (options.updateBaseline && !passed) log('the run failed: the baseline is left as it was');
  if (options.updateBaseline && passed) {
    const entry: BaselineEntry = { measuredAt: about.date, commit: about.commit, referenceP95, ratios };
    writeBaselineEntry(baselineFile, kind, entry);
    log(`baseline ${kind} updated in ${path.relative(context.root, baselineFile)}`);
  }
  return passed ? 0 : 1;
}
