// The OpenAPI 3.1 document, generated from the zod schemas in schemas.ts and the job catalog:
// the same objects that validate requests describe them, so the document cannot drift from
// the code. Built once per app, served as JSON at /v1/openapi.json.
import { MAX_ROW_ID, toJsonSchema } from '@offload/jobs';
import { MAX_BULK_LIMIT } from '@offload/queue';
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
import { queueStreamPaths } from './routes/queue-stream.ts';
import { complianceReportView } from './routes/reports.ts';
import {
  bulkJobsBody,
  bulkJobsResult,
  importView,
  jobPage,
  jobView,
  listJobsQuery,
  liveness,
  MAX_BULK_JOBS,
  pageOnlyQuery,
  problemView,
  processStats,
  putScheduleBodyByKind,
  queueList,
  readiness,
  scheduleList,
  scheduleView,
  submitJobBodyByKind,
  systemHealth,
  workerList,
} from './schemas.ts';
import { importPaths } from './upload-openapi.ts';
import { MAX_JSON_DEPTH, MAX_JSON_KEYS } from './validation.ts';

type JsonSchema = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** Response headers, declared once; `required` ones the contract test insists on. */
const HEADERS = {
  retryAfter: {
    'Retry-After': {
      description: 'Seconds to wait before trying again.',
      required: true,
      schema: { type: 'integer', minimum: 0 },
    },
  },
  location: {
    Location: { description: 'Where the created resource is.', required: true, schema: { type: 'string' } },
  },
  authenticate: {
    'WWW-Authenticate': { description: 'Bearer realm="offload"', required: true, schema: { type: 'string' } },
  },
} as const;

const problem = (description: string, headers?: JsonSchema) => ({
  description,
  ...(headers === undefined ? {} : { headers }),
  content: { 'application/problem+json': { schema: ref('Problem') } },
});

const json = (description: string, schema: JsonSchema, headers?: JsonSchema) => ({
  description,
  ...(headers === undefined ? {} : { headers }),
  content: { 'application/json': { schema } },
});

/** The errors every authenticated operation may answer. */
const ERRORS = {
  '401': problem('No API key, or an unknown or revoked one.', HEADERS.authenticate),
  '403': problem('The key lacks the scope this operation needs.'),
  '429': problem(
    'The key is over its rate limit, or the client address presented too many unknown keys (refused before any lookup).',
    HEADERS.retryAfter,
  ),
  '503': problem(
    'The database is unavailable (unreachable, or refusing connections: SQLSTATE 55000, 57P03); retry shortly.',
    HEADERS.retryAfter,
  ),
};

/** A JSON request body of the named schema, and the errors reading any JSON body may answer. */
const jsonBody = (name: string, required = true) => ({
  required,
  content: { 'application/json': { schema: ref(name) } },
});
const BODY_ERRORS = {
  '400': problem('The body is not valid JSON.'),
  '413': problem('The body is larger than 1 MB.'),
  '415': problem('The body is not JSON (Content-Type: application/json), or its charset is not UTF-8.'),
};

/** POST /v1/jobs/retry-failed and /v1/jobs/cancel-queued (routes/bulk-jobs.ts). */
function bulkOperation(operationId: string, summary: string, what: string, forbidden: string) {
  return {
    post: {
      operationId,
      tags: ['jobs'],
      summary,
      description:
        `${what} A key acts on its own jobs; an admin names any owner, or none for everyone's. ` +
        `Set-based, in batches of ${MAX_BULK_LIMIT} jobs (each a short transaction); one call moves at most ` +
        `\`limit\` jobs, at most ${MAX_BULK_JOBS} (the default): a larger limit is refused (422), and ` +
        '`more: true` says to call again for the rest. With `dryRun: true` nothing moves and `count` is how ' +
        'many match, counted up to `limit` only (never a count over the whole table): `more: true` then means ' +
        '"at least `count`".',
      requestBody: jsonBody('BulkJobs'),
      responses: {
        '200': json('What was moved (or, with dryRun, how many match).', ref('BulkJobsResult')),
        ...BODY_ERRORS,
        '422': problem(`Invalid fields (listed in \`errors\`): a limit over ${MAX_BULK_JOBS} among them.`),
        ...ERRORS,
        '403': problem(
          `The key lacks the \`submit\` scope${forbidden}, or names another owner without being an admin.`,
        ),
      },
    },
  };
}

