// /v1/schedules — cron schedules that send a job of a kind on each tick, listed by name in pages. Reading needs `read`;
// creating, replacing, pausing, resuming and deleting one needs `admin`, as schedules belong to no owner. A
// schedule's payload is validated against its kind's schema when it is written, so a bad one is
// refused here rather than failing at every tick. A view adds what the schedule has done and will
// do (paused, next run, last run and its job), read for every schedule in one query
// (Queue.scheduleStates), never one per schedule.
import type { CursorSigner } from '@offload/db';
import { type Json, nextTick, type Queue, type Schedule, type ScheduleState } from '@offload/queue';
import { type Request, Router } from 'express';
import { type GuardDeps, requireScope } from '../auth.ts';
import { pageInMemory } from '../list-page.ts';
import { HttpProblem, validationProblem } from '../problem.ts';
import { defineRoute } from '../routing.ts';
import { pageOnlyQuery, putScheduleBody, SCHEDULE_NAME } from '../schemas.ts';
import { parseBody, parsePayload, parseQuery } from '../validation.ts';

export interface SchedulesRouterDeps extends GuardDeps {
  queue: Queue;
  cursorSigner: CursorSigner;
}

export function schedulesRouter(deps: SchedulesRouterDeps): Router {
  const router = Router();
  const { queue } = deps;
  const read = requireScope(deps, 'read');
  const admin = requireScope(deps, 'admin');

  defineRoute(router, '/v1/schedules', {
    get: [
      read,
      async (req, res) => {
        const query = parseQuery(pageOnlyQuery, req);
        const page = pageInMemory(await queue.scheduleList(), (schedule) => schedule.name, query, {
          cursorSigner: deps.cursorSigner,
          scope: 'schedules',
        });
        const views = await scheduleViews(queue);
        res.json({ items: page.items.map(views), nextCursor: page.nextCursor });
      },
    ],
  });

  defineRoute(router, '/v1/schedules/:name', {
    get: [
      read,
      async (req, res) => {
        const name = scheduleName(req);
        res.json(await scheduleView(queue, name));
      },
    ],
    put: [
      admin,
      async (req, res) => {
        const name = scheduleName(req);
        const body = parseBody(putScheduleBody, req);
        const payload = parsePayload(body.kind, body.payload) as Json;
        const existed = (await queue.scheduleList()).some((candidate) => candidate.name === name);
        const schedule: Schedule = {
          name,
          cron: body.cron.replace(/ +/g, ' '),
          timezone: body.timezone ?? 'UTC',
          kind: body.kind,
          payload,
          options: body.options ?? {},
        };
        await queue.scheduleUpsert(schedule);
        res.status(existed ? 200 : 201);
        if (!existed) res.setHeader('Location', `/v1/schedules/${encodeURIComponent(name)}`);
        res.json((await scheduleViews(queue))(schedule));
      },
    ],
    delete: [
      admin,
      async (req, res) => {
        const name = scheduleName(req);
        if (!(await queue.scheduleDelete(name))) throw notFound(name);
        res.status(204).end();
      },
    ],
  });

  // Pausing and resuming are actions (POST, like a job's cancel and retry) that answer the view.
  for (const [action, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    defineRoute(router, `/v1/schedules/:name/${action}`, {
      post: [
        admin,
        async (req, res) => {
          const name = scheduleName(req);
          if (!(await queue.schedulePause(name, paused))) throw notFound(name);
          res.json(await scheduleView(queue, name));
        },
      ],
    });
  }

  return router;
}

function scheduleName(req: Request): string {
  const name = String(req.params.name);
  if (!SCHEDULE_NAME.test(name)) {
    throw validationProblem(400, [
      { parameter: 'name', detail: 'must be 1 to 100 letters, digits, dots, dashes or underscores' },
    ]);
  }
  return name;
}

/** Renders schedules with every schedule's state, read once (two queries however many schedules). */
async function scheduleViews(
  queue: Queue,
): Promise<(schedule: Schedule) => ReturnType<typeof toScheduleView>> {
  const states = new Map((await queue.scheduleStates()).map((state) => [state.name, state]));
  const now = new Date();
  return (schedule) => toScheduleView(schedule, states.get(schedule.name), now);
}

async function scheduleView(queue: Queue, name: string) {
  const schedule = (await queue.scheduleList()).find((candidate) => candidate.name === name);
  if (schedule === undefined) throw notFound(name);
  return (await scheduleViews(queue))(schedule);
}

function toScheduleView(schedule: Schedule, state: ScheduleState | undefined, now: Date) {
  const paused = state?.paused ?? false;
  return {
    name: schedule.name,
    cron: schedule.cron,
    timezone: schedule.timezone,
    kind: schedule.kind,
    payload: schedule.payload,
    options: schedule.options,
    paused,
    nextRunAt: paused ? null : nextTick(schedule.cron, schedule.timezone, now),
    lastRunAt: state?.lastRunAt ?? null,
    lastJobId: state?.lastJobId ?? null,
  };
}

function notFound(name: string): HttpProblem {
  return new HttpProblem(404, `No schedule ${JSON.stringify(name)}.`);
}
