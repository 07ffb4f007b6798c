import type { Db } from '@offload/db';
import type { Logger } from '@offload/observability';
import type { Queue } from '@offload/queue';
import { type Request, type Response, Router } from 'express';
import { defineRoute } from './routing.ts';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

/** A readiness check that the database answers a trivial query within `timeoutMs`. */
export function databaseCheck(db: Db, timeoutMs = 2000): ReadinessCheck {
  return {
    name: 'database',
    check: async () => {
      await withTimeout(db.knex.raw('select 1'), timeoutMs, 'database did not answer');
    },
  };
}

/** A readiness check that the queue backend answers (its counts are one cheap query). */
export function queueCheck(queue: Queue, timeoutMs = 2000): ReadinessCheck {
  return {
    name: 'queue',
    check: async () => {
      await withTimeout(queue.counts(), timeoutMs, 'queue did not answer');
    },
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/healthz` says the process is alive and checks nothing else, so an orchestrator never restarts
 * a healthy process because its database blinked. `/readyz` checks every dependency and answers
 * 503 while one is down, so a load balancer stops routing to it until it recovers. `/health` and
 * `/ready` are the same, under the names the original requirements use.
 *
 * The readiness body is the worker's too (apps/worker health-server.ts): each check `ok` or
 * `failing`. Why one failed (a driver's message, a host name) goes to the log, never to an
 * unauthenticated caller.
 */
export function healthRouter(checks: ReadinessCheck[], logger: Logger): Router {
  const router = Router();
  const liveness = (_req: Request, res: Response): void => {
    res.json({ status: 'ok' });
  };
  for (const path of ['/healthz', '/health']) defineRoute(router, path, { get: [liveness] });
  for (const path of ['/readyz', '/ready']) defineRoute(router, path, { get: [readiness] });
  return router;

  async function readiness(_req: Request, res: Response): Promise<void> {
    const results = await Promise.all(
      checks.map(async ({ name, check }) => {
        try {
          await check();
          return [name, { status: 'ok' as const }] as const;
        } catch (error) {
          logger.warn({ check: name, err: error }, `readiness check ${name} failed`);
          return [name, { status: 'failing' as const }] as const;
        }
      }),
    );
    const ready = results.every(([, result]) => result.status === 'ok');
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'unavailable',
      checks: Object.fromEntries(results),
    });
  }
}
