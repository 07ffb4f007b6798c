// /v1/jobs: submit, look up, list, cancel and retry jobs. A key sees only its owner's jobs
// unless it is an admin; another owner's job answers 404, exactly as a job that does not
// exist, so ids cannot be probed.
//
// Idempotency: with an `Idempotency-Key` header the request claims the key for its owner with a
// fingerprint of its body (IdempotencyKeys); a key already claimed with another fingerprint —
// another payload or another kind — is refused with 422. A claim whose job was sent answers a
// replay with that job (200) before any check against the present state: an import.csv's upload
// is consumed once imported, so checking it again would refuse the very replay (such a kind looks
// the claim up before its check, and claims only after passing it, so a refused request does
// not spend the key). A claimed job since pruned is answered 409, never run a second time.
// Otherwise the job is sent with a key scoped to the owner, so the queue returns the job already
// sent with it instead of a new one, and its id is recorded in the claim. The fingerprint also
// travels in the job's meta, which keeps refusing a different body after the claim itself has
// expired while the job is still retained.
import { createHash } from 'node:crypto';
import { type CursorSigner, NotFoundError } from '@offload/db';
import type { UploadStore } from '@offload/imports';
import { findJobKind, type ImportCsvPayload, importCsvKind } from '@offload/jobs';
import type { Job, Json, JsonObject, Queue } from '@offload/queue';
import { type Request, type Response, Router } from 'express';
import { assertMayStart, type GuardDeps, type Principal, requireScope } from '../auth.ts';
import type { IdempotencyClaim, IdempotencyKeys } from '../idempotency.ts';
import { HttpProblem, PROBLEM_TYPES, validationProblem } from '../problem.ts';
import { currentRequestContext } from '../request-context.ts';
import { defineRoute } from '../routing.ts';
import { IDEMPOTENCY_KEY, type JobView, listJobsQuery, submitJobBody } from '../schemas.ts';
import { parseBody, parsePayload, parseQuery } from '../validation.ts';

export interface JobsRouterDeps extends GuardDeps {
  queue: Queue;
  /** Where uploads wait: an import.csv names one, which must be the caller's. */
  uploads: UploadStore;
  /** JOB_RUN_AT_HORIZON_DAYS: how far ahead runAt may lie. */
  runAtHorizonDays: number;
  cursorSigner: CursorSigner;
  idempotencyKeys: IdempotencyKeys;
}

/** JOB_RUN_AT_HORIZON_DAYS's default, as in @offload/config. */
export const DEFAULT_RUN_AT_HORIZON_DAYS = 365;
const DAY_MS = 86_400_000;

export function jobsRouter(deps: JobsRouterDeps): Router {
  const router = Router();
  const submit = requireScope(deps, 'submit');
  const read = requireScope(deps, 'read');

  defineRoute(router, '/v1/jobs', {
    post: [submit, (req, res) => submitJob(deps, req, res)],
    get: [read, (req, res) => listJobs(deps, req, res)],
  });

  defineRoute(router, '/v1/jobs/:id', {
    get: [
      read,
      async (req, res) => {
        const job = await visibleJob(deps.queue, principalOf(res), String(req.params.id));
        res.json(toJobView(job));
      },
    ],
  });

  defineRoute(router, '/v1/jobs/:id/cancel', {
    post: [
      submit,
      async (req, res) => {
        const job = await visibleJob(deps.queue, principalOf(res), String(req.params.id));
        // The outcome says what a refused cancel found: no second read to learn why.
        const outcome = await deps.queue.cancel(job.id);
        if (outcome.job === null) throw notFound(job.id);
        // Cancelled already (by us earlier, or by someone else meanwhile): harmless.
        if (!outcome.stored && outcome.found !== 'cancelled') {
          throw new HttpProblem(409, `Job ${job.id} is ${outcome.found} and can no longer be cancelled.`, {
            type: PROBLEM_TYPES.invalidState,
            extensions: { state: outcome.found },
          });
        }
        res.json(toJobView(outcome.job));
      },
    ],
  });

  defineRoute(router, '/v1/jobs/:id/retry', {
    post: [
      submit,
      async (req, res) => {
        const job = await visibleJob(deps.queue, principalOf(res), String(req.params.id));
        if (job.state !== 'failed' && job.state !== 'cancelled') throw notRetryable(job);
        const kind = findJobKind(job.kind);
        if (kind !== undefined) assertMayStart(principalOf(res), kind);
        const outcome = await deps.queue.retry(job.id);
        if (outcome.job === null) throw notFound(job.id);
        // Refused, the outcome carries the job as found: retried concurrently by someone else, or
        // moved on meanwhile, is still a success.
        if (!outcome.stored && (outcome.found === 'failed' || outcome.found === 'cancelled')) {
          throw notRetryable(outcome.job);
        }
        res.json(toJobView(outcome.job));
      },
    ],
  });

  return router;
}

