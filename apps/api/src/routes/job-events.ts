// GET /v1/jobs/:id/events — a job's progress and state as server-sent events, so callers need
// not poll. The stream walks through:
//
//   admit       the key's and the process's stream caps (EventStreams): past them, 429;
//   attach      to the job's event log (job-event-log.ts), shared by every stream of the job in
//               this process and kept a while after the last one leaves;
//   start       `retry:` (how long a client waits before reconnecting), then either the events
//               after the request's Last-Event-ID, when the log still holds them all, or the job
//               as it is now as one `state` event; a job already ended closes the stream here;
//   following   each event the log records, `id:` first: `progress` ({id, progress, at}) or
//               `state` (the whole job); the stream ends after a terminal state;
//   heartbeat   a `: heartbeat` comment every `heartbeatMs` keeps proxies from timing it out;
//   end         the client going away, the job vanishing, or the key being revoked detaches it.
import type { Queue } from '@offload/queue';
import { type Request, type Response, Router } from 'express';
import { type GuardDeps, requireScope } from '../auth.ts';
import { type EventStreams, startEventStream } from '../event-streams.ts';
import type { JobEventLogs, LoggedEvent } from '../job-event-log.ts';
import { defineRoute } from '../routing.ts';
import { principalOf, visibleJob } from './jobs.ts';

export interface JobEventsRouterDeps extends GuardDeps {
  queue: Queue;
  logs: JobEventLogs;
  streams: EventStreams;
  heartbeatMs: number;
  /** The `retry:` the stream opens with, in ms. Default 2000. */
  retryMs?: number;
}

export function jobEventsRouter(deps: JobEventsRouterDeps): Router {
  const router = Router();
  defineRoute(router, '/v1/jobs/:id/events', {
    get: [requireScope(deps, 'read'), (req, res) => streamJobEvents(deps, req, res)],
  });
  return router;
}

async function streamJobEvents(deps: JobEventsRouterDeps, req: Request, res: Response): Promise<void> {
  const principal = principalOf(res);
  const job = await visibleJob(deps.queue, principal, String(req.params.id));

  let closed = false;
  let heartbeat: NodeJS.Timeout | undefined;
  let detach: (() => void) | undefined;
  // Events recorded while the stream starts wait here, then go out in order.
  let pending: LoggedEvent[] | null = [];
  let lastSeq = 0;
  const release = deps.streams.admit(principal.keyId, () => close());
  function close(): void {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    detach?.();
    release();
    if (!res.writableEnded) res.end();
  }
  res.on('close', close);

  try {
    const attached = await deps.logs.attach(job, (event) => {
      if (event === 'gone') close();
      else if (pending !== null) pending.push(event);
      else write(event);
    });
    detach = attached.detach;
    if (closed) {
      detach();
      return;
    }

    startEventStream(res, deps.retryMs ?? 2000);
    heartbeat = setInterval(() => {
      if (!closed) res.write(': heartbeat\n\n');
    }, deps.heartbeatMs);
    heartbeat.unref();

    const { log } = attached;
    const start = log.since(req.get('last-event-id')) ?? [log.current()];
    const queued = pending;
    pending = null;
    for (const event of [...start, ...queued]) write(event);
    // A client that had everything, the end included, has nothing more to wait for.
    if (log.current().terminal) close();
  } catch (error) {
    close();
    throw error;
  }

  function write(event: LoggedEvent): void {
    // A replay and the events queued meanwhile may overlap: each goes out once, in order.
    if (closed || event.seq <= lastSeq) return;
    lastSeq = event.seq;
    res.write(`id: ${event.id}\nevent: ${event.name}\ndata: ${JSON.stringify(event.data)}\n\n`);
    if (event.terminal) close();
  }
}
