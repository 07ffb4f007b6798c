// Turns the queue runtime's events into this process's job logs and metrics. Each claimed
// attempt gets a child logger bound to the job (jobId, kind, attempt, and the submitting
// request's requestId from `job.meta`), used for every line about that attempt, including
// the handler's own (see handlers/bind.ts).
//
// An attempt is tracked from `claimed` until its first ending event:
//   completed                    → outcome completed
//   failed                       → failed (final) or retrying
//   aborted: cancelled           → cancelled
//   aborted: shutdown            → released (the runtime gives the job back)
//   aborted: lease-lost, discarded → lost (another attempt decides the job's fate)
// Later events about the same attempt (an abort racing a completion) are ignored.
import { performance } from 'node:perf_hooks';
import type { Logger } from '@offload/observability';
import type { Job, JobError, Refused, Worker, WorkerEventMap } from '@offload/queue';
import type { AttemptOutcome, WorkerMetrics } from './metrics.ts';

// Outcomes that are part of normal operation; the others are worth a warning.
const QUIET_OUTCOMES: ReadonlySet<AttemptOutcome> = new Set(['completed', 'released', 'cancelled']);

interface Attempt {
  kind: string;
  startedAt: number;
  logger: Logger;
}

export interface JobObserver {
  /** The logger bound to a running attempt (the base logger if the job is unknown). */
  loggerFor(job: Job): Logger;
  /** Stops listening. */
  detach(): void;
}

export function observeJobs(worker: Worker, logger: Logger, metrics: WorkerMetrics): JobObserver {
  // Keyed by job and attempt: a retried job's next attempt may be claimed (a short backoff) before
  // the previous attempt's outcome event is handled, and must not take over its entry.
  const attempts = new Map<string, Attempt>();
  const keyOf = (job: Job) => `${job.id}#${job.attempts}`;

  function bindLogger(job: Job): Logger {
    const requestId = job.meta?.requestId;
    return logger.child({
      jobId: job.id,
      kind: job.kind,
      attempt: job.attempts,
      ...(typeof requestId === 'string' ? { requestId } : {}),
    });
  }

  function end(job: Job, outcome: AttemptOutcome, fields: Record<string, unknown>, message: string): void {
    const attempt = attempts.get(keyOf(job));
    if (attempt === undefined) return;
    attempts.delete(keyOf(job));
    const seconds = (performance.now() - attempt.startedAt) / 1000;
    metrics.attemptEnded(attempt.kind, outcome, seconds);
    attempt.logger[QUIET_OUTCOMES.has(outcome) ? 'info' : 'warn'](
      { outcome, durationMs: Math.round(seconds * 1000), ...fields },
      message,
    );
  }

  const listeners = {
    claimed: ({ job }: { job: Job }) => {
      const attempt: Attempt = { kind: job.kind, startedAt: performance.now(), logger: bindLogger(job) };
      attempts.set(keyOf(job), attempt);
      metrics.attemptStarted(job.kind, queueWaitSeconds(job));
      attempt.logger.debug('job started');
    },
    completed: ({ job }: { job: Job }) => end(job, 'completed', {}, 'job completed'),
    failed: ({ job, error, final }: { job: Job; error: JobError; final: boolean }) =>
      end(
        job,
        final ? 'failed' : 'retrying',
        { error: { kind: error.kind, message: error.message } },
        final ? 'job failed' : 'job attempt failed; it will be retried',
      ),
    aborted: ({ job, reason, found }: WorkerEventMap['aborted'][0]) => {
      if (reason === 'cancelled') end(job, 'cancelled', {}, 'job cancelled while running');
      else if (reason === 'shutdown') end(job, 'released', {}, 'job released on shutdown');
      else end(job, 'lost', foundFields(found), 'job lease lost; this attempt no longer counts');
    },
    discarded: ({ job, found }: WorkerEventMap['discarded'][0]) =>
      end(job, 'lost', foundFields(found), 'job outcome discarded: the lease had been lost'),
    error: ({ error, operation, jobId }: { error: unknown; operation: string; jobId?: string }) => {
      logger.warn({ err: error, operation, jobId }, `queue ${operation} failed`);
    },
  };

  worker.on('claimed', listeners.claimed);
  worker.on('completed', listeners.completed);
  worker.on('failed', listeners.failed);
  worker.on('aborted', listeners.aborted);
  worker.on('discarded', listeners.discarded);
  worker.on('error', listeners.error);

  return {
    loggerFor: (job) => attempts.get(keyOf(job))?.logger ?? bindLogger(job),
    detach() {
      worker.off('claimed', listeners.claimed);
      worker.off('completed', listeners.completed);
      worker.off('failed', listeners.failed);
      worker.off('aborted', listeners.aborted);
      worker.off('discarded', listeners.discarded);
      worker.off('error', listeners.error);
    },
  };
}

/** How long the job had been ready (run_at passed) when this attempt claimed it. */
function queueWaitSeconds(job: Job): number {
  const claimedAt = job.startedAt === null ? Date.now() : Date.parse(job.startedAt);
  const readyAt = Date.parse(job.runAt);
  return Number.isFinite(readyAt) && Number.isFinite(claimedAt)
    ? Math.max(0, (claimedAt - readyAt) / 1000)
    : 0;
}

/** What a refused transition found instead (the state, or null for no job; whether it was reclaimed). */
function foundFields(found: Refused | undefined): Record<string, unknown> {
  return found === undefined ? {} : { found: found.found, reclaimed: found.reclaimed };
}
