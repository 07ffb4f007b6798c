// What every line of code running for one request can find without being handed it: the request
// id (for logs, and carried into enqueued jobs' meta so the worker's log lines for the job name
// it) and the caller once authenticated. AsyncLocalStorage carries it across awaits.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal } from './auth.ts';

export interface RequestContext {
  readonly requestId: string;
  principal: Principal | undefined;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithRequestContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}
