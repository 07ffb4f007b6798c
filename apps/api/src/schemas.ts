// The HTTP contract as zod schemas: the same objects validate requests (routes/) and generate
// the OpenAPI document (openapi.ts), so the two cannot drift. Request schemas are strict: an
// unknown field or query parameter is refused, not ignored.
import { IMPORT_ENTITIES, JOB_KINDS } from '@offload/jobs';
import { JOB_STATES } from '@offload/queue';
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';

const instant = z.iso.datetime({ offset: true }).describe('ISO-8601 instant');

// ---- jobs ---------------------------------------------------------------------------------------

/** The submission envelope; `payload` is checked against the kind's schema afterwards. */
export const submitJobBody = z.strictObject({
  kind: z.string().min(1).max(200).describe('A kind from the job catalog.'),
  payload: z.unknown().describe("The kind's payload."),
  priority: z.int().min(-1000).max(1000).optional().describe('Higher runs first; default the kind’s.'),
  runAt: instant.optional().describe('Do not start before this instant; default now.'),
});
export type SubmitJobBody = z.output<typeof submitJobBody>;

/** What OpenAPI shows for a submission: one variant per kind, with that kind's payload schema. */
export const submitJobBodyByKind = z
  .discriminatedUnion(
    'kind',
    JOB_KINDS.map((kind) =>
      submitJobBody.extend({ kind: z.literal(kind.name).describe(kind.description), payload: kind.payload }),
    ) as unknown as [z.ZodObject, ...z.ZodObject[]],
  )
  .describe('A job submission');

export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * An integer query parameter: parsed from its digits, and shown in the OpenAPI document as the
 * integer it is (a query string carries text, but clients generated from the document should
 * send a number).
 */
export function queryInteger(min: number, max: number) {
  return z
    .string()
    .regex(/^\d+$/, 'must be an integer')
    .transform(Number)
    .pipe(z.int().min(min).max(max))
    .meta({ type: 'integer', minimum: min, maximum: max });
}

export const PAGE_LIMIT = { default: 50, max: 100 } as const;

/** `cursor` and `limit` as every list takes them (limit 1 to 100, default 50, never clamped). */
export const pageQuery = {
  cursor: z.string().max(2000).optional().describe('The previous page’s nextCursor.'),
  limit: queryInteger(1, PAGE_LIMIT.max)
    .optional()
    .describe('1 to 100, default 50; a larger limit is refused.'),
};

/** A list query that takes nothing but `cursor` and `limit`. */
export const pageOnlyQuery = z.strictObject(pageQuery);

export const listJobsQuery = z.strictObject({
  kind: z.string().min(1).max(200).optional(),
  state: z.enum(JOB_STATES).optional(),
  owner: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('Only this owner’s jobs (another owner’s: admin keys only).'),
  createdFrom: instant.optional().describe('Only jobs created at or after this instant.'),
  createdBefore: instant.optional().describe('Only jobs created before this instant.'),
  idPrefix: z
    .string()
    .max(36)
    .regex(/^[0-9a-fA-F-]+$/, 'must be hex digits (and hyphens)')
    .refine((value) => /^[0-9a-f]{1,32}$/i.test(value.replaceAll('-', '')), 'must hold 1 to 32 hex digits')
    .optional()
    .describe('Only jobs whose id starts with these hex digits (hyphens ignored): a search on ids.'),
  ...pageQuery,
});

const jobError = z.object({ message: z.string(), kind: z.string() }).nullable();

export const jobView = z
  .object({
    id: z.string(),
    kind: z.string(),
    state: z.enum(JOB_STATES),
    payload: z.unknown(),
    priority: z.int(),
    progress: z.record(z.string(), z.unknown()).nullable(),
    attempts: z.int(),
    maxAttempts: z.int(),
    result: z.unknown().describe('What a completed job returned; null before.'),
    error: jobError,
    createdAt: instant,
    runAt: instant,
    startedAt: instant.nullable(),
    finishedAt: instant.nullable(),
  })
  .describe('A job');
export type JobView = z.output<typeof jobView>;

export const jobPage = z.object({
  items: z.array(jobView),
  nextCursor: z.string().nullable().describe('null on the last page'),
});

/** The most jobs one bulk action moves (or counts) per call; it moves them in batches of 1,000. */
export const MAX_BULK_JOBS = 10_000;

