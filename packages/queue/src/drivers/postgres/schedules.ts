// Cron schedules. They are stored in pg-boss's schedule table through its API (which validates the
// expression and time zone, and shows them in pg-boss's tooling), keyed (queue = our kind, key =
// our schedule name). They are fired by our cron task (maintenance.ts, backend.ts scheduleFireDue)
// with the runtime's one policy (runtime/cron.ts), not by pg-boss's timekeeper. (pg-boss's timekeeper forwards occurrences through its own send, which carries no per-tick key
// and bypasses our envelope; do not run it against this schema.)
import { validateSchedule } from '../../runtime/cron.ts';
import type { Json, Schedule } from '../../types.ts';

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
  validateSchedule(schedule);
  const timezone = schedule.timezone || 'UTC';
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

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
