// Cron schedules. They are stored in pg-boss's schedule table through its API (which validates the
// expression and time zone, and shows them in pg-boss's tooling), keyed (queue = our kind, key =
// our schedule name). They are fired by our cron task (maintenance.ts), not pg-boss's timekeeper:
// a pass evaluates every schedule for the occurrences since the previous pass and inserts one job
// per occurrence through our own insert path, with the idempotency key `cron:<name>:<tick>`, so a
// tick fires exactly once whichever processes evaluate it, and a retried pass cannot fire it twice.
// (pg-boss's timekeeper forwards occurrences through its own send, which carries no per-tick key
// and bypasses our envelope; do not run it against this schema.)
import { CronExpressionParser } from 'cron-parser';
import { isKindName } from '../runtime/insert.ts';
import type { JobInsertParams, Json, Schedule } from '../types.ts';

/** The subset of pg-boss's schedule row we read. */
export interface BossScheduleRow {
  name: string;
  key: string;
  cron: string;
  timezone: string | null;
  data?: unknown;
  options?: unknown;
}

export interface BossSchedule {
  queue: string;
  key: string;
  cron: string;
  data: object;
  options: { tz: string; key: string; offload: { options: Schedule['options'] } };
}

/** pg-boss accepts [\w.\-/] in keys; other names are stored base64url-encoded behind this prefix. */
const ENCODED = 'b64.';
const PLAIN_KEY = /^[\w.\-/]+$/;

export function scheduleKey(name: string): string {
  return PLAIN_KEY.test(name) && !name.startsWith(ENCODED)
    ? name
    : ENCODED + Buffer.from(name, 'utf8').toString('base64url');
}

export function scheduleName(key: string): string {
  return key.startsWith(ENCODED) ? Buffer.from(key.slice(ENCODED.length), 'base64url').toString('utf8') : key;
}

export function toBossSchedule(schedule: Schedule): BossSchedule {
  if (typeof schedule.name !== 'string' || schedule.name.length === 0)
    throw new TypeError('schedule name is required');
  if (!isKindName(schedule.kind)) throw new TypeError(`invalid kind ${JSON.stringify(schedule.kind)}`);
  if (typeof schedule.cron !== 'string' || schedule.cron.trim().split(/\s+/).length !== 5) {
    throw new TypeError(`cron must be a five-field expression (got ${JSON.stringify(schedule.cron)})`);
  }
  const timezone = schedule.timezone || 'UTC';
  // Evaluate once now, so a bad expression or zone fails here rather than in every cron pass.
  CronExpressionParser.parse(schedule.cron, { tz: timezone, currentDate: new Date() }).next();
  const key = scheduleKey(schedule.name);
  return {
    queue: schedule.kind,
    key,
    cron: schedule.cron,
    data: { payload: schedule.payload ?? null },
    options: { tz: timezone, key, offload: { options: schedule.options ?? {} } },
  };
}

export function fromBossSchedule(row: BossScheduleRow): Schedule {
  const data = (isObject(row.data) ? row.data : {}) as Record<string, unknown>;
  const options = (isObject(row.options) ? row.options : {}) as Record<string, unknown>;
  const ours = (isObject(options['offload']) ? options['offload'] : {}) as { options?: Schedule['options'] };
  return {
    name: scheduleName(row.key),
    cron: row.cron,
    timezone: row.timezone ?? 'UTC',
    kind: row.name,
    payload: ('payload' in data ? data['payload'] : null) as Json,
    options: ours.options ?? {},
  };
}

/** At most this many occurrences of one schedule per pass (a pass after long downtime skips the rest). */
const MAX_TICKS_PER_PASS = 60;

/** The occurrences of `schedule` in (after, upTo]. */
export function dueTicks(schedule: Schedule, after: Date, upTo: Date): Date[] {
  const interval = CronExpressionParser.parse(schedule.cron, {
    tz: schedule.timezone || 'UTC',
    currentDate: after,
  });
  const ticks: Date[] = [];
  for (;;) {
    const tick = interval.next().toDate();
    if (tick.getTime() > upTo.getTime()) break;
    ticks.push(tick);
  }
  return ticks.slice(-MAX_TICKS_PER_PASS);
}

/** The job a tick sends: exactly once per (schedule, tick) through its idempotency key. */
export function tickJob(schedule: Schedule, tick: Date): JobInsertParams {
  const { priority, maxAttempts, leaseSeconds } = schedule.options ?? {};
  return {
    kind: schedule.kind,
    payload: schedule.payload ?? null,
    ...(priority !== undefined ? { priority } : {}),
    ...(maxAttempts !== undefined ? { maxAttempts } : {}),
    ...(leaseSeconds !== undefined ? { leaseSeconds } : {}),
    idempotencyKey: `cron:${schedule.name}:${tick.toISOString()}`,
    meta: { schedule: schedule.name, tick: tick.toISOString() },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
