// /v1/schedules — cron schedules that send a job of a kind on each tick, listed by name in pages. Reading needs `read`;
// creating, replacing and deleting one needs `admin`, as schedules belong to no owner. A
// schedule's payload is validated against its kind's schema when it is written, so a bad one is
// refused here rather than failing at every tick.

import type { CursorSigner } from '@offload/db';
import type { Json, Queue, Schedule } from '@offload/queue';
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
        res.json({ items: page.items.map(toScheduleView), nextCursor: page.nextCursor });
      },
    ],
  });

  defineRoute(router, '/v1/schedules/:name', {
    get: [
      read,
      async (req, res) => {
        const name = scheduleName(req);
        const schedule = (await queue.scheduleList()).find((candidate) => candidate.name === name);
        if (schedule === undefined) throw notFound(name);
        res.json(toScheduleView(schedule));
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
        res.json(toScheduleView(schedule));
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

function toScheduleView(schedule: Schedule) {
  return {
    name: schedule.name,
    cron: schedule.cron,
    timezone: schedule.timezone,
    kind: schedule.kind,
    payload: schedule.payload,
    options: schedule.options,
  };
}

function notFound(name: string): HttpProblem {
  return new HttpProblem(404, `No schedule ${JSON.stringify(name)}.`);
}
