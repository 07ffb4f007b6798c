// The OpenAPI 3.1 document, generated from the zod schemas in schemas.ts and the job catalog:
// the same objects that validate requests describe them, so the document cannot drift from
// the code. Built once per app, served as JSON at /v1/openapi.json.
import { toJsonSchema } from '@offload/jobs';
import { z } from 'zod';
import { attestationCyclePage, attestationCyclesQuery } from './routes/attestation-cycles.ts';
import { cacheStatsView, invalidateCacheBody, invalidatedView } from './routes/cache.ts';
import { dashboardView } from './routes/dashboard.ts';
import { kpiQuery, kpiView } from './routes/kpi.ts';
import {
  createMetricSourceBody,
  metricSourcePage,
  metricSourcePaths,
  metricSourceView,
  patchMetricSourceBody,
} from './routes/metric-sources.ts';
import { listModelsQuery, modelDetailView, modelPage } from './routes/models.ts';
import { complianceReportView } from './routes/reports.ts';
import {
  jobPage,
  jobView,
  listJobsQuery,
  problemView,
  putScheduleBodyByKind,
  queueList,
  scheduleList,
  scheduleView,
  submitJobBodyByKind,
  systemHealth,
  workerList,
} from './schemas.ts';
import { importPaths } from './upload-openapi.ts';

type JsonSchema = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});

const json = (description: string, schema: JsonSchema) => ({
  description,
  content: { 'application/json': { schema } },
});

const ERRORS = {
  '401': problem('No API key, or an unknown or revoked one.'),
  '403': problem('The key lacks the scope this operation needs.'),
  '429': problem('The key is over its rate limit; see Retry-After.'),
  '503': problem('The database is unavailable; retry shortly.'),
};

const jobId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const scheduleName = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };

/**
 * Named schemas as components: a schema used inside another named one becomes a `$ref` to it.
 * `input` describes what requests may send, `output` what responses carry.
 */
function componentSchemas(
  io: 'input' | 'output',
  named: Record<string, z.ZodType>,
): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, JsonSchema> };
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _schema, $id: _id, ...schema }]) => [id, schema]),
  );
}

function queryParameters(schema: z.ZodObject): JsonSchema[] {
  const shape = toJsonSchema(schema) as { properties: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(shape.properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: shape.required?.includes(name) ?? false,
    schema: property,
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
  }));
}

// ---- precomputed reads and the read cache (routes/kpi.ts … routes/cache.ts) ---------------------

const READ_SCHEMAS = {
  Kpi: kpiView,
  ComplianceReport: complianceReportView,
  AttestationCyclePage: attestationCyclePage,
  Dashboard: dashboardView,
  ModelPage: modelPage,
  ModelDetail: modelDetailView,
  CacheStats: cacheStatsView,
  CacheInvalidated: invalidatedView,
};

const SNAPSHOT_PENDING = problem(
  'No rebuild has produced this report yet (type urn:offload:problem:snapshot-pending, Retry-After: 30).',
);