async function submitJob(deps: JobsRouterDeps, req: Request, res: Response): Promise<void> {
  const principal = principalOf(res);
  const body = parseBody(submitJobBody, req);
  const payload = parsePayload(body.kind, body.payload);
  const kind = findJobKind(body.kind)!;
  assertMayStart(principal, kind);
  const idempotencyKey = req.get('idempotency-key');
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    throw validationProblem(400, [
      { header: 'Idempotency-Key', detail: 'must be 1 to 255 visible ASCII characters' },
    ]);
  }
  const runAt = body.runAt === undefined ? undefined : new Date(body.runAt).toISOString();
  // A job parked decades ahead is retained forever and skews every queue age: bounded.
  if (runAt !== undefined && Date.parse(runAt) > Date.now() + deps.runAtHorizonDays * DAY_MS) {
    throw validationProblem(422, [
      {
        pointer: '#/runAt',
        detail: `must be at most ${deps.runAtHorizonDays} days ahead (JOB_RUN_AT_HORIZON_DAYS)`,
      },
    ]);
  }
  // A past runAt only means "now", but PostgreSQL cannot store the year 0 (1 BC) that ISO-8601
  // can name: 500 there, stored on SQLite. Any instant before the epoch is refused alike.
  if (runAt !== undefined && Date.parse(runAt) < 0) {
    throw validationProblem(422, [{ pointer: '#/runAt', detail: 'must not be before 1970-01-01T00:00:00Z' }]);
  }
  const idempotency =
    idempotencyKey === undefined
      ? undefined
      : {
          key: idempotencyKey,
          fingerprint: fingerprintOf({
            kind: body.kind,
            payload,
            priority: body.priority ?? null,
            runAt: runAt ?? null,
          }),
        };

  // Checks against the present state, which a replay need not pass again.
  if (kind.name === importCsvKind.name) {
    if (idempotency !== undefined && (await replayed(deps, principal, idempotency, res))) return;
    try {
      await assertOwnUpload(deps.uploads, principal, payload as ImportCsvPayload);
    } catch (error) {
      // The request holding this key may have sent its job (which consumed the upload) since.
      if (idempotency !== undefined && (await replayed(deps, principal, idempotency, res))) return;
      throw error;
    }
  }

  if (idempotency !== undefined) {
    const claim = await deps.idempotencyKeys.claim(principal.owner, idempotency.key, idempotency.fingerprint);
    if (await answerFromClaim(deps, principal, idempotency, claim, res)) return;
  }

  const meta: JsonObject = {};
  const requestId = currentRequestContext()?.requestId;
  if (requestId !== undefined) meta.requestId = requestId;
  if (idempotency !== undefined) meta.requestFingerprint = idempotency.fingerprint;

  const { job, created } = await deps.queue.send(body.kind, payload as Json, {
    priority: body.priority ?? kind.defaults.priority,
    ...(runAt === undefined ? {} : { runAt }),
    maxAttempts: kind.defaults.maxAttempts,
    backoff: kind.defaults.backoff,
    leaseSeconds: kind.defaults.leaseSeconds,
    owner: principal.owner,
    meta,
    ...(idempotency === undefined
      ? {}
      : { idempotencyKey: ownerScopedKey(principal.owner, idempotency.key) }),
  });

  if (idempotency !== undefined) {
    // The queue answered with a job sent under an earlier, since expired claim with another body.
    if (!created && job.meta.requestFingerprint !== idempotency.fingerprint) {
      res.setHeader('Location', jobLocation(job.id));
      throw idempotencyMismatch(job.id);
    }
    await deps.idempotencyKeys.recordJob(principal.owner, idempotency.key, idempotency.fingerprint, job.id);
  }
  if (!created) {
    sendReplay(res, job);
    return;
  }
  res.setHeader('Location', jobLocation(job.id));
  res.status(202).json(toJobView(job));
}

interface IdempotencyRequest {
  key: string;
  fingerprint: string;
}

/** Answers a replay from the caller's live claim of the key, if it has one with a job; else false. */
async function replayed(
  deps: JobsRouterDeps,
  principal: Principal,
  idempotency: IdempotencyRequest,
  res: Response,
): Promise<boolean> {
  const claim = await deps.idempotencyKeys.find(principal.owner, idempotency.key);
  return claim !== null && answerFromClaim(deps, principal, idempotency, claim, res);
}

/**
 * Refuses a claim held with another body, and answers one whose job was sent with that job;
 * returns false when the request should go on to send its job.
 */
async function answerFromClaim(
  deps: JobsRouterDeps,
  principal: Principal,
  idempotency: IdempotencyRequest,
  claim: IdempotencyClaim,
  res: Response,
): Promise<boolean> {
  if (claim.fingerprint !== idempotency.fingerprint) throw idempotencyMismatch(claim.jobId ?? undefined);
  if (claim.jobId === null) return false;
  const job = await deps.queue.get(claim.jobId);
  // Claims are the owner's own (owner, key); the owner check only keeps that promise local.
  if (job === null || job.owner !== principal.owner) throw idempotentJobGone(claim.jobId);
  sendReplay(res, job);
  return true;
}

