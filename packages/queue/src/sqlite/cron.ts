// Cron schedules: validation, and which tick is due.
//
// A schedule fires at most one job per tick, across every process: the leader (leader.ts) looks
// every second or so, and for a schedule whose latest tick at or before now is later than the
// last one it fired, it moves last_tick_at to that tick (a guarded UPDATE that only one process
// can win) and inserts the job with the idempotency key `cron:<name>:<tick>` in the same
// transaction, so even two leaders that overlap during a hand-over cannot fire a tick twice.
//
// Ticks missed while no process ran maintenance are not replayed one by one: the latest one fires
// (scheduled jobs recompute state, so one late run does what a backlog would), then the schedule
// goes on from there. A new or re-timed schedule counts from the moment it was saved.
import { CronExpressionParser } from 'cron-parser';
import type { Schedule } from '../types.ts';

/** Throws a TypeError naming what is wrong with `schedule`. */
export function validateSchedule(schedule: Schedule): void {
  if (typeof schedule.name !== 'string' || schedule.name.length === 0 || schedule.name.length > 200) {
    throw new TypeError('schedule name must be a non-empty string of at most 200 characters');
  }
  if (typeof schedule.kind !== 'string' || schedule.kind.length === 0 || schedule.kind.length > 200) {
    throw new TypeError('schedule kind must be a non-empty string of at most 200 characters');
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
