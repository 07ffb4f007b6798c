// GET /metrics — Prometheus text exposition. Unauthenticated, like every scrape target: it
// carries counts and timings, never payloads, owners or keys.
import { Router } from 'express';
import type { ApiMetrics } from '../metrics.ts';
import { defineRoute } from '../routing.ts';

export function metricsRouter(metrics: ApiMetrics): Router {
  const router = Router();
  defineRoute(router, '/metrics', {
    get: [
      async (_req, res) => {
        const body = await metrics.render();
        res.setHeader('Content-Type', metrics.contentType);
        res.send(body);
      },
    ],
  });
  return router;
}