const jobId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const scheduleName = {
  name: 'name',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,100}$' },
};

const TAGS = [
  { name: 'jobs', description: 'Submit, follow, cancel and retry jobs.' },
  { name: 'imports', description: 'CSV uploads of models and validations, imported by a job.' },
  { name: 'reports', description: 'Precomputed reads: KPI, compliance, attestation cycles, dashboard.' },
  { name: 'inventory', description: 'Models with their validations and health.' },
  { name: 'operations', description: 'Queues, schedules, workers, metric sources, the read cache.' },
  { name: 'system', description: 'Liveness, readiness, health, statistics, metrics, this document.' },
];

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
  return Object.entries(shape.properties).map(([name, property]) => {
    // A query integer (schemas.ts queryInteger) keeps its string pattern underneath; as an integer
    // the pattern means nothing.
    const { pattern, ...integer } = property;
    return {
      name,
      in: 'query',
      required: shape.required?.includes(name) ?? false,
      schema:
        property.type === 'integer' ? integer : { ...(pattern === undefined ? {} : { pattern }), ...integer },
      ...(typeof property.description === 'string' ? { description: property.description } : {}),
    };
  });
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
  'No rebuild has produced this report yet (type urn:offload:problem:snapshot-pending); ' +
    '`rebuildKind` names the job that computes it.',
  HEADERS.retryAfter,
);

/** A precomputed read's cache validators (read-cache.ts): its ETag follows the snapshot's version. */
const CACHED = {
  ETag: { description: 'The snapshot version this body is of.', required: true, schema: { type: 'string' } },
  'Cache-Control': {
    description: '`private, max-age=N`, N no longer than the family’s cache TTL.',
    required: true,
    schema: { type: 'string' },
  },
};
const ifNoneMatch = {
  name: 'If-None-Match',
  in: 'header',
  required: false,
  schema: { type: 'string' },
  description: 'An ETag this read answered before: 304 while it still holds.',
};
const cachedRead = (description: string, schema: JsonSchema) => ({
  '200': json(description, schema, CACHED),
  '304': { description: 'Not modified since the ETag in If-None-Match.', headers: CACHED },
});
const UNKNOWN_PARAMETER = problem('An unknown query parameter.');

