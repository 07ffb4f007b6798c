// What every line of code running for one request can find without being handed it: the request
// id (for logs, and carried into enqueued jobs' meta so the worker's log lines for the job name
// it), the caller once authenticated and the queue calls made so far. AsyncLocalStorage carries it across awaits.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal } from './auth.ts';
import type { QueueCallStats } from './queue-timing.ts';

export interface RequestContext {
  readonly requestId: string;
  principal: Principal | undefined;
  /** Queue calls made for the request (count and time), for Server-Timing and the log line. */
  readonly queueCalls?: QueueCallStats;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithRequestContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}
