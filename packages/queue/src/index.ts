// @offload/queue: the runtime (runtime/: every queue policy once) over two thin drivers
// (drivers/sqlite, drivers/postgres on pg-boss's tables) behind one interface. See docs/queue.md.

export { backoffCeilingMs, backoffDelayMs, DEFAULT_BACKOFF, nextRunAt } from './runtime/backoff.ts';
export { MAX_BULK_COUNT, MAX_BULK_LIMIT } from './runtime/bulk.ts';
export { SCHEDULED_COUNT_CAP } from './runtime/counts.ts';
export { nextTick } from './runtime/cron.ts';
export { createQueueBackend, type QueueBackendOptions } from './runtime/factory.ts';
export {
  DEFAULT_LEASE_SECONDS,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_PRIORITY,
  isKindName,
  type KindDefaults,
  type KindDefaultsResolver,
} from './runtime/insert.ts';
export { type JobEventFilter, Queue, type SendOptions } from './runtime/queue.ts';
export {
  type AbortReason,
  JobAbortedError,
  type JobContext,
  type JobHandler,
  toJobError,
  UnrecoverableError,
  Worker,
  type WorkerEventMap,
  type WorkerOptions,
  type WorkerState,
} from './runtime/worker.ts';
export * from './types.ts';
