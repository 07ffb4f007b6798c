import type { Db } from '@offload/db';
import type { Queue } from '@offload/queue';
import { type Request, type Response, Router } from 'express';
import { PROBLEM_CONTENT_TYPE } from './problem.ts';
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
 * 503 while one is down, so a load balancer stops routing to it until it recovers.
 */
export function healthRouter(checks: ReadinessCheck[]): Router {
  const router = Router();
  defineRoute(router, '/healthz', {
    get: [
      (_req, res) => {
        res.json({ status: 'ok' });
      },
    ],
  });
  defineRoute(router, '/readyz', { get: [readiness] });
  return router;

  async function readiness(req: Request, res: Response): Promise<void> {
    const results = await Promise.all(
      checks.map(async ({ name, check }) => {
        try {
          await check();
          return { name, ok: true as const };
        } catch (error) {
          return { name, ok: false as const, error: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
    const failed = results.filter((result) => !result.ok);
    if (failed.length === 0) {
      res.json({ status: 'ready', checks: results });
      return;
    }
    res
      .status(503)
      .type(PROBLEM_CONTENT_TYPE)
      .send(
        JSON.stringify({
          type: 'about:blank',
          title: 'Service Unavailable',
          status: 503,
          detail: `not ready: ${failed.map((result) => result.name).join(', ')}`,
          instance: req.path,
          checks: results,
        }),
      );
  }
}
