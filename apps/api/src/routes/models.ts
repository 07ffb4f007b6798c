// GET /v1/models?region&team&status&cursor&limit — the inventory, keyset-paginated by id and
// filtered by codes; GET /v1/models/:id — a model with its validations (each with its regional
// approvals) and its health. Both through the read cache ('models' family), each a fixed number
// of indexed statements on a miss (see @offload/db inventory.ts).
import { inventory } from '@offload/db';
import { Router } from 'express';
import { z } from 'zod';
import { type GuardDeps, requireScope } from '../auth.ts';
import type { FastRead } from '../fast-reads.ts';
import { sendCached } from '../http-cache.ts';
import { HttpProblem, validationProblem } from '../problem.ts';
import type { ApiReadCache } from '../read-cache.ts';
import { defineRoute } from '../routing.ts';
import { pageQuery } from '../schemas.ts';
import { parseIdParam, parseQuery } from '../validation.ts';

export interface ModelsRouterDeps extends GuardDeps {
  reads: ApiReadCache;
}

const code = z.string().min(1).max(100);

export const listModelsQuery = z.strictObject({
  region: code.optional().describe('Only models of this region (its code).'),
  team: code.optional().describe('Only models of this team (its code).'),
  status: z.enum(inventory.MODEL_STATUSES).optional(),
  ...pageQuery,
});

export const modelSummaryView = z.object({
  id: z.int(),
  externalId: z.string(),
  name: z.string(),
  region: z.string().describe('Region code.'),
  team: z.string().describe('Team code.'),
  riskTier: z.string().describe('Risk tier code.'),
  ownerEmail: z.string(),
  status: z.enum(inventory.MODEL_STATUSES),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const modelPage = z.object({ items: z.array(modelSummaryView), nextCursor: z.string().nullable() });

export const modelDetailView = modelSummaryView.extend({
  health: z
    .object({ status: z.enum(['ok', 'warn', 'alert']), computedAt: z.string(), payload: z.unknown() })
    .nullable()
    .describe('null until the health analysis has covered the model.'),
  validations: z.array(
    z.object({
      id: z.int(),
      kind: z.enum(['full', 'interim']),
      status: z.enum(['planned', 'in_progress', 'approved', 'rejected']),
      approvedOn: z.string().nullable(),
      createdAt: z.string(),
      approvals: z.array(
        z.object({
          id: z.int(),
          region: z.string(),
          approvalType: z.string(),
          status: z.enum(['pending', 'approved', 'rejected']),
          decidedOn: z.string().nullable(),
        }),
      ),
    }),
  ),
});

/** A page's read parameters from its validated query (the default limit, an empty cursor as none). */
const listParams = (query: z.output<typeof listModelsQuery>): inventory.ListModelsParams => ({
  ...(query.region === undefined ? {} : { region: query.region }),
  ...(query.team === undefined ? {} : { team: query.team }),
  ...(query.status === undefined ? {} : { status: query.status }),
  cursor: query.cursor === undefined || query.cursor === '' ? null : query.cursor,
  limit: query.limit ?? 50,
});

/** The short path (fast-reads.ts) of a cached page of models. */
export const modelsFastRead: FastRead<typeof listModelsQuery> = {
  path: '/v1/models',
  family: 'models',
  query: listModelsQuery,
  peek: (reads, query) => reads.peekModels(listParams(query)),
};

export function modelsRouter(deps: ModelsRouterDeps): Router {
  const router = Router();
  const read = requireScope(deps, 'read');

  defineRoute(router, '/v1/models', {
    get: [
      read,
      async (req, res) => {
        const query = parseQuery(listModelsQuery, req);
        try {
          const page = await deps.reads.models(listParams(query));
          sendCached(req, res, page, deps.reads.maxAgeSeconds('models'));
        } catch (error) {
          if (error instanceof inventory.UnknownCodeError) {
            throw validationProblem(400, [{ parameter: error.field, detail: error.message }]);
          }
          throw error;
        }
      },
    ],
  });

  defineRoute(router, '/v1/models/:id', {
    get: [
      read,
      async (req, res) => {
        const id = parseIdParam(req);
        const model = await deps.reads.model(id);
        if (model === null) throw new HttpProblem(404, `No model has the id ${id}.`);
        sendCached(req, res, model, deps.reads.maxAgeSeconds('models'));
      },
    ],
  });

  return router;
}
