// /v1/metric-sources — where collect.metrics fetches monitoring metrics from (admin only: a
// source makes the worker call a URL). Each enabled source with a cron has its own queue
// schedule, named `collect.metrics.source-<id>` (a name /v1/schedules/:name accepts), sending
// collect.metrics with its sourceId; it is created, replaced and removed with the source, so
// the schedule always says what the source says. `POST …/:id/collect` enqueues a collection now.
//
// The source row and its schedule live in two stores: a create whose schedule cannot be written
// removes the row again; a delete removes the row first, so a schedule left behind by a failure
// only sends jobs that fail for good (the source is gone), never collects a deleted source.
import {
  createMetricSource,
  type Db,
  deleteMetricSource,
  getMetricSource,
  listMetricSources,
  METRIC_SOURCE_FORMATS,
  type MetricSource,
  parsePageParams,
  updateMetricSource,
} from '@offload/db';
import { collectMetrics, MAX_ROW_ID } from '@offload/jobs';
import type { Queue } from '@offload/queue';
import { Router } from 'express';
import { z } from 'zod';
import { type GuardDeps, requireScope } from '../auth.ts';
import { HttpProblem } from '../problem.ts';
import { currentRequestContext } from '../request-context.ts';
import { defineRoute } from '../routing.ts';
import { listJobsQuery, putScheduleBody } from '../schemas.ts';
import type { OpenApiHelpers } from '../upload-openapi.ts';
import { parseBody, parseIdParam, parseQuery } from '../validation.ts';
import { principalOf, toJobView } from './jobs.ts';

type JsonSchema = Record<string, unknown>;

export interface MetricSourcesRouterDeps extends GuardDeps {
  db: Db;
  queue: Queue;
}

// ---- the contract (also the OpenAPI document's) -------------------------------------------------

const fields = {
  name: z.string().trim().min(1).max(100).describe('Unique name.'),
  url: z
    .string()
    .max(2000)
    .refine(isHttpUrl, 'must be an absolute http or https URL')
    .describe('Where the worker fetches the metrics (http or https).'),
  format: z
    .enum(METRIC_SOURCE_FORMATS)
    .describe('ndjson or csv (columns model_external_id, metric, observed_at, value).'),
  cron: putScheduleBody.shape.cron
    .nullable()
    .describe('Five-field cron (UTC) to collect on; null to collect on demand only.'),
  enabled: z.boolean().describe('A disabled source keeps its row but has no schedule.'),
};

export const createMetricSourceBody = z
  .strictObject({ ...fields, cron: fields.cron.optional(), enabled: fields.enabled.optional() })
  .describe('A new metric source; cron defaults to null, enabled to true.');

export const patchMetricSourceBody = z
  .strictObject({
    name: fields.name.optional(),
    url: fields.url.optional(),
    format: fields.format.optional(),
    cron: fields.cron.optional(),
    enabled: fields.enabled.optional(),
  })
  .describe('The fields to change.');

export const listMetricSourcesQuery = z.strictObject({
  cursor: listJobsQuery.shape.cursor,
  limit: listJobsQuery.shape.limit,
});

export const metricSourceView = z
  .object({
    id: z.int(),
    name: z.string(),
    url: z.string(),
    format: z.enum(METRIC_SOURCE_FORMATS),
    cron: z.string().nullable(),
    enabled: z.boolean(),
    createdAt: z.string(),
    schedule: z.string().nullable().describe('The name of the queue schedule collecting it, if any.'),
  })
  .describe('A metric source');

export const metricSourcePage = z.object({
  items: z.array(metricSourceView),
  nextCursor: z.string().nullable().describe('null on the last page'),
});

/** The queue schedule of a source. */
export function sourceScheduleName(id: number): string {
  return `collect.metrics.source-${id}`;
}

// ---- routes ---------------------------------------------------------------------------------

export function metricSourcesRouter(deps: MetricSourcesRouterDeps): Router {
  const router = Router();
  const { db, queue } = deps;
  const admin = requireScope(deps, 'admin');

  defineRoute(router, '/v1/metric-sources', {
    get: [
      admin,
      async (req, res) => {
        const query = parseQuery(listMetricSourcesQuery, req);
        const page = await listMetricSources(db, parsePageParams(query));
        res.json({ items: page.items.map(toView), nextCursor: page.nextCursor });
      },
    ],
    post: [
      admin,
      async (req, res) => {
        const body = parseBody(createMetricSourceBody, req);
        const source = await createMetricSource(db.knex, {
          ...body,
          cron: normalizeCron(body.cron ?? null),
          enabled: body.enabled ?? true,
        }).catch(nameTaken(body.name));
        try {
          await syncSchedule(queue, source);
        } catch (error) {
          await deleteMetricSource(db.knex, source.id).catch(() => undefined);
          throw error;
        }
        res.status(201).setHeader('Location', `/v1/metric-sources/${source.id}`).json(toView(source));
      },
    ],
  });

  defineRoute(router, '/v1/metric-sources/:id', {
    get: [
      admin,
      async (req, res) => void res.json(toView(await getMetricSource(db.knex, parseIdParam(req)))),
    ],
    patch: [
      admin,
      async (req, res) => {
        const id = parseIdParam(req);
        const body = parseBody(patchMetricSourceBody, req);
        const patch = body.cron === undefined ? body : { ...body, cron: normalizeCron(body.cron) };
        const source = await updateMetricSource(db.knex, id, patch).catch(nameTaken(body.name));
        await syncSchedule(queue, source);
        res.json(toView(source));
      },
    ],
    delete: [
      admin,
      async (req, res) => {
        const id = parseIdParam(req);
        await deleteMetricSource(db.knex, id);
        await queue.scheduleDelete(sourceScheduleName(id));
        res.status(204).end();
      },
    ],
  });

  defineRoute(router, '/v1/metric-sources/:id/collect', {
    post: [
      admin,
      async (req, res) => {
        const source = await getMetricSource(db.knex, parseIdParam(req));
        const requestId = currentRequestContext()?.requestId;
        const { job } = await queue.send(
          collectMetrics.name,
          { sourceId: source.id },
          {
            priority: collectMetrics.defaults.priority,
            maxAttempts: collectMetrics.defaults.maxAttempts,
            backoff: collectMetrics.defaults.backoff,
            leaseSeconds: collectMetrics.defaults.leaseSeconds,
            owner: principalOf(res).owner,
            meta: requestId === undefined ? {} : { requestId },
          },
        );
        res
          .status(202)
          .setHeader('Location', `/v1/jobs/${encodeURIComponent(job.id)}`)
          .json(toJobView(job));
      },
    ],
  });

  return router;
}