function sendReplay(res: Response, job: Job): void {
  res.setHeader('Location', jobLocation(job.id));
  res.setHeader('Idempotent-Replayed', 'true');
  res.status(200).json(toJobView(job));
}

function jobLocation(id: string): string {
  return `/v1/jobs/${encodeURIComponent(id)}`;
}

async function listJobs(deps: JobsRouterDeps, req: Request, res: Response): Promise<void> {
  const principal = principalOf(res);
  const query = parseQuery(listJobsQuery, req);
  if (query.owner !== undefined && !principal.isAdmin && query.owner !== principal.owner) {
    throw new HttpProblem(403, 'Only an admin key lists the jobs of another owner.');
  }
  const owner = principal.isAdmin ? query.owner : principal.owner;
  // The cursor is valid only for the list it came from: same filters, same owner.
  const scope = JSON.stringify([
    'jobs',
    owner ?? null,
    query.kind ?? null,
    query.state ?? null,
    query.createdFrom ?? null,
    query.createdBefore ?? null,
    query.idPrefix ?? null,
  ]);
  const page = await deps.queue.list({
    ...(query.kind === undefined ? {} : { kind: query.kind }),
    ...(query.state === undefined ? {} : { state: query.state }),
    ...(owner === undefined ? {} : { owner }),
    ...(query.createdFrom === undefined ? {} : { createdFrom: query.createdFrom }),
    ...(query.createdBefore === undefined ? {} : { createdBefore: query.createdBefore }),
    ...(query.idPrefix === undefined ? {} : { idPrefix: query.idPrefix }),
    cursor:
      query.cursor === undefined || query.cursor === ''
        ? null
        : deps.cursorSigner.openText(query.cursor, scope),
    limit: query.limit ?? 50,
  });
  res.json({
    items: page.items.map(toJobView),
    nextCursor: page.nextCursor === null ? null : deps.cursorSigner.seal(page.nextCursor, scope),
  });
}

/** An upload is imported only by the owner who uploaded it; another's reads as no upload at all. */
async function assertOwnUpload(uploads: UploadStore, principal: Principal, payload: ImportCsvPayload) {
  const upload = await uploads.stat(payload.uploadId).catch((error: unknown) => {
    if (error instanceof NotFoundError) return null;
    throw error;
  });
  if (upload === null || upload.completedAt === null || upload.owner !== principal.owner) {
    throw validationProblem(422, [{ pointer: '#/payload/uploadId', detail: 'names no upload of yours' }]);
  }
}

/** The job if it exists and the caller may see it; 404 otherwise. */
export async function visibleJob(queue: Queue, principal: Principal, id: string): Promise<Job> {
  const job = await queue.get(id);
  if (job === null || !canSee(principal, job)) throw notFound(id);
  return job;
}

export function canSee(principal: Principal, job: Pick<Job, 'owner'>): boolean {
  return principal.isAdmin || job.owner === principal.owner;
}

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (principal === undefined) throw new Error('route is missing its requireScope guard');
  return principal;
}

/** The job as the API shows it (DESIGN §4): owner, meta and the error's stack stay inside. */
export function toJobView(job: Job): JobView {
  return {
    id: job.id,
    kind: job.kind,
    state: job.state,
    payload: job.payload,
    priority: job.priority,
    progress: job.progress,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    result: job.result,
    error: job.error === null ? null : { message: job.error.message, kind: job.error.kind },
    createdAt: job.createdAt,
    runAt: job.runAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
  };
}

function notFound(id: string): HttpProblem {
  return new HttpProblem(404, `No job ${JSON.stringify(id)}.`);
}

function notRetryable(job: Job): HttpProblem {
  return new HttpProblem(
    409,
    `Job ${job.id} is ${job.state}; only failed or cancelled jobs can be retried.`,
    {
      type: PROBLEM_TYPES.invalidState,
      extensions: { state: job.state },
    },
  );
}

function idempotencyMismatch(jobId?: string): HttpProblem {
  return new HttpProblem(
    422,
    'This Idempotency-Key was already used with a different request body; use a new key for a new job.',
    { type: PROBLEM_TYPES.idempotencyMismatch, ...(jobId === undefined ? {} : { extensions: { jobId } }) },
  );
}

function idempotentJobGone(jobId: string): HttpProblem {
  return new HttpProblem(
    409,
    `The job this Idempotency-Key created (${jobId}) is no longer retained, so it is not run again; use a new key to submit it anew.`,
    { type: PROBLEM_TYPES.idempotentJobGone, extensions: { jobId } },
  );
}

/** Two owners may use the same Idempotency-Key without meeting; `:` cannot occur in an encoded owner. */
function ownerScopedKey(owner: string, key: string): string {
  return `api:${encodeURIComponent(owner)}:${key}`;
}

function fingerprintOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('base64url');
}

/** JSON with object keys sorted, so that `{a,b}` and `{b,a}` fingerprint alike. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
