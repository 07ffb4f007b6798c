// /v1/imports: CSV imports (DESIGN §3 import.csv, §4). POST streams the request body into
// upload storage, never holding it whole, then sends an import.csv job for it; GET shows an
// import (its job) with the counts and the first rejected rows.
//
//   POST  auth → entity → Content-Type (text/csv, or multipart/form-data with one file)
//         → Content-Length above the limit? 413 before reading a byte
//         → stream into the store (413 as soon as the limit is passed: the partial upload is
//           removed and the connection closed, so the client stops sending)
//         → send import.csv { uploadId, entity } → 202 with the job
//
// The API never parses rows (DESIGN §1): a bad file is the job's to report, by line.

import { type UploadStore, UploadTooLargeError } from '@offload/imports';
import { findJobKind, IMPORT_ENTITIES } from '@offload/jobs';
import type { Job, Queue } from '@offload/queue';
import { type Request, type RequestHandler, type Response, Router } from 'express';
import { z } from 'zod';
import { type GuardDeps, requireScope } from '../auth.ts';
import { HttpProblem, validationProblem } from '../problem.ts';
import { currentRequestContext } from '../request-context.ts';
import { defineRoute } from '../routing.ts';
import {
  MAX_MULTIPART_OVERHEAD_BYTES,
  MultipartError,
  multipartBoundary,
  multipartFile,
} from '../upload-multipart.ts';
import { parseQuery } from '../validation.ts';
import { principalOf, toJobView, visibleJob } from './jobs.ts';

export interface ImportsRouterDeps extends GuardDeps {
  queue: Queue;
  uploads: UploadStore;
  /** MAX_UPLOAD_BYTES: the largest CSV accepted. */
  maxUploadBytes: number;
}

/** MAX_UPLOAD_BYTES's default, as in @offload/config. */
export const DEFAULT_MAX_UPLOAD_BYTES = 1024 ** 3;

const KIND = 'import.csv';
const CSV_TYPES = new Set(['text/csv', 'application/csv']);

const importQuery = z.strictObject({
  entity: z.enum(IMPORT_ENTITIES, { error: `must be one of ${IMPORT_ENTITIES.join(', ')}` }),
});

export function importsRouter(deps: ImportsRouterDeps): Router {
  const router = Router();
  const submit = requireScope(deps, 'submit');
  const read = requireScope(deps, 'read');

  defineRoute(router, '/v1/imports', {
    post: [closeUnlessRead, submit, (req, res) => createImport(deps, req, res)],
  });

  defineRoute(router, '/v1/imports/:id', {
    get: [
      read,
      async (req, res) => {
        const id = String(req.params.id);
        const job = await visibleJob(deps.queue, principalOf(res), id);
        if (job.kind !== KIND) throw new HttpProblem(404, `No import ${JSON.stringify(id)}.`);
        res.json(toImportView(job));
      },
    ],
  });

  return router;
}

async function createImport(deps: ImportsRouterDeps, req: Request, res: Response): Promise<void> {
  const principal = principalOf(res);
  const { entity } = parseQuery(importQuery, req);
  const body = bodyOf(req);
  const declared = req.get('content-length');
  const allowance = deps.maxUploadBytes + (body.multipart === undefined ? 0 : MAX_MULTIPART_OVERHEAD_BYTES);
  if (declared !== undefined && Number(declared) > allowance) {
    throw tooLarge(deps.maxUploadBytes, `Content-Length ${declared} is above it`);
  }

  const writer = await deps.uploads.create(entity, {
    maxBytes: deps.maxUploadBytes,
    owner: principal.owner,
  });
  let uploadId: string;
  try {
    const source = body.multipart === undefined ? req : multipartFile(readOnly(req), body.multipart);
    uploadId = (await writer.write(source)).id;
  } catch (error) {
    // The writer has removed what it stored; the rest of the body is not read.
    if (error instanceof UploadTooLargeError) throw tooLarge(deps.maxUploadBytes, 'the body passed it');
    if (error instanceof MultipartError) {
      throw validationProblem(400, [{ header: 'Content-Type', detail: error.message }]);
    }
    if (req.destroyed || req.readableAborted) {
      throw new HttpProblem(400, 'The request was aborted while its body was read.', { cause: error });
    }
    throw error;
  }

  const kind = findJobKind(KIND)!;
  const meta: Record<string, string> = {};
  const requestId = currentRequestContext()?.requestId;
  if (requestId !== undefined) meta.requestId = requestId;
  let job: Job;
  try {
    ({ job } = await deps.queue.send(
      KIND,
      { uploadId, entity },
      {
        priority: kind.defaults.priority,
        maxAttempts: kind.defaults.maxAttempts,
        backoff: kind.defaults.backoff,
        leaseSeconds: kind.defaults.leaseSeconds,
        owner: principal.owner,
        meta,
      },
    ));
  } catch (error) {
    // No job will ever read it.
    await deps.uploads.delete(uploadId).catch(() => {});
    throw error;
  }
  res.removeHeader('Connection');
  res.setHeader('Location', `/v1/imports/${encodeURIComponent(job.id)}`);
  res.status(202).json(toImportView(job));
}

