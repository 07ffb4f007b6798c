// The sweep that removes forgotten uploads, run on a timer by each worker process:
// - incomplete ones: an API process that died (or lost its database) while it stored a body
//   never gets to remove the part it wrote; an upload still incomplete an hour after it was
//   created is not being written any more (a 1 GiB body at a few MB/s takes minutes);
// - complete ones long past: the import.csv job deletes its upload when it ends, but a job
//   cancelled while still queued never runs; after a week no job is waiting for it.
import type { UploadStore } from './storage.ts';

export const DEFAULT_PURGE_INTERVAL_MS = 10 * 60_000;
export const DEFAULT_INCOMPLETE_MAX_AGE_MS = 60 * 60_000;
export const DEFAULT_COMPLETE_MAX_AGE_MS = 7 * 24 * 60 * 60_000;

export interface UploadPurgeOptions {
  /** How often to sweep. Default 10 minutes. */
  intervalMs?: number;
  /** Incomplete uploads older than this are removed. Default 1 hour. */
  maxAgeMs?: number;
  /** Complete uploads stored longer ago than this are removed. Default 7 days. */
  completeMaxAgeMs?: number;
  /** A failed sweep is retried at the next tick; this hears of it. */
  onError?: (error: unknown) => void;
  /** A sweep removed uploads. */
  onPurged?: (count: number) => void;
  now?: () => number;
}

export interface UploadPurge {
  /** One sweep now; resolves with how many uploads it removed. */
  sweep(): Promise<number>;
  /** Stops the timer and waits for a sweep in progress. */
  stop(): Promise<void>;
}

export function startUploadPurge(store: UploadStore, options: UploadPurgeOptions = {}): UploadPurge {
  const {
    intervalMs = DEFAULT_PURGE_INTERVAL_MS,
    maxAgeMs = DEFAULT_INCOMPLETE_MAX_AGE_MS,
    completeMaxAgeMs = DEFAULT_COMPLETE_MAX_AGE_MS,
    onError = () => {},
    onPurged = () => {},
    now = Date.now,
  } = options;
  let running: Promise<number> | undefined;
  const sweep = () => {
    running ??= (async () => {
      const at = now();
      return (
        (await store.purgeIncomplete(new Date(at - maxAgeMs))) +
        (await store.purgeCompleted(new Date(at - completeMaxAgeMs)))
      );
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => {
    sweep().then((count) => {
      if (count > 0) onPurged(count);
    }, onError);
  }, intervalMs);
  timer.unref();
  return {
    sweep,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
