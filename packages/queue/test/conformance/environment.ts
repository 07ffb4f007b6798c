// The shared set-up of the in-process cases: one database, two backends on it (A and B, as if
// in two processes: a producer and a worker), neither running maintenance, so that cases drive
// rescue and pruning themselves with the `now` they choose.
import { afterAll, beforeAll } from 'vitest';
import type { QueueBackend } from '../../src/index.ts';
import type { ConformanceContext, ConformanceFactory } from './harness.ts';

export interface Environment {
  readonly ctx: ConformanceContext;
  /** The backend most cases use. */
  readonly a: QueueBackend;
  /** Another backend on the same database: what another process sees and does. */
  readonly b: QueueBackend;
}

export function useEnvironment(factory: ConformanceFactory): Environment {
  let ctx: ConformanceContext | undefined;
  let a: QueueBackend | undefined;
  let b: QueueBackend | undefined;
  beforeAll(async () => {
    ctx = await factory();
    a = await ctx.createBackend();
    await a.start({ maintenance: false });
    b = await ctx.createBackend();
    await b.start({ maintenance: false });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await ctx?.destroy();
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('environment not set up');
    return value;
  };
  return {
    get ctx() {
      return ready(ctx);
    },
    get a() {
      return ready(a);
    },
    get b() {
      return ready(b);
    },
  };
}