/**
 * Any answer given before the body has been read (401, 403, 400, 415, 413) closes the connection:
 * otherwise Node.js would read and discard the rest of a body that may be a gigabyte, to keep
 * the connection alive. createImport lifts it once the body is stored.
 */
const closeUnlessRead: RequestHandler = (_req, res, next) => {
  res.setHeader('Connection', 'close');
  next();
};

/** Which body the request carries: a CSV as it is, or the boundary of a multipart one. */
function bodyOf(req: Request): { multipart?: string } {
  const encoding = req.get('content-encoding')?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
    // The bytes are stored as they come and parsed by a worker later: a compressed body would
    // only fail there, row by row.
    throw new HttpProblem(415, 'An import is sent uncompressed: no Content-Encoding.', {
      headers: { 'Accept-Encoding': 'identity' },
    });
  }
  const type = req.get('content-type');
  const mediaType = type?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== undefined && CSV_TYPES.has(mediaType)) return {};
  if (mediaType === 'multipart/form-data') {
    try {
      return { multipart: multipartBoundary(type!) };
    } catch (error) {
      throw validationProblem(400, [{ header: 'Content-Type', detail: (error as Error).message }]);
    }
  }
  throw new HttpProblem(
    415,
    'An import is sent as text/csv (the file as the body) or multipart/form-data with one file.',
    { headers: { Accept: 'text/csv, multipart/form-data' } },
  );
}

/** Iterates the request without destroying it if the consumer stops early (see storage.ts). */
function readOnly(req: Request): AsyncIterable<Uint8Array> {
  return req.iterator({ destroyOnReturn: false });
}

/**
 * 413. `Connection: close` makes Node.js close the connection once the answer is sent, so a
 * client still sending learns at once, and the rest of the body is never read.
 */
function tooLarge(maxBytes: number, why: string): HttpProblem {
  return new HttpProblem(
    413,
    `The upload is larger than the limit of ${maxBytes} bytes (MAX_UPLOAD_BYTES): ${why}.`,
    {
      headers: { Connection: 'close' },
      extensions: { maxBytes },
    },
  );
}

/**
 * An import is its job (DESIGN §4's job view) plus what is known of the import so far: the
 * entity and the counts (from the progress while it runs, from the result once completed) and
 * the first rejected rows with their lines.
 */
export function toImportView(job: Job) {
  const payload = job.payload as { entity?: unknown } | null;
  const result = asObject(job.result);
  const progress = asObject(job.progress);
  const source = result ?? progress;
  const count = (name: string) => (typeof source?.[name] === 'number' ? (source[name] as number) : 0);
  return {
    ...toJobView(job),
    entity: typeof payload?.entity === 'string' ? payload.entity : null,
    counts: {
      bytes: count('bytes'),
      read: count(result === null ? 'rows' : 'read'),
      inserted: count('inserted'),
      updated: count('updated'),
      unchanged: count('unchanged'),
      rejected: count('rejected'),
    },
    errors: Array.isArray(result?.errors) ? result.errors : [],
  };
}

function asObject(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}
