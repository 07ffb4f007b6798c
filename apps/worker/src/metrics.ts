// The worker's Prometheus metrics, on its own registry (served by health-server.ts). Names
// follow Prometheus conventions: base units (seconds), `_total` counters, labels limited to
// bounded sets (job kinds from the catalog, a handful of states); never a job id.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { TaskPoolStats } from './pool.ts';
import type { ReadyJobs } from './ready-jobs.ts';

/** How an attempt ended, from this worker's point of view. */
export const ATTEMPT_OUTCOMES = [
  /** The job completed. */
  'completed',
  /** It failed and will run again after its backoff. */
  'retrying',
  /** It failed for good (no attempts left, or a payload that can never succeed). */
  'failed',
  /** It was cancelled while running. */
  'cancelled',
  /** Given back on shutdown; it runs again elsewhere, its attempt not counted. */
  'released',
  /** The lease was no longer ours when the attempt ended: its outcome was discarded. */
  'lost',
] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/** Outcomes that end the job; each is counted once in `offload_worker_jobs_total`. */
const FINAL_STATES: ReadonlySet<AttemptOutcome> = new Set(['completed', 'failed', 'cancelled']);

// Jobs range from a few milliseconds (system.echo) to many minutes (imports, KPI rebuilds).
const DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800,
];
const WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

export interface WorkerMetrics {
  readonly registry: Registry;
  /** A claimed attempt starts; `waitSeconds` is how long the job was ready before it. */
  attemptStarted(kind: string, waitSeconds: number): void;
  attemptEnded(kind: string, outcome: AttemptOutcome, durationSeconds: number): void;
  /** Prometheus text exposition, sampling the pool first. */
  render(): Promise<string>;
  readonly contentType: string;
}

export interface WorkerMetricsOptions {
  /** Every kind this worker runs: their series exist (at zero) from the first scrape. */
  kinds: readonly string[];
  poolStats: () => TaskPoolStats;
  /** The queue's ready and scheduled jobs per kind (ready-jobs.ts), for autoscalers. */
  readyJobs?: () => Promise<ReadyJobs[]>;
}

export function createWorkerMetrics(options: WorkerMetricsOptions): WorkerMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  const jobs = new Counter({
    name: 'offload_worker_jobs_total',
    help: 'Jobs this worker brought to a final state, by kind and state (completed, failed, cancelled).',
    labelNames: ['kind', 'state'] as const,
    registers,
  });
  const attempts = new Counter({
    name: 'offload_worker_job_attempts_total',
    help: 'Attempts this worker ended, by kind and outcome (completed, retrying, failed, cancelled, released, lost).',
    labelNames: ['kind', 'outcome'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'offload_worker_job_duration_seconds',
    help: 'Time from claim to the end of an attempt, by kind.',
    labelNames: ['kind'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const queueWait = new Histogram({
    name: 'offload_worker_job_queue_wait_seconds',
    help: 'Time a job was ready to run (run_at passed) before this worker claimed it, by kind.',
    labelNames: ['kind'] as const,
    buckets: WAIT_BUCKETS,
    registers,
  });
  const running = new Gauge({
    name: 'offload_worker_jobs_running',
    help: 'Attempts running in this worker now, by kind.',
    labelNames: ['kind'] as const,
    registers,
  });

  const poolThreads = new Gauge({
    name: 'offload_worker_pool_threads',
    help: 'Pool threads alive.',
    registers,
  });
  const poolCapacity = new Gauge({
    name: 'offload_worker_pool_capacity_threads',
    help: 'Pool threads allowed (WORKER_THREADS).',
    registers,
  });
  const poolBusy = new Gauge({
    name: 'offload_worker_pool_busy_threads',
    help: 'Pool threads running a task.',
    registers,
  });
  const poolWaiting = new Gauge({
    name: 'offload_worker_pool_waiting_tasks',
    help: 'CPU-bound tasks waiting for a free pool thread.',
    registers,
  });
  const poolUtilization = new Gauge({
    name: 'offload_worker_pool_utilization_ratio',
    help: 'Busy pool threads over capacity, 0 to 1.',
    registers,
  });

  // The autoscaling signal (ops/kubernetes): every worker reports the same shared figures, so
  // a query takes the max per kind across workers. A failed sample leaves the series empty.
  const readyJobs = options.readyJobs;
  if (readyJobs !== undefined) {
    const sample = () => readyJobs().catch(() => undefined);
    new Gauge({
      name: 'offload_queue_ready_jobs',
      help: 'Jobs that could run now (queued or retrying, runAt passed), by kind; exact unless over 10000 wait for a later runAt.',
      labelNames: ['kind'] as const,
      registers,
      async collect() {
        const counts = await sample();
        this.reset();
        for (const kind of counts ?? []) this.set({ kind: kind.kind }, kind.ready);
      },
    });
    new Gauge({
      name: 'offload_queue_scheduled_jobs',
      help: 'Jobs waiting for a later runAt (backoff, debounce, a future runAt), by kind.',
      labelNames: ['kind'] as const,
      registers,
      async collect() {
        const counts = await sample();
        this.reset();
        for (const kind of counts ?? []) this.set({ kind: kind.kind }, kind.scheduled);
      },
    });
  }

  for (const kind of options.kinds) {
    running.set({ kind }, 0);
    duration.zero({ kind });
    queueWait.zero({ kind });
    for (const state of FINAL_STATES) jobs.inc({ kind, state }, 0);
  }

  function samplePool(): void {
    const stats = options.poolStats();
    poolThreads.set(stats.threads);
    poolCapacity.set(stats.capacity);
    poolBusy.set(stats.busy);
    poolWaiting.set(stats.waiting);
    poolUtilization.set(stats.utilization);
  }

  return {
    registry,
    contentType: registry.contentType,
    attemptStarted(kind, waitSeconds) {
      running.inc({ kind });
      queueWait.observe({ kind }, Math.max(0, waitSeconds));
    },
    attemptEnded(kind, outcome, durationSeconds) {
      running.dec({ kind });
      duration.observe({ kind }, Math.max(0, durationSeconds));
      attempts.inc({ kind, outcome });
      if (FINAL_STATES.has(outcome)) jobs.inc({ kind, state: outcome });
    },
    async render() {
      samplePool();
      return registry.metrics();
    },
  };
}
