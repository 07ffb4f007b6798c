// Per-kind counts as both drivers report them: one row per kind, every state present.
//
// Ready and scheduled split the waiting jobs (queued + retrying, maintained counters) by runAt.
// No counter can follow a job across its runAt (nothing writes at that moment), so the drivers
// count the waiting jobs still ahead of now along an index ordered by runAt, stopping at
// SCHEDULED_COUNT_CAP entries per kind: a bounded, index-only read whatever the table's size,
// exact while fewer jobs than the cap wait for later (work sent for later is usually a small
// part of a backlog), and ready = waiting − scheduled follows exactly from it.
import type { KindCounts } from '../types.ts';

/** At most this many waiting jobs of a kind whose runAt is ahead are counted per read. */
export const SCHEDULED_COUNT_CAP = 10_000;

/** The counts of `kind` in `byKind`, created at zero the first time it is asked for. */
export function countsOf(byKind: Map<string, KindCounts>, kind: string): KindCounts {
  let counts = byKind.get(kind);
  if (counts === undefined) {
    counts = {
      kind,
      queued: 0,
      retrying: 0,
      active: 0,
      completed: 0,
      failed: 0,
      cancelled: 0,
      oldestQueuedAgeSeconds: null,
      ready: 0,
      scheduled: 0,
      scheduledCapped: false,
    };
    byKind.set(kind, counts);
  }
  return counts;
}

/** Sets `counts`' ready and scheduled figures from `later`, the waiting jobs counted up to the cap. */
export function splitWaiting(counts: KindCounts, later: number): void {
  const waiting = counts.queued + counts.retrying;
  counts.scheduledCapped = later >= SCHEDULED_COUNT_CAP;
  counts.scheduled = Math.min(later, waiting);
  counts.ready = Math.max(0, waiting - counts.scheduled);
}
