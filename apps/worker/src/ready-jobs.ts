// The autoscaling signal: per kind, the jobs that could run now (queued or retrying, runAt
// passed) apart from those waiting for a later runAt (a retry's backoff, a debounced rebuild,
// a job sent for tomorrow). Depth counts both; scaling on it would add workers for work that
// cannot start yet. Read through the queue's public surface:
//
//   counts     one read of the queue's counts gives each kind's ready and scheduled jobs: the
//              waiting total from the maintained counters, split by a bounded, index-only count
//              of those due later (runtime/counts.ts), so the figure is exact whatever the
//              backlog, unless more than SCHEDULED_COUNT_CAP jobs of a kind wait for later
//              (`capped`: `ready` is then an upper bound);
//   sample     shared while in flight and kept SAMPLE_TTL_MS, so scrapes cost one read.
import type { Queue } from '@offload/queue';

const SAMPLE_TTL_MS = 5000;

export interface ReadyJobs {
  kind: string;
  /** Queued or retrying with runAt passed: could start now. */
  ready: number;
  /** Queued or retrying with runAt still ahead. */
  scheduled: number;
  /** More jobs wait for later than the queue counts: `scheduled` is at least this, `ready` at most. */
  capped: boolean;
}

export async function countReadyJobs(queue: Queue, now: Date = new Date()): Promise<ReadyJobs[]> {
  return (await queue.counts(now)).map((kind) => ({
    kind: kind.kind,
    ready: kind.ready,
    scheduled: kind.scheduled,
    capped: kind.scheduledCapped,
  }));
}

/** countReadyJobs, sampled at most once per SAMPLE_TTL_MS and shared while in flight. */
export function readyJobsSampler(queue: Queue, now: () => number = Date.now): () => Promise<ReadyJobs[]> {
  let last: { at: number; value: Promise<ReadyJobs[]> } | undefined;
  return () => {
    const at = now();
    if (last === undefined || at - last.at >= SAMPLE_TTL_MS) {
      const value = countReadyJobs(queue, new Date(at));
      last = { at, value };
      // A failed sample is not kept: the next scrape tries again.
      value.catch(() => {
        if (last?.value === value) last = undefined;
      });
    }
    return last.value;
  };
}