/** A bulk action's filter (POST /v1/jobs/retry-failed, /v1/jobs/cancel-queued). */
export const bulkJobsBody = z
  .strictObject({
    kind: z.string().min(1).max(200).optional().describe('Only this kind’s jobs; default every kind.'),
    owner: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('Only this owner’s jobs (another owner’s: admin keys only; other keys act on their own).'),
    createdFrom: instant.optional().describe('Only jobs created at or after this instant.'),
    createdBefore: instant.optional().describe('Only jobs created before this instant.'),
    limit: z
      .int()
      .min(1)
      .max(MAX_BULK_JOBS)
      .optional()
      .describe(
        `At most this many jobs, 1 to ${MAX_BULK_JOBS.toLocaleString('en')} (the default); more is refused.`,
      ),
    dryRun: z.boolean().optional().describe('Count the matching jobs (up to `limit`) and move none.'),
  })
  .describe('Which jobs a bulk action takes: every filter given must match.');
export type BulkJobsBody = z.output<typeof bulkJobsBody>;

export const bulkJobsResult = z
  .object({
    count: z.int().min(0).describe('How many jobs were moved (or, with dryRun, match).'),
    more: z
      .boolean()
      .describe(
        'true when `count` reached the limit: more jobs may match (with dryRun: at least `count` match); call again for the rest.',
      ),
    dryRun: z.boolean(),
  })
  .describe('What a bulk action did');

const count = z.int().min(0);

/** An import is its job plus what is known of the import so far (routes/imports.ts). */
export const importView = jobView
  .extend({
    entity: z.enum(IMPORT_ENTITIES).nullable(),
    counts: z
      .object({
        bytes: count,
        read: count,
        inserted: count,
        updated: count,
        unchanged: count,
        rejected: count,
      })
      .describe('So far while the import runs (from its progress), final once completed.'),
    errors: z
      .array(z.object({ line: z.int(), reason: z.string() }))
      .describe('The first rejected rows (at most 100), by the line where each record starts.'),
  })
  .describe('An import: its import.csv job, counts and first rejected rows');

// ---- queues, workers, health --------------------------------------------------------------------

export const queueView = z.object({
  kind: z.string(),
  depth: z.int().describe('Jobs waiting: queued and retrying.'),
  queued: z.int(),
  retrying: z.int(),
  ready: z.int().describe('Jobs waiting (queued or retrying) whose runAt has passed: they could start now.'),
  scheduled: z
    .int()
    .describe('Jobs waiting (queued or retrying) whose runAt is ahead; ready + scheduled = depth.'),
  scheduledCapped: z
    .boolean()
    .describe(
      'Over 10,000 jobs of the kind wait for a later runAt and were counted no further: scheduled is a lower bound, ready an upper bound.',
    ),
  running: z.int(),
  completed: z.int(),
  failed: z.int(),
  cancelled: z.int(),
  oldestAgeSeconds: z.number().nullable().describe('Age of the oldest job ready to run.'),
  completedPerMinute: z
    .number()
    .nullable()
    .describe('Over the last few minutes, measured by this API process.'),
  failedPerMinute: z.number().nullable(),
});

export const queueList = z.object({ measuredAt: instant, items: z.array(queueView) });

export const workerView = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.int(),
  concurrency: z.int(),
  running: z.int(),
  kinds: z.array(z.string()),
  startedAt: instant,
  lastHeartbeatAt: instant,
});

export const workerList = z.object({
  items: z.array(workerView),
  nextCursor: z.string().nullable().describe('null on the last page'),
});

export const systemHealth = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  uptimeSeconds: z.number(),
  database: z.object({
    dialect: z.enum(['sqlite', 'postgres']),
    ok: z.boolean(),
    latencyMs: z.number().nullable(),
    error: z.string().optional(),
    pool: z.object({ inUse: z.int(), idle: z.int(), pending: z.int(), max: z.int().nullable() }),
  }),
  queues: z.array(
    z.object({ kind: z.string(), depth: z.int(), running: z.int(), lagSeconds: z.number().nullable() }),
  ),
  queueError: z.string().optional(),
});

/** /healthz and /health: the process runs. */
export const liveness = z.object({ status: z.literal('ok') });

