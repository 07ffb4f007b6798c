// The cron schedules a deployment starts with (KPI every 15 minutes, the compliance report
// hourly), created by the first worker that starts, once. Each default a worker creates is
// recorded by name in schedule_defaults; a later start creates only the defaults not recorded,
// so an operator's edit or deletion through the schedules API survives restarts, and a default
// added to the list in a later release is created on the next start.
//
//   start-up → read the recorded names (one query) → for the defaults not recorded, list the
//   queue's schedules, create those no schedule of the same name exists for (an operator's
//   earlier schedule of that name wins) → record them all (one insert, ON CONFLICT DO NOTHING).
//
// Two workers starting together may both create the same default: the upsert writes the same
// definition twice, which is harmless. A crash between creating and recording creates it again
// on the next start.
import type { Db } from '@offload/db';
import type { JobKindName } from '@offload/jobs';
import type { Schedule } from '@offload/queue';

/** A default schedule; `kind` is checked against the catalog at compile time. */
export interface DefaultSchedule extends Schedule {
  kind: JobKindName;
}

/** The defaults, in the order they are created; append a kind's default here. */
export const DEFAULT_SCHEDULES: DefaultSchedule[] = [
  {
    name: 'rebuild.kpi',
    cron: '*/15 * * * *',
    timezone: 'UTC',
    kind: 'rebuild.kpi',
    payload: {},
    options: {},
  },
  {
    name: 'rebuild.compliance',
    cron: '0 * * * *',
    timezone: 'UTC',
    kind: 'rebuild.compliance',
    payload: {},
    options: {},
  },
  {
    name: 'analyze.health',
    cron: '0 2 * * *',
    timezone: 'UTC',
    kind: 'analyze.health',
    payload: {},
    options: {},
  },
];

/** What applying defaults needs from the queue (its backend or producer fits). */
export interface ScheduleStore {
  scheduleList(): Promise<Schedule[]>;
  scheduleUpsert(schedule: Schedule): Promise<void>;
}

export interface ApplyDefaultSchedulesOptions {
  db: Db;
  queue: ScheduleStore;
  /** Default DEFAULT_SCHEDULES. */
  schedules?: readonly Schedule[];
  now?: Date;
}

export interface AppliedDefaultSchedules {
  /** Defaults this call created in the queue. */
  created: string[];
  /** Defaults recorded for the first time but left alone, as a schedule of that name existed. */
  adopted: string[];
}

/** Creates the default schedules never created before (see the header). */
export async function applyDefaultSchedules(
  options: ApplyDefaultSchedulesOptions,
): Promise<AppliedDefaultSchedules> {
  const { db, queue, schedules = DEFAULT_SCHEDULES, now = new Date() } = options;
  const names = schedules.map((schedule) => schedule.name);
  if (names.length === 0) return { created: [], adopted: [] };
  const recorded = new Set(
    (await db.knex('schedule_defaults').whereIn('name', names).select('name')).map((row: { name: string }) =>
      String(row.name),
    ),
  );
  const missing = schedules.filter((schedule) => !recorded.has(schedule.name));
  if (missing.length === 0) return { created: [], adopted: [] };

  const existing = new Set((await queue.scheduleList()).map((schedule) => schedule.name));
  const created: string[] = [];
  const adopted: string[] = [];
  for (const schedule of missing) {
    if (existing.has(schedule.name)) {
      adopted.push(schedule.name);
      continue;
    }
    await queue.scheduleUpsert(schedule);
    created.push(schedule.name);
  }
  const appliedAt = now.toISOString();
  await db
    .knex('schedule_defaults')
    .insert(missing.map((schedule) => ({ name: schedule.name, applied_at: appliedAt })))
    .onConflict('name')
    .ignore();
  return { created, adopted };
}
