// Times the queue calls a request makes. The queue backends hold their own connections, so the
// knex query hook behind `db` in Server-Timing never sees them; this wraps the Queue the routes
// use and adds each call's count and duration to the request context's `queueCalls`. Calls made
// outside a request (the stats sampler) have no context and are not counted.
import type { Queue } from '@offload/queue';
import { currentRequestContext } from './request-context.ts';

export interface QueueCallStats {
  count: number;
  totalMs: number;
}

/** The same queue, each promise-returning method timed into the current request's stats. */
export function timedQueue(queue: Queue): Queue {
  return new Proxy(queue, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      // Bound to the real queue: its methods use private fields, which a proxy `this` lacks.
      return (...args: unknown[]): unknown => {
        const stats = currentRequestContext()?.queueCalls;
        const started = performance.now();
        const result: unknown = value.apply(target, args);
        if (stats === undefined || !isPromiseLike(result)) return result;
        const record = (): void => {
          stats.count += 1;
          stats.totalMs += performance.now() - started;
        };
        return Promise.resolve(result).finally(record);
      };
    },
  });
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