/**
 * /readyz and /ready, on the API and on the worker alike (200 and 503 carry the same shape): which
 * check passed or failed, never why (a driver's message is for the log, not for an
 * unauthenticated caller).
 */
export const readiness = z.object({
  status: z.enum(['ready', 'stopping', 'unavailable']),
  checks: z.record(z.string(), z.object({ status: z.enum(['ok', 'failing']) })),
});

const latency = z.object({ p50: z.number(), p95: z.number(), p99: z.number() }).describe('Milliseconds.');

/** /stats: what this API process has seen lately. */
export const processStats = z.object({
  measuredAt: instant,
  uptimeSeconds: z.number(),
  windowSeconds: z.int().describe('The span the rates and percentiles cover.'),
  routes: z.array(
    z.object({
      method: z.string(),
      route: z.string(),
      requests: z.int(),
      perSecond: z.number(),
      errors: z.int().describe('Answers with a 5xx status.'),
      latencyMs: latency,
    }),
  ),
  cache: z.object({ hits: z.int(), misses: z.int(), hitRatio: z.number().nullable() }),
  queues: z.object({
    depth: z.int(),
    running: z.int(),
    failed: z.int(),
    oldestAgeSeconds: z.number().nullable(),
  }),
  memory: z.object({ rssBytes: z.int(), heapUsedBytes: z.int(), heapTotalBytes: z.int() }),
});

// ---- schedules ----------------------------------------------------------------------------------

export const SCHEDULE_NAME = /^[A-Za-z0-9._-]{1,100}$/;

export const scheduleOptions = z.strictObject({
  priority: z.int().min(-1000).max(1000).optional(),
  maxAttempts: z.int().min(1).max(100).optional(),
  leaseSeconds: z.int().min(1).max(86_400).optional(),
});

export const putScheduleBody = z.strictObject({
  cron: z
    .string()
    .trim()
    .regex(/^\S+( +\S+){4}$/, 'must be a five-field cron expression (minute hour day month weekday)')
    .refine(isCron, 'is not a valid cron expression')
    .describe('Five-field cron expression, e.g. `*/5 * * * *`.'),
  timezone: z
    .string()
    .refine(isTimeZone, 'must be an IANA time zone such as UTC or Europe/Paris')
    .optional()
    .describe('IANA time zone the cron is read in; default UTC.'),
  kind: z.string().min(1).max(200),
  payload: z.unknown(),
  options: scheduleOptions.optional(),
});

export const putScheduleBodyByKind = z
  .discriminatedUnion(
    'kind',
    JOB_KINDS.map((kind) =>
      putScheduleBody.extend({ kind: z.literal(kind.name), payload: kind.payload }),
    ) as unknown as [z.ZodObject, ...z.ZodObject[]],
  )
  .describe('A cron schedule');

export const scheduleView = z.object({
  name: z.string(),
  cron: z.string(),
  timezone: z.string(),
  kind: z.string(),
  payload: z.unknown(),
  options: scheduleOptions,
  paused: z.boolean().describe('A paused schedule fires no tick; resumed, it skips the ticks it missed.'),
  nextRunAt: instant.nullable().describe('The next tick (null while paused).'),
  lastRunAt: instant
    .nullable()
    .describe('The tick of the last job the schedule sent (its runAt), or null before its first.'),
  lastJobId: z.string().nullable().describe('The id of that job (it may since have been pruned).'),
});

export const scheduleList = z.object({
  items: z.array(scheduleView),
  nextCursor: z.string().nullable().describe('null on the last page'),
});

// ---- errors -------------------------------------------------------------------------------------

export const problemView = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    instance: z.string(),
    requestId: z.string().optional(),
    errors: z
      .array(
        z.object({
          detail: z.string(),
          pointer: z.string().optional().describe('JSON Pointer into the request body'),
          parameter: z.string().optional(),
          header: z.string().optional(),
        }),
      )
      .optional(),
  })
  // RFC 9457 §3.2: a problem type may add extension members (`state`, `rebuildKind`,
  // `maxBytes`, `checks`…), and clients must ignore the ones they do not know.
  .loose()
  .describe('RFC 9457 problem details; a problem type may add extension members.');

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

function isCron(value: string): boolean {
  try {
    CronExpressionParser.parse(value, { tz: 'UTC' });
    return true;
  } catch {
    return false;
  }
}
