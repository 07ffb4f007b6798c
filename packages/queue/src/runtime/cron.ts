// Cron schedules, once for both drivers: validation, which tick is due, and the job a tick sends.
//
// The missed-tick policy (one, on both backends): when maintenance looks (the SQLite leader every
// second, the PostgreSQL cron task every two), each schedule whose latest tick at or before now is
// later than the last tick it fired fires that latest tick, once, however old it is; the ticks
// before it that were missed while no process ran maintenance are not replayed one by one
// (scheduled jobs recompute state, so one late run does what a backlog would). A new or re-timed
// schedule counts from the moment it was saved: it fires its first tick after that.
//
// Exactly once: a driver advances the schedule's last tick with a guarded update that only one
// process wins, and the tick's job carries the idempotency key `cron:<name>:<tick>`, so two
// maintenance passes that overlap (a leader hand-over, two PostgreSQL processes) fire it once.
import { CronExpressionParser } from 'cron-parser';
import type { JobInsertParams, Schedule } from '../types.ts';
import { isKindName } from './insert.ts';

/** Throws a TypeError naming what is wrong with `schedule`. */
export function validateSchedule(schedule: Schedule): void {
  if (typeof schedule.name !== 'string' || schedule.name.length === 0 || schedule.name.length > 200) {
    throw new TypeError('schedule name must be a non-empty string of at most 200 characters');
  }
  if (!isKindName(schedule.kind)) {
    throw new TypeError(
      `schedule kind must be 1 to 200 letters, digits, '_', '.', '-' or '/' (got ${JSON.stringify(schedule.kind)})`,
    );
  }
  const timezone = schedule.timezone || 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new TypeError(`unknown time zone ${JSON.stringify(schedule.timezone)}`);
  }
  if (typeof schedule.cron !== 'string' || schedule.cron.trim().split(/\s+/).length !== 5) {
    throw new TypeError(`cron must be a five-field expression (got ${JSON.stringify(schedule.cron)})`);
  }
  try {
    CronExpressionParser.parse(schedule.cron, { tz: timezone, currentDate: new Date() }).next();
  } catch (error) {
    throw new TypeError(
      `invalid cron expression ${JSON.stringify(schedule.cron)}: ${(error as Error).message}`,
    );
  }
}

/** The latest tick of `cron` at or before `now`, as an ISO instant (null if it never ticked). */
export function latestTick(cron: string, timezone: string, now: Date): string | null {
  // prev() is strictly before its current date; one millisecond later includes `now` itself.
  const expression = CronExpressionParser.parse(cron, {
    tz: timezone || 'UTC',
    currentDate: new Date(now.getTime() + 1),
  });
  if (!expression.hasPrev()) return null;
  return expression.prev().toDate().toISOString();
}

/** The first tick of `cron` after `now`, as an ISO instant (what a schedule view shows as its next run). */
export function nextTick(cron: string, timezone: string, now: Date): string {
  return CronExpressionParser.parse(cron, { tz: timezone || 'UTC', currentDate: now })
    .next()
    .toDate()
    .toISOString();
}

/** The tick to fire now (the missed-tick policy above), or null: the latest, if after the last fired. */
export function dueTick(
  schedule: Pick<Schedule, 'cron' | 'timezone'>,
  lastTickAt: string | null,
  now: Date,
): string | null {
  const tick = latestTick(schedule.cron, schedule.timezone, now);
  if (tick === null || (lastTickAt !== null && Date.parse(tick) <= Date.parse(lastTickAt))) return null;
  return tick;
}

/** The job a tick sends: due at the tick, once per (schedule, tick) through its idempotency key. */
export function tickInsert(schedule: Schedule, tick: string): JobInsertParams {
  const { priority, maxAttempts, leaseSeconds } = schedule.options ?? {};
  return {
    kind: schedule.kind,
    payload: schedule.payload ?? null,
    ...(priority !== undefined ? { priority } : {}),
    ...(maxAttempts !== undefined ? { maxAttempts } : {}),
    ...(leaseSeconds !== undefined ? { leaseSeconds } : {}),
    runAt: tick,
    idempotencyKey: `cron:${schedule.name}:${tick}`,
    meta: { schedule: schedule.name, tick },
  };
}
