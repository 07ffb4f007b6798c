// The autoscaling signal: per kind, the jobs that could run now (queued or retrying, runAt
// passed) apart from those waiting for a later runAt (a retry's backoff, a debounced rebuild,
// a job sent for tomorrow). Depth counts both; scaling on it would add workers for work that
// cannot start yet. Read through the queue's public surface:
//
//   counts     one maintained-counter read gives each kind's waiting jobs and the age of its
//              oldest ready one; a kind with nothing waiting, or nothing ready (no age), costs
//              nothing more;
//   scan       otherwise its queued and retrying jobs are listed, newest first, a page at a time,
//              counting those whose runAt has passed, up to SCAN_CAP jobs per kind: past it the
//              ready figure is a lower bound (`capped`), which is all a scaler needs (it asks for
//              threshold × replicas, far below the cap);
//   sample     shared while in flight and kept SAMPLE_TTL_MS, so scrapes cost one sample.
import type { Queue } from '@offload/queue';

export const SCAN_CAP = 1000;
const PAGE = 100;
const SAMPLE_TTL_MS = 5000;

export interface ReadyJobs {
  kind: string;
  /** Queued or retrying with runAt passed: could start now. */
  ready: number;
  /** Queued or retrying with runAt still ahead. */
  scheduled: number;
  /** The scan stopped at SCAN_CAP: `ready` is at least this, `scheduled` at most. */
  capped: boolean;
}

export async function countReadyJobs(queue: Queue, now: Date = new Date()): Promise<ReadyJobs[]> {
  const counts = await queue.counts(now);
  return Promise.all(
    counts.map(async (kind) => {
      const waiting = kind.queued + kind.retrying;
      if (waiting === 0 || kind.oldestQueuedAgeSeconds === null) {
        return { kind: kind.kind, ready: 0, scheduled: waiting, capped: false };
      }
      let ready = 0;
      let scanned = 0;
      for (const state of ['queued', 'retrying'] as const) {
        if ((state === 'queued' ? kind.queued : kind.retrying) === 0) continue;
        let cursor: string | null = null;
        do {
          const page = await queue.list({ kind: kind.kind, state, cursor, limit: PAGE });
          for (const job of page.items) if (Date.parse(job.runAt) <= now.getTime()) ready += 1;
          scanned += page.items.length;
          cursor = page.nextCursor;
        } while (cursor !== null && scanned < SCAN_CAP);
        if (scanned >= SCAN_CAP) break;
      }
      const capped = scanned >= SCAN_CAP && scanned < waiting;
      return { kind: kind.kind, ready, scheduled: Math.max(0, waiting - ready), capped };
    }),
  );
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