const READ_PATHS = {
  '/v1/kpi': {
    get: {
      summary: 'KPI snapshot of a scope',
      description:
        'Served from the cache: the snapshot the last rebuild.kpi stored for the whole inventory, a region, ' +
        'a team, or a region and team (by code).',
      parameters: queryParameters(kpiQuery),
      responses: {
        '200': json('The snapshot.', ref('Kpi')),
        '400': problem('An unknown query parameter.'),
        '404': problem(
          'An unknown region or team code (named in `errors`), or a region and team with no snapshot.',
        ),
        ...ERRORS,
        '503': SNAPSHOT_PENDING,
      },
    },
  },
  '/v1/reports/regional-compliance': {
    get: {
      summary: 'Regional compliance report',
      responses: { '200': json('The report.', ref('ComplianceReport')), ...ERRORS, '503': SNAPSHOT_PENDING },
    },
  },
  '/v1/attestation-cycles': {
    get: {
      summary: 'Attestation cycles with their counts, newest first',
      description: 'Counts as of the last KPI rebuild, which computes them; no cycle before the first.',
      parameters: queryParameters(attestationCyclesQuery),
      responses: {
        '200': json('A page of cycles.', ref('AttestationCyclePage')),
        '400': problem('A bad parameter: limit over 100, a cursor we did not issue.'),
        ...ERRORS,
      },
    },
  },
  '/v1/dashboard': {
    get: {
      summary: 'Home page numbers in one call',
      description:
        'Global KPI headline, compliance totals, latest attestation cycle and health counts, from cache. The health counts are those of the global KPI snapshot (all 0 before the first KPI rebuild).',
      responses: {
        '200': json('The numbers; a part is null until its first rebuild.', ref('Dashboard')),
        ...ERRORS,
      },
    },
  },
  '/v1/models': {
    get: {
      summary: 'List models',
      parameters: queryParameters(listModelsQuery),
      responses: {
        '200': json('A page of models in id order.', ref('ModelPage')),
        '400': problem('A bad parameter: an unknown region or team code, limit over 100, a bad cursor.'),
        ...ERRORS,
      },
    },
  },
  '/v1/models/{id}': {
    get: {
      summary: 'Get a model with its validations, approvals and health',
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }],
      responses: {
        '200': json('The model.', ref('ModelDetail')),
        '400': problem('The id is not a positive integer.'),
        '404': problem('No such model.'),
        ...ERRORS,
      },
    },
  },
  '/v1/cache/stats': {
    get: {
      summary: 'Read cache statistics of this process, per family',
      responses: { '200': json('Per family.', ref('CacheStats')), ...ERRORS },
    },
  },
  '/v1/cache/invalidate': {
    post: {
      summary: 'Invalidate a cache family in every process (admin)',
      description:
        'Moves the family’s version (every family’s without `family`): PostgreSQL processes drop it at once ' +
        '(NOTIFY), SQLite processes within CACHE_VERSION_CHECK_MS.',
      requestBody: { required: false, content: { 'application/json': { schema: ref('InvalidateCache') } } },
      responses: {
        '200': json('The new versions.', ref('CacheInvalidated')),
        '422': problem('An unknown family.'),
        ...ERRORS,
      },
    },
  },
};