const READ_PATHS = {
  '/v1/kpi': {
    get: {
      operationId: 'getKpi',
      tags: ['reports'],
      summary: 'KPI snapshot of a scope',
      description:
        'Served from the cache: the snapshot the last rebuild.kpi stored for the whole inventory, a region, ' +
        'a team, or a region and team (by code).',
      parameters: [...queryParameters(kpiQuery), ifNoneMatch],
      responses: {
        ...cachedRead('The snapshot.', ref('Kpi')),
        '400': UNKNOWN_PARAMETER,
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
      operationId: 'getRegionalCompliance',
      tags: ['reports'],
      summary: 'Regional compliance report',
      parameters: [ifNoneMatch],
      responses: {
        ...cachedRead('The report.', ref('ComplianceReport')),
        '400': UNKNOWN_PARAMETER,
        ...ERRORS,
        '503': SNAPSHOT_PENDING,
      },
    },
  },
  '/v1/attestation-cycles': {
    get: {
      operationId: 'listAttestationCycles',
      tags: ['reports'],
      summary: 'Attestation cycles with their counts, newest first',
      description: 'Counts as of the last KPI rebuild, which computes them; no cycle before the first.',
      parameters: [...queryParameters(attestationCyclesQuery), ifNoneMatch],
      responses: {
        ...cachedRead('A page of cycles.', ref('AttestationCyclePage')),
        '400': problem('A bad parameter: limit over 100, a cursor we did not issue.'),
        ...ERRORS,
      },
    },
  },
  '/v1/dashboard': {
    get: {
      operationId: 'getDashboard',
      tags: ['reports'],
      summary: 'Home page numbers in one call',
      description:
        'Global KPI headline, compliance totals, latest attestation cycle and health counts, from cache. ' +
        'The health counts are those of the global KPI snapshot (all 0 before the first KPI rebuild).',
      parameters: [ifNoneMatch],
      responses: {
        ...cachedRead('The numbers; a part is null until its first rebuild.', ref('Dashboard')),
        '400': UNKNOWN_PARAMETER,
        ...ERRORS,
      },
    },
  },
  '/v1/models': {
    get: {
      operationId: 'listModels',
      tags: ['inventory'],
      summary: 'List models',
      parameters: [...queryParameters(listModelsQuery), ifNoneMatch],
      responses: {
        ...cachedRead('A page of models in id order.', ref('ModelPage')),
        '400': problem('A bad parameter: an unknown region or team code, limit over 100, a bad cursor.'),
        ...ERRORS,
      },
    },
  },
  '/v1/models/{id}': {
    get: {
      operationId: 'getModel',
      tags: ['inventory'],
      summary: 'Get a model with its validations, approvals and health',
      parameters: [
        {
          name: 'id',
          in: 'path',
          required: true,
          schema: { type: 'integer', minimum: 1, maximum: MAX_ROW_ID },
        },
        ifNoneMatch,
      ],
      responses: {
        ...cachedRead('The model.', ref('ModelDetail')),
        '400': problem(`The id is not an integer from 1 to ${MAX_ROW_ID}.`),
        '404': problem('No such model.'),
        ...ERRORS,
      },
    },
  },
  '/v1/cache/stats': {
    get: {
      operationId: 'getCacheStats',
      tags: ['operations'],
      summary: 'Read cache statistics of this process, per family',
      responses: { '200': json('Per family.', ref('CacheStats')), ...ERRORS },
    },
  },
  '/v1/cache/invalidate': {
    post: {
      operationId: 'invalidateCache',
      tags: ['operations'],
      summary: 'Invalidate a cache family in every process (admin)',
      description:
        'Moves the family’s version (every family’s without `family`): PostgreSQL processes drop it at once ' +
        '(NOTIFY), SQLite processes within CACHE_VERSION_CHECK_MS.',
      requestBody: jsonBody('InvalidateCache', false),
      responses: {
        '200': json('The new versions.', ref('CacheInvalidated')),
        ...BODY_ERRORS,
        '422': problem('An unknown family.'),
        ...ERRORS,
      },
    },
  },
};

// ---- liveness, readiness, health, statistics (health.ts, routes/system-health.ts) ----------------

const UNAUTHENTICATED_4XX = {
  '431': {
    description:
      'Request headers over 16 KB: Node.js’s HTTP server refuses them before the app runs (empty body).',
  },
};
const livenessOperation = {
  tags: ['system'],
  summary: 'Liveness: the process runs (checks nothing else)',
  security: [],
  responses: { '200': json('Alive.', ref('Liveness')), ...UNAUTHENTICATED_4XX },
};
const readinessOperation = {
  tags: ['system'],
  summary: 'Readiness: the database and the queue answer',
  description: 'The same body on the API and the worker: which check failed, never the driver’s message.',
  security: [],
  responses: {
    '200': json('Ready.', ref('Readiness')),
    ...UNAUTHENTICATED_4XX,
    '503': json('A check failed (named in `checks`).', ref('Readiness')),
  },
};
const systemHealthOperation = {
  tags: ['system'],
  summary: 'System health (admin)',
  description:
    'Database latency and pool use, queue depth and lag per kind, version, uptime; a dependency that is ' +
    'down makes `status` say `degraded` instead of failing.',
  responses: { '200': json('Health.', ref('SystemHealth')), ...ERRORS },
};

const SYSTEM_PATHS = {
  '/healthz': { get: { operationId: 'getLiveness', ...livenessOperation } },
  '/health': {
    get: { operationId: 'getHealth', ...livenessOperation, description: 'The same as /healthz.' },
  },
  '/readyz': { get: { operationId: 'getReadiness', ...readinessOperation } },
  '/ready': { get: { operationId: 'getReady', ...readinessOperation, summary: 'The same as /readyz' } },
  '/v1/health': { get: { operationId: 'getSystemHealth', ...systemHealthOperation } },
  '/health-detailed': {
    get: { operationId: 'getHealthDetailed', ...systemHealthOperation, summary: 'The same as /v1/health' },
  },
  '/stats': {
    get: {
      operationId: 'getStats',
      tags: ['system'],
      summary: 'This API process: request rate and latency per route, cache hit ratio, queues, memory',
      responses: { '200': json('The statistics.', ref('ProcessStats')), ...ERRORS },
    },
  },
  '/metrics': {
    get: {
      operationId: 'getMetrics',
      tags: ['system'],
      summary: 'Prometheus metrics',
      security: [],
      responses: {
        '200': {
          description: 'Prometheus text exposition format 0.0.4.',
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
        ...UNAUTHENTICATED_4XX,
      },
    },
  },
  '/v1/openapi.json': {
    get: {
      operationId: 'getOpenApiDocument',
      tags: ['system'],
      summary: 'This document',
      security: [],
      responses: {
        '200': json('OpenAPI 3.1.', {
          type: 'object',
          required: ['openapi', 'paths'],
          properties: { openapi: { type: 'string' }, paths: { type: 'object' } },
        }),
        ...UNAUTHENTICATED_4XX,
      },
    },
  },
};

/**
 * What the app refuses before any route sees the request (app.ts, validation.ts, problem.ts), added
 * to every operation's own answers: a path or query parameter holding NUL or a path parameter not
 * percent-encoded UTF-8 (400, on every path); past the probes, a body its Content-Encoding cannot
 * decode (400); a JSON body nested too deep or with too many keys (422).
 */
const REFUSED_PARAMETER =
  'A path or query parameter holding NUL, or a path parameter not percent-encoded UTF-8 (named in `errors`; `path` for the path).';
const UNDECODABLE_BODY = 'A body that cannot be decoded with its Content-Encoding.';
const OVERSIZED_JSON = `A JSON body nested deeper than ${MAX_JSON_DEPTH} levels or holding more than ${MAX_JSON_KEYS} keys.`;
/** Answered before the body parser: a body there is never read. */
const PROBES = new Set(['/healthz', '/health', '/readyz', '/ready', '/metrics']);

function withRefusals(paths: Record<string, Record<string, JsonSchema>>): Record<string, unknown> {
  const add = (responses: Record<string, JsonSchema>, status: string, text: string) => {
    const own = responses[status];
    if (own === undefined) responses[status] = problem(text);
    else if (!String(own.description).includes(text)) own.description = `${own.description} ${text}`;
  };
  return Object.fromEntries(
    Object.entries(paths).map(([path, item]) => [
      path,
      Object.fromEntries(
        Object.entries(item).map(([method, operation]) => {
          const responses = structuredClone(operation.responses) as Record<string, JsonSchema>;
          add(responses, '400', REFUSED_PARAMETER);
          if (!PROBES.has(path)) add(responses, '400', UNDECODABLE_BODY);
          const body = operation.requestBody as { content?: Record<string, unknown> } | undefined;
          if (body?.content?.['application/json'] !== undefined) add(responses, '422', OVERSIZED_JSON);
          const sorted = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
          return [method, { ...operation, responses: sorted }];
        }),
      ),
    ]),
  );
}

export function buildOpenApiDocument(version: string): JsonSchema {
  const helpers = { ref, problem, json, jsonBody, errors: ERRORS, bodyErrors: BODY_ERRORS, headers: HEADERS };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Offload API',
      version,
      description:
        'Submit jobs, follow them (poll or server-sent events), operate queues and schedules. ' +
        'Errors are RFC 9457 problem documents; lists are paginated with an opaque cursor.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    tags: TAGS,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key.' } },
      schemas: {
        ...componentSchemas('input', { SubmitJob: submitJobBodyByKind, PutSchedule: putScheduleBodyByKind }),
        ...componentSchemas('input', { InvalidateCache: invalidateCacheBody, BulkJobs: bulkJobsBody }),
        ...componentSchemas('input', {
          CreateMetricSource: createMetricSourceBody,
          PatchMetricSource: patchMetricSourceBody,
        }),
        ...componentSchemas('output', { MetricSource: metricSourceView, MetricSourcePage: metricSourcePage }),
        ...componentSchemas('output', READ_SCHEMAS),
        ...componentSchemas('output', {
          Job: jobView,
          BulkJobsResult: bulkJobsResult,
          JobPage: jobPage,
          Import: importView,
          QueueList: queueList,
          Schedule: scheduleView,
          ScheduleList: scheduleList,
          WorkerList: workerList,
          SystemHealth: systemHealth,
          Liveness: liveness,
          Readiness: readiness,
          ProcessStats: processStats,
          Problem: problemView,
        }),
      },
    },
    paths: withRefusals({
      '/v1/jobs': {
        post: {
          operationId: 'submitJob',
          tags: ['jobs'],
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
          requestBody: jsonBody('SubmitJob'),
          responses: {
            '202': json('Enqueued.', ref('Job'), HEADERS.location),
            '200': json('Replayed: the job this Idempotency-Key already created.', ref('Job'), {
              ...HEADERS.location,
              'Idempotent-Replayed': { required: true, schema: { type: 'string', const: 'true' } },
            }),
            ...BODY_ERRORS,
            '400': problem('Malformed JSON or a bad Idempotency-Key header.'),
            '409': problem(
              'The job this Idempotency-Key created is no longer retained; it is not run again.',
            ),
            '422': problem(
              'Invalid fields (listed in `errors`: a `runAt` more than JOB_RUN_AT_HORIZON_DAYS ahead or before ' +
                '1970 among them) or an Idempotency-Key reused with another body.',
            ),
            ...ERRORS,
            '403': problem(
              'The key lacks the `submit` scope, or the scope the job’s kind needs (the catalog’s).',
            ),
          },
        },
        get: {
          operationId: 'listJobs',
          tags: ['jobs'],
          summary: 'List jobs',
          parameters: queryParameters(listJobsQuery),
          responses: {
            '200': json('A page of jobs, newest first.', ref('JobPage')),
            '400': problem(
              'A bad parameter: limit over 100, a cursor we did not issue (or issued for other filters), an instant or id prefix that is not one.',
            ),
            ...ERRORS,
          },
        },
      },
      '/v1/jobs/retry-failed': bulkOperation(
        'retryFailedJobs',
        'Retry every failed job matching a filter',
        'Queues again, with a fresh attempt budget, the failed jobs matching the filter (oldest first). ' +
          'Without a kind, the failed jobs of every catalog kind the key may start.',
        ', or the scope the kind needs to start (the catalog’s)',
      ),
      '/v1/jobs/cancel-queued': bulkOperation(
        'cancelQueuedJobs',
        'Cancel every queued job matching a filter',
        'Cancels the waiting jobs (queued, or retrying: waiting for their next attempt) matching the filter ' +
          '(oldest first); running jobs are not touched.',
        '',
      ),
      '/v1/jobs/{id}': {
        get: {
          operationId: 'getJob',
          tags: ['jobs'],
          summary: 'Get a job',
          parameters: [jobId],
          responses: { '200': json('The job.', ref('Job')), '404': problem('No such job.'), ...ERRORS },
        },
      },
      '/v1/jobs/{id}/cancel': {
        post: {
          operationId: 'cancelJob',
          tags: ['jobs'],
          summary: 'Cancel a job',
          parameters: [jobId],
          responses: {
            '200': json('Cancelled.', ref('Job')),
            '404': problem('No such job.'),
            '409': problem('The job already ended (its `state` is an extension member).'),
            ...ERRORS,
          },
        },
      },
      '/v1/jobs/{id}/retry': {
        post: {
          operationId: 'retryJob',
          tags: ['jobs'],
          summary: 'Retry a failed or cancelled job',
          parameters: [jobId],
          responses: {
            '200': json('Queued again.', ref('Job')),
            '404': problem('No such job.'),
            '409': problem('The job is neither failed nor cancelled (its `state` is an extension member).'),
            ...ERRORS,
          },
        },
      },
      '/v1/jobs/{id}/events': {
        get: {
          operationId: 'streamJobEvents',
          tags: ['jobs'],
          summary: 'Follow a job (server-sent events)',
          description:
            'A `retry:` line, then an initial `state` event with the job, then `progress` events ' +
            '({id, progress, at}) and `state` events (the job) until it ends; the stream closes after a ' +
            'terminal state. Every event has an `id:`; a reconnect with `Last-Event-ID` receives the events ' +
            'it missed (kept per job for a bounded window; older ones are replaced by the current state). ' +
            'Comments every 15 s keep it alive. Streams are capped per key and per process (429), and end ' +
            'within seconds of their key being revoked.',
          parameters: [
            jobId,
            {
              name: 'Last-Event-ID',
              in: 'header',
              required: false,
              schema: { type: 'string', maxLength: 100 },
              description: 'The id of the last event received, to resume after it.',
            },
          ],
          responses: {
            '200': {
              description: 'The event stream.',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            '404': problem('No such job.'),
            ...ERRORS,
            '429': problem(
              'The key is over its rate limit, or holds too many open streams, or the process does; or the client ' +
                'address presented too many unknown keys.',
              HEADERS.retryAfter,
            ),
          },
        },
      },
      ...importPaths(helpers),
      '/v1/queues': {
        get: {
          operationId: 'listQueues',
          tags: ['operations'],
          summary: 'Queue depth, lag and throughput per kind',
          responses: { '200': json('Per kind.', ref('QueueList')), ...ERRORS },
        },
      },
      '/v1/schedules': {
        get: {
          operationId: 'listSchedules',
          tags: ['operations'],
          summary: 'List cron schedules, by name',
          parameters: queryParameters(pageOnlyQuery),
          responses: {
            '200': json('A page of schedules in name order.', ref('ScheduleList')),
            '400': problem('A bad parameter: limit over 100, a cursor we did not issue.'),
            ...ERRORS,
          },
        },
      },
      '/v1/schedules/{name}': {
        get: {
          operationId: 'getSchedule',
          tags: ['operations'],
          summary: 'Get a schedule',
          parameters: [scheduleName],
          responses: {
            '200': json('The schedule.', ref('Schedule')),
            '400': problem('A name with other characters than letters, digits, dots, dashes, underscores.'),
            '404': problem('No such schedule.'),
            ...ERRORS,
          },
        },
        put: {
          operationId: 'putSchedule',
          tags: ['operations'],
          summary: 'Create or replace a schedule (admin)',
          parameters: [scheduleName],
          requestBody: jsonBody('PutSchedule'),
          responses: {
            '200': json('Replaced.', ref('Schedule')),
            '201': json('Created.', ref('Schedule'), HEADERS.location),
            ...BODY_ERRORS,
            '400': problem('Malformed JSON, or a bad name.'),
            '422': problem('Invalid fields.'),
            ...ERRORS,
          },
        },
        delete: {
          operationId: 'deleteSchedule',
          tags: ['operations'],
          summary: 'Delete a schedule (admin)',
          parameters: [scheduleName],
          responses: {
            '204': { description: 'Deleted.' },
            '400': problem('A bad name.'),
            '404': problem('No such schedule.'),
            ...ERRORS,
          },
        },
      },
      '/v1/schedules/{name}/pause': {
        post: {
          operationId: 'pauseSchedule',
          tags: ['operations'],
          summary: 'Pause a schedule: it fires no tick until resumed (admin)',
          parameters: [scheduleName],
          responses: {
            '200': json('Paused (or already paused).', ref('Schedule')),
            '400': problem('A bad name.'),
            '404': problem('No such schedule.'),
            ...ERRORS,
          },
        },
      },
      '/v1/schedules/{name}/resume': {
        post: {
          operationId: 'resumeSchedule',
          tags: ['operations'],
          summary: 'Resume a schedule, from its next tick: the ticks missed while paused never fire (admin)',
          parameters: [scheduleName],
          responses: {
            '200': json('Running (or already running).', ref('Schedule')),
            '400': problem('A bad name.'),
            '404': problem('No such schedule.'),
            ...ERRORS,
          },
        },
      },
      '/v1/workers': {
        get: {
          operationId: 'listWorkers',
          tags: ['operations'],
          summary: 'Live worker processes (admin)',
          parameters: queryParameters(pageOnlyQuery),
          responses: {
            '200': json('Workers heard from in the last minute, by id.', ref('WorkerList')),
            '400': problem('A bad parameter: limit over 100, a cursor we did not issue.'),
            ...ERRORS,
          },
        },
      },
      ...READ_PATHS,
      ...queueStreamPaths(helpers),
      ...metricSourcePaths({ ...helpers, queryParameters }),
      ...SYSTEM_PATHS,
    }),
  };
}
