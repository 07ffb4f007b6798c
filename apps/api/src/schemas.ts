// The HTTP contract as zod schemas: the same objects validate requests (routes/) and generate
// the OpenAPI document (openapi.ts), so the two cannot drift. Request schemas are strict: an
// unknown field or query parameter is refused, not ignored.
import { JOB_KINDS } from '@offload/jobs';
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

/** `cursor` and `limit` as every list takes them (limit 1 to 100, default 50, never clamped). */
export const pageQuery = {
  cursor: z.string().max(2000).optional().describe('The previous page’s nextCursor.'),
  limit: z
    .string()
    .regex(/^\d+$/, 'must be an integer')
    .transform(Number)
    .pipe(z.int().min(1).max(100))
    .optional()
    .describe('1 to 100, default 50; a larger limit is refused.'),
};

export const listJobsQuery = z.strictObject({
  kind: z.string().min(1).max(200).optional(),
  state: z.enum(JOB_STATES).optional(),
  owner: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('Only this owner’s jobs (another owner’s: admin keys only).'),
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
    result: z.unknown().nullable(),
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

// ---- queues, workers, health --------------------------------------------------------------------

export const queueView = z.object({
  kind: z.string(),
  depth: z.int().describe('Jobs waiting: queued and retrying.'),
  queued: z.int(),
  retrying: z.int(),
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

export const workerList = z.object({ items: z.array(workerView) });

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
});

export const scheduleList = z.object({ items: z.array(scheduleView) });

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
  .describe('RFC 9457 problem details');

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