export function buildOpenApiDocument(version: string): JsonSchema {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Offload API',
      version,
      description:
        'Submit jobs, follow them (poll or server-sent events), operate queues and schedules. ' +
        'Errors are RFC 9457 problem documents; lists are paginated with an opaque cursor.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key.' } },
      schemas: {
        ...componentSchemas('input', { SubmitJob: submitJobBodyByKind, PutSchedule: putScheduleBodyByKind }),
        ...componentSchemas('input', { InvalidateCache: invalidateCacheBody }),
        ...componentSchemas('input', {
          CreateMetricSource: createMetricSourceBody,
          PatchMetricSource: patchMetricSourceBody,
        }),
        ...componentSchemas('output', { MetricSource: metricSourceView, MetricSourcePage: metricSourcePage }),
        ...componentSchemas('output', READ_SCHEMAS),
        ...componentSchemas('output', {
          Job: jobView,
          JobPage: jobPage,
          QueueList: queueList,
          Schedule: scheduleView,
          ScheduleList: scheduleList,
          WorkerList: workerList,
          SystemHealth: systemHealth,
          Problem: problemView,
        }),
      },
    },
    paths: {
      ...importPaths({ ref, problem, json, errors: ERRORS }),
      '/v1/jobs': {
        post: {
          summary: 'Submit a job',
          description:
            'Validates the payload against the kind’s schema and enqueues the job. With an Idempotency-Key, ' +
            'the same key and body return the same job (200, Idempotent-Replayed: true); the same key with ' +
            'another body is refused (422).',
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              schema: { type: 'string', maxLength: 255 },
            },
          ],
          requestBody: { required: true, content: { 'application/json': { schema: ref('SubmitJob') } } },
          responses: {
            '202': {
              ...json('Enqueued.', ref('Job')),
              headers: { Location: { schema: { type: 'string' } } },
            },
            '200': json('Replayed: the job this Idempotency-Key already created.', ref('Job')),
            '400': problem('Malformed JSON or a bad header.'),
            '413': problem('The body is larger than 1 MB.'),
            '422': problem(
              'Invalid fields (listed in `errors`) or an Idempotency-Key reused with another body.',
            ),
            ...ERRORS,
          },
        },
        get: {
          summary: 'List jobs',
          parameters: queryParameters(listJobsQuery),
          responses: {
            '200': json('A page of jobs, newest first.', ref('JobPage')),
            '400': problem('A bad parameter: limit over 100, a cursor we did not issue.'),
            ...ERRORS,
          },
        },
      },
      '/v1/jobs/{id}': {
        get: {
          summary: 'Get a job',
          parameters: [jobId],
          responses: { '200': json('The job.', ref('Job')), '404': problem('No such job.'), ...ERRORS },
        },
      },
      '/v1/jobs/{id}/cancel': {
        post: {
          summary: 'Cancel a job',
          parameters: [jobId],
          responses: {
            '200': json('Cancelled.', ref('Job')),
            '404': problem('No such job.'),
            '409': problem('The job already ended.'),
            ...ERRORS,
          },
        },
      },
      '/v1/jobs/{id}/retry': {
        post: {
          summary: 'Retry a failed or cancelled job',
          parameters: [jobId],
          responses: {
            '200': json('Queued again.', ref('Job')),
            '404': problem('No such job.'),
            '409': problem('The job is neither failed nor cancelled.'),
            ...ERRORS,
          },
        },
      },
      '/v1/jobs/{id}/events': {
        get: {
          summary: 'Follow a job (server-sent events)',
          description:
            'An initial `state` event with the job, then `progress` events ({id, progress, at}) and `state` ' +
            'events (the job) until it ends; the stream closes after a terminal state. Comments every 15 s keep it alive.',
          parameters: [jobId],
          responses: {
            '200': {
              description: 'The event stream.',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            '404': problem('No such job.'),
            ...ERRORS,
          },
        },
      },
      '/v1/queues': {
        get: {
          summary: 'Queue depth, lag and throughput per kind',
          responses: { '200': json('Per kind.', ref('QueueList')), ...ERRORS },
        },
      },
      '/v1/schedules': {
        get: {
          summary: 'List cron schedules',
          responses: { '200': json('Every schedule.', ref('ScheduleList')), ...ERRORS },
        },
      },
      '/v1/schedules/{name}': {
        get: {
          summary: 'Get a schedule',
          parameters: [scheduleName],
          responses: {
            '200': json('The schedule.', ref('Schedule')),
            '404': problem('No such schedule.'),
            ...ERRORS,
          },
        },
        put: {
          summary: 'Create or replace a schedule (admin)',
          parameters: [scheduleName],
          requestBody: { required: true, content: { 'application/json': { schema: ref('PutSchedule') } } },
          responses: {
            '200': json('Replaced.', ref('Schedule')),
            '201': json('Created.', ref('Schedule')),
            '422': problem('Invalid fields.'),
            ...ERRORS,
          },
        },
        delete: {
          summary: 'Delete a schedule (admin)',
          parameters: [scheduleName],
          responses: { '204': { description: 'Deleted.' }, '404': problem('No such schedule.'), ...ERRORS },
        },
      },
      '/v1/workers': {
        get: {
          summary: 'Live worker processes (admin)',
          responses: { '200': json('Workers heard from in the last minute.', ref('WorkerList')), ...ERRORS },
        },
      },
      '/v1/health': {
        get: {
          summary: 'System health (admin)',
          responses: { '200': json('Health.', ref('SystemHealth')), ...ERRORS },
        },
      },
      ...READ_PATHS,
      ...metricSourcePaths({ ref, problem, json, errors: ERRORS, queryParameters }),
      '/v1/openapi.json': {
        get: {
          summary: 'This document',
          security: [],
          responses: { '200': { description: 'OpenAPI 3.1.' } },
        },
      },
      '/healthz': {
        get: { summary: 'Liveness', security: [], responses: { '200': { description: 'Alive.' } } },
      },
      '/readyz': {
        get: {
          summary: 'Readiness (database and queue)',
          security: [],
          responses: { '200': { description: 'Ready.' }, '503': problem('A dependency is down.') },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          security: [],
          responses: { '200': { description: 'Text exposition.' } },
        },
      },
    },
  };
}
