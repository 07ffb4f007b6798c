// GET /v1/jobs/:id/events — a job's progress and state as server-sent events, so callers need
// not poll. The stream walks through:
//
//   subscribe   to the queue's job events first, so nothing that happens after the initial read
//               is missed (events arriving meanwhile wait in order behind it);
//   initial     `event: state` with the whole job; a job already ended closes the stream here;
//   following   `event: progress` ({id, progress, at}) when only progress changed, `event: state`
//               with the whole job (re-read, so a final one carries result or error) when the
//               state changed; the stream ends after a terminal state;
//   heartbeat   a `: heartbeat` comment every `heartbeatMs` keeps proxies from timing the stream
//               out, and re-reads the job, so a lost notification delays the end by one
//               heartbeat at worst instead of leaving the stream open forever;
//   disconnect  the client going away unsubscribes and stops the timer.
import { type Job, type JobEvent, type Queue, TERMINAL_STATES, type Unsubscribe } from '@offload/queue';
import { type Request, type Response, Router } from 'express';
import { type GuardDeps, requireScope } from '../auth.ts';
import { defineRoute } from '../routing.ts';
import { principalOf, toJobView, visibleJob } from './jobs.ts';

export interface JobEventsRouterDeps extends GuardDeps {
  queue: Queue;
  heartbeatMs: number;
}

export function jobEventsRouter(deps: JobEventsRouterDeps): Router {
  const router = Router();
  defineRoute(router, '/v1/jobs/:id/events', {
    get: [requireScope(deps, 'read'), (req, res) => streamJobEvents(deps, req, res)],
  });
  return router;
}

async function streamJobEvents(deps: JobEventsRouterDeps, req: Request, res: Response): Promise<void> {
  const { queue } = deps;
  const job = await visibleJob(queue, principalOf(res), String(req.params.id));

  let closed = false;
  let sentInitial = false;
  let last: { state: Job['state']; progress: string } = { state: job.state, progress: '' };
  // Work is chained so that events are written in the order they arrived, after the initial one.
  let chain: Promise<void> = Promise.resolve();
  const enqueue = (step: () => Promise<void> | void): void => {
    chain = chain.then(step).catch((error: unknown) => {
      res.locals.logger?.warn({ err: error }, 'job event stream failed');
      close();
    });
  };

  let unsubscribe: Unsubscribe | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  function close(): void {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    void unsubscribe?.().catch(() => undefined);
    if (!res.writableEnded) res.end();
  }
  // Registered before subscribing: a client gone while the subscription opens is noticed.
  res.on('close', close);

  const subscription = await queue.subscribe((event: JobEvent) => enqueue(() => onEvent(event)), {
    jobId: job.id,
  });
  if (closed) {
    await subscription();
    return;
  }
  unsubscribe = subscription;
  heartbeat = setInterval(() => {
    if (closed) return;
    res.write(': heartbeat\n\n');
    enqueue(refresh);
  }, deps.heartbeatMs);
  heartbeat.unref();

  res.locals.streaming = true;
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store, no-transform');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();

  // The first state is read after subscribing: a change between the two is then both in this
  // read and in an event, and the event is dropped as a repeat.
  enqueue(async () => {
    const fresh = (await queue.get(job.id)) ?? job;
    writeState(fresh);
  });

  async function onEvent(event: JobEvent): Promise<void> {
    if (closed) return;
    if (!sentInitial || event.state !== last.state) {
      writeState((await queue.get(job.id)) ?? job);
      return;
    }
    const progress = JSON.stringify(event.progress);
    if (progress === last.progress) return;
    last = { state: event.state, progress };
    write('progress', { id: event.id, progress: event.progress, at: event.at });
  }

  async function refresh(): Promise<void> {
    if (closed) return;
    const fresh = await queue.get(job.id);
    if (fresh === null) {
      close();
      return;
    }
    if (fresh.state !== last.state) writeState(fresh);
    else if (JSON.stringify(fresh.progress) !== last.progress) {
      last = { state: fresh.state, progress: JSON.stringify(fresh.progress) };
      write('progress', { id: fresh.id, progress: fresh.progress, at: new Date().toISOString() });
    }
  }

  function writeState(current: Job): void {
    if (closed) return;
    if (sentInitial && current.state === last.state && JSON.stringify(current.progress) === last.progress)
      return;
    sentInitial = true;
    last = { state: current.state, progress: JSON.stringify(current.progress) };
    write('state', toJobView(current));
    if (TERMINAL_STATES.has(current.state)) close();
  }

  function write(event: 'state' | 'progress', data: unknown): void {
    if (closed) return;
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}
