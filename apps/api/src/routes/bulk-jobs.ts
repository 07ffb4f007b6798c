// Bulk operator actions: POST /v1/jobs/retry-failed and /v1/jobs/cancel-queued take every job
// matching a filter (kind, owner, created range), set-based through the queue's bounded
// primitives (Queue.retryMany/cancelMany, at most MAX_BULK_LIMIT jobs per statement, so each
// batch is one short transaction), and answer with a count. One call moves at most MAX_BULK_JOBS;
// `more: true` tells the caller to call again. `dryRun` counts instead (Queue.countMany, bounded
// the same way: never a count(*) over the table), which a console shows before its confirmation.
//
// Who may act on what is decided as for one job: a key acts on its own jobs, an admin names any
// owner (or none: everyone's); retrying a kind needs the scope that starts it (the catalog's
// startScope, as POST /v1/jobs/:id/retry), so without a kind a retry takes the kinds the key may
// start, one after another, and never a kind no key may start (the system sends those).
import { findJobKind, JOB_KINDS } from '@offload/jobs';
import { type BulkAction, type JobBulkParams, MAX_BULK_LIMIT, type Queue } from '@offload/queue';
import { Router } from 'express';
import { assertMayStart, type GuardDeps, hasScope, type Principal, requireScope } from '../auth.ts';
import { HttpProblem } from '../problem.ts';
import { defineRoute } from '../routing.ts';
import { type BulkJobsBody, bulkJobsBody, MAX_BULK_JOBS } from '../schemas.ts';
import { parseBody } from '../validation.ts';
import { principalOf } from './jobs.ts';

export interface BulkJobsRouterDeps extends GuardDeps {
  queue: Queue;
}

export interface BulkJobsResult {
  count: number;
  more: boolean;
  dryRun: boolean;
}

export function bulkJobsRouter(deps: BulkJobsRouterDeps): Router {
  const router = Router();
  const submit = requireScope(deps, 'submit');
  for (const [path, action] of [
    ['/v1/jobs/retry-failed', 'retry'],
    ['/v1/jobs/cancel-queued', 'cancel'],
  ] as const) {
    defineRoute(router, path, {
      post: [
        submit,
        async (req, res) => {
          const body = parseBody(bulkJobsBody, req);
          res.json(await runBulk(deps.queue, principalOf(res), action, body));
        },
      ],
    });
  }
  return router;
}

async function runBulk(
  queue: Queue,
  principal: Principal,
  action: BulkAction,
  body: BulkJobsBody,
): Promise<BulkJobsResult> {
  if (body.owner !== undefined && !principal.isAdmin && body.owner !== principal.owner) {
    throw new HttpProblem(403, 'Only an admin key acts on the jobs of another owner.');
  }
  const owner = principal.isAdmin ? body.owner : principal.owner;
  const limit = body.limit ?? MAX_BULK_JOBS;
  const dryRun = body.dryRun ?? false;
  const filters = kindsOf(principal, action, body.kind).map(
    (kind): Omit<JobBulkParams, 'limit'> => ({
      ...(kind === undefined ? {} : { kind }),
      // Cancel takes the waiting jobs (queued, and retrying ones waiting for their next attempt).
      states: action === 'retry' ? ['failed'] : ['queued', 'retrying'],
      ...(owner === undefined ? {} : { owner }),
      ...(body.createdFrom === undefined ? {} : { createdFrom: body.createdFrom }),
      ...(body.createdBefore === undefined ? {} : { createdBefore: body.createdBefore }),
    }),
  );
  let count = 0;
  for (const filter of filters) {
    if (count >= limit) break;
    if (dryRun) {
      count += await queue.countMany(action, { ...filter, limit: limit - count });
      continue;
    }
    // Batches until one comes back short: that filter has nothing more to move.
    for (;;) {
      const batch = Math.min(MAX_BULK_LIMIT, limit - count);
      const moved =
        action === 'retry'
          ? await queue.retryMany({ ...filter, limit: batch })
          : await queue.cancelMany({ ...filter, limit: batch });
      count += moved;
      if (moved < batch || count >= limit) break;
    }
  }
  return { count, more: count >= limit, dryRun };
}

/**
 * The kinds a bulk action takes one after another: the one named (undefined: any kind, for a
 * cancel), or for a retry without a kind each catalog kind the key may start.
 */
function kindsOf(
  principal: Principal,
  action: BulkAction,
  kind: string | undefined,
): Array<string | undefined> {
  if (action === 'cancel') return [kind];
  if (kind !== undefined) {
    const known = findJobKind(kind);
    if (known !== undefined) assertMayStart(principal, known);
    return [kind];
  }
  return JOB_KINDS.filter((k) => k.startScope !== null && hasScope(principal, k.startScope)).map(
    (k) => k.name,
  );
}