/** The source's schedule as the source says: there when it is enabled with a cron, gone otherwise. */
async function syncSchedule(queue: Queue, source: MetricSource): Promise<void> {
  const name = sourceScheduleName(source.id);
  if (!source.enabled || source.cron === null) {
    await queue.scheduleDelete(name);
    return;
  }
  await queue.scheduleUpsert({
    name,
    cron: source.cron,
    timezone: 'UTC',
    kind: collectMetrics.name,
    payload: { sourceId: source.id },
    options: {},
  });
}

function toView(source: MetricSource) {
  return {
    ...source,
    schedule: source.enabled && source.cron !== null ? sourceScheduleName(source.id) : null,
  };
}

function normalizeCron(cron: string | null): string | null {
  return cron === null ? null : cron.replace(/ +/g, ' ');
}

/** A taken name is the caller's to fix: 409 naming the field. */
function nameTaken(name: string | undefined) {
  return (error: unknown): never => {
    const conflict = error as { name?: string; kind?: string };
    if (name !== undefined && conflict?.name === 'ConflictError' && conflict.kind === 'unique') {
      throw new HttpProblem(409, `A metric source named ${JSON.stringify(name)} already exists.`, {
        errors: [{ pointer: '#/name', detail: 'is taken by another metric source' }],
      });
    }
    throw error;
  };
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

// ---- OpenAPI ----------------------------------------------------------------------------------

/** The /v1/metric-sources paths, spliced into the document openapi.ts builds. */
export function metricSourcePaths({
  ref,
  problem,
  json,
  jsonBody,
  errors,
  bodyErrors,
  headers,
  queryParameters,
}: OpenApiHelpers & { queryParameters(schema: z.ZodObject): JsonSchema[] }): Record<string, JsonSchema> {
  const id = {
    name: 'id',
    in: 'path',
    required: true,
    schema: { type: 'integer', minimum: 1, maximum: MAX_ROW_ID },
  };
  const badId = problem(`The id is not an integer from 1 to ${MAX_ROW_ID}.`);
  const invalid = problem('Invalid fields, each named in `errors`.');
  const missing = problem('No such metric source.');
  const tags = ['operations'];
  const taken = problem('Another source has this name.');
  return {
    '/v1/metric-sources': {
      get: {
        operationId: 'listMetricSources',
        tags,
        summary: 'List metric sources (admin)',
        parameters: queryParameters(listMetricSourcesQuery),
        responses: {
          '200': json('A page of sources in id order.', ref('MetricSourcePage')),
          '400': problem('A bad parameter: limit over 100, a cursor we did not issue.'),
          ...errors,
        },
      },
      post: {
        operationId: 'createMetricSource',
        tags,
        summary: 'Create a metric source (admin)',
        description: 'An enabled source with a cron gets its own schedule, collect.metrics.source-<id>.',
        requestBody: jsonBody('CreateMetricSource'),
        responses: {
          '201': json('Created.', ref('MetricSource'), headers.location),
          ...bodyErrors,
          '409': taken,
          '422': invalid,
          ...errors,
        },
      },
    },
    '/v1/metric-sources/{id}': {
      get: {
        operationId: 'getMetricSource',
        tags,
        summary: 'Get a metric source (admin)',
        parameters: [id],
        responses: {
          '200': json('The source.', ref('MetricSource')),
          '400': badId,
          '404': missing,
          ...errors,
        },
      },
      patch: {
        operationId: 'updateMetricSource',
        tags,
        summary: 'Change a metric source (admin)',
        description: 'Its schedule follows: created, replaced or removed as enabled and cron now say.',
        parameters: [id],
        requestBody: jsonBody('PatchMetricSource'),
        responses: {
          '200': json('The source as it now is.', ref('MetricSource')),
          ...bodyErrors,
          '400': problem(`Malformed JSON, or the id is not an integer from 1 to ${MAX_ROW_ID}.`),
          '404': missing,
          '409': taken,
          '422': invalid,
          ...errors,
        },
      },
      delete: {
        operationId: 'deleteMetricSource',
        tags,
        summary: 'Delete a metric source and its schedule (admin)',
        parameters: [id],
        responses: { '204': { description: 'Deleted.' }, '400': badId, '404': missing, ...errors },
      },
    },
    '/v1/metric-sources/{id}/collect': {
      post: {
        operationId: 'collectMetricSource',
        tags,
        summary: 'Collect a metric source now (admin)',
        parameters: [id],
        responses: {
          '202': json('The collect.metrics job, enqueued.', ref('Job'), headers.location),
          '400': badId,
          '404': missing,
          ...errors,
        },
      },
    },
  };
}
