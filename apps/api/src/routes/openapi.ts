// GET /v1/openapi.json — the OpenAPI 3.1 document (public: it describes, it does not reveal).
import { Router } from 'express';
import { defineRoute } from '../routing.ts';

export function openApiRouter(document: Record<string, unknown>): Router {
  const router = Router();
  const body = JSON.stringify(document);
  defineRoute(router, '/v1/openapi.json', {
    get: [
      (_req, res) => {
        res.type('application/json').send(body);
      },
    ],
  });
  return router;
}
