// Per-kind counts as both drivers report them: one row per kind, every state present.
import type { KindCounts } from '../types.ts';

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
    };
    byKind.set(kind, counts);
  }
  return counts;
}
