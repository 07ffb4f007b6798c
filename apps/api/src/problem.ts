// Every error the API answers is an RFC 9457 problem document (`application/problem+json`):
// `type`, `title`, `status`, `detail`, `instance`, plus `requestId` and, for validation
// failures, `errors` naming each failing field. Handlers throw an `HttpProblem` (or let a
// database or pagination error through); `problemErrorHandler` turns whatever arrives into one.
import { ConflictError, NotFoundError, TransientError, toDbError } from '@offload/db';
import type { Logger } from '@offload/observability';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * One failing input. `pointer` is a JSON Pointer into the request body (`#/payload/sleepMs`);
 * `parameter` a query or path parameter; `header` a request header.
 */
export interface FieldError {
  detail: string;
  pointer?: string;
  parameter?: string;
  header?: string;
}

export interface ProblemOptions {
  /** A URI naming the problem class; `about:blank` (the status says it all) by default. */
  type?: string;
  title?: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
  /** Extension members, added to the document as they are. */
  extensions?: Record<string, unknown>;
  cause?: unknown;
}

/** Problem types with a meaning beyond their status code. */
export const PROBLEM_TYPES = {
  validation: 'urn:offload:problem:validation',
  malformedJson: 'urn:offload:problem:malformed-json',
  idempotencyMismatch: 'urn:offload:problem:idempotency-key-reused',
  idempotentJobGone: 'urn:offload:problem:idempotent-job-gone',
  rateLimited: 'urn:offload:problem:rate-limited',
  databaseUnavailable: 'urn:offload:problem:database-unavailable',
  invalidState: 'urn:offload:problem:invalid-state',
} as const;

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export class HttpProblem extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string>;
  readonly extensions: Record<string, unknown>;

  constructor(status: number, detail: string, options: ProblemOptions = {}) {
    super(detail, { cause: options.cause });
    this.name = 'HttpProblem';
    this.status = status;
    this.type = options.type ?? 'about:blank';
    this.title = options.title ?? TITLES[status] ?? 'Error';
    this.errors = options.errors;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }
}

/** A request whose fields failed validation: 400 for parameters and headers, 422 for a body. */
export function validationProblem(status: 400 | 422, errors: FieldError[]): HttpProblem {
  const first = errors[0];
  const where = first?.pointer ?? first?.parameter ?? first?.header;
  const detail =
    errors.length === 1 && first !== undefined
      ? `${where === undefined ? '' : `${where}: `}${first.detail}`
      : `${errors.length} fields are invalid`;
  return new HttpProblem(status, detail, {
    type: PROBLEM_TYPES.validation,
    title: 'Invalid request',
    errors,
  });
}

/** A JSON Pointer (RFC 6901) into the request body. */
export function bodyPointer(path: ReadonlyArray<string | number>): string {
  return `#/${path.map((segment) => String(segment).replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;
}

export function sendProblem(req: Request, res: Response, problem: HttpProblem): void {
  if (res.headersSent) {
    // A stream (SSE) already started: the status line is gone, so just end it.
    res.end();
    return;
  }
  const requestId = res.locals.requestId as string | undefined;
  res.status(problem.status);
  for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
  res.type(PROBLEM_CONTENT_TYPE);
  res.send(
    JSON.stringify({
      ...problem.extensions,
      type: problem.type,
      title: problem.title,
      status: problem.status,
      detail: problem.message,
      instance: req.originalUrl.split('?')[0],
      ...(problem.errors === undefined ? {} : { errors: problem.errors }),
      ...(requestId === undefined ? {} : { requestId }),
    }),
  );
}

/** The errors body-parser raises, by their `type`. */
interface BodyParserError {
  type?: unknown;
  status?: unknown;
  limit?: unknown;
  message?: unknown;
}

/**
 * Maps anything thrown by a handler or middleware to a problem. Database errors go through
 * `toDbError`, so a lost connection, a refused connection or a pool timeout is a 503 the caller
 * may retry, never a 500; the process keeps serving and recovers when the database returns.
 */
export function toProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (isDecompressionError(error)) {
    // body-parser hands zlib's own error through, with no `type`: a garbage gzip, deflate or br
    // body is the caller's fault, whoever they are, and its detail names nothing of ours.
    return new HttpProblem(400, 'The request body could not be decoded with its Content-Encoding.', {
      cause: error,
    });
  }
  if (error instanceof URIError) {
    // The router could not percent-decode a path parameter (`%E0`, a lone surrogate's bytes).
    return validationProblem(400, [{ parameter: 'path', detail: 'must be percent-encoded UTF-8' }]);
  }
  const bodyError = error as BodyParserError | null;
  if (bodyError !== null && typeof bodyError === 'object' && typeof bodyError.type === 'string') {
    const fromBody = bodyParserProblem(bodyError, error);
    if (fromBody !== undefined) return fromBody;
  }
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'InvalidPageError') {
    return validationProblem(400, [{ parameter: 'limit', detail: (error as Error).message }]);
  }
  if (name === 'InvalidCursorError') {
    return validationProblem(400, [{ parameter: 'cursor', detail: (error as Error).message }]);
  }
  const mapped = toDbError(error);
  if (mapped instanceof TransientError) {
    return new HttpProblem(503, 'The database is unavailable; try again shortly.', {
      type: PROBLEM_TYPES.databaseUnavailable,
      headers: { 'Retry-After': '1' },
      cause: error,
    });
  }
  if (mapped instanceof NotFoundError) return new HttpProblem(404, mapped.message, { cause: error });
  if (mapped instanceof ConflictError) {
    return new HttpProblem(409, 'The request conflicts with the current state of the resource.', {
      cause: error,
    });
  }
  return new HttpProblem(500, 'An unexpected error occurred; it has been logged.', { cause: error });
}

/** zlib's and brotli's errors carry a numeric errno and a `Z_…` or `ERR__…` code. */
function isDecompressionError(error: unknown): boolean {
  const { code, errno } = (error ?? {}) as { code?: unknown; errno?: unknown };
  return (
    typeof errno === 'number' &&
    typeof code === 'string' &&
    (code.startsWith('Z_') || code.startsWith('ERR__'))
  );
}

function bodyParserProblem(error: BodyParserError, original: unknown): HttpProblem | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return new HttpProblem(400, 'The request body is not valid JSON.', {
        type: PROBLEM_TYPES.malformedJson,
        cause: original,
      });
    case 'entity.too.large':
      return new HttpProblem(
        413,
        `The request body is larger than the limit of ${String(error.limit ?? 'the server')} bytes.`,
        { cause: original },
      );
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpProblem(415, String(error.message ?? 'unsupported body encoding'), { cause: original });
    case 'request.aborted':
      return new HttpProblem(400, 'The request was aborted while its body was read.', { cause: original });
    default:
      return typeof error.status === 'number' && error.status >= 400 && error.status < 500
        ? new HttpProblem(error.status, String(error.message), { cause: original })
        : undefined;
  }
}

/**
 * What the request log says of an expected 503 (a snapshot not computed yet, the database away):
 * the problem's type and detail and the cause's message, at warn, once, with no stack. They are
 * states the service goes through and tells the caller to retry, not faults to chase.
 */
export interface ExpectedUnavailable {
  type: string;
  detail: string;
  cause?: string;
}

/**
 * The app's last error handler. An unexpected 5xx is logged with its cause and stack; a 503 is
 * left to the request log's one line (res.locals.unavailable); 4xx are the caller's doing.
 */
export function problemErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const problem = toProblem(error);
    const log = (res.locals.logger as Logger | undefined) ?? logger;
    if (problem.status === 503) {
      const cause = problem.cause instanceof Error ? problem.cause.message : undefined;
      const unavailable: ExpectedUnavailable = {
        type: problem.type,
        detail: problem.message,
        ...(cause === undefined ? {} : { cause }),
      };
      res.locals.unavailable = unavailable;
    } else if (problem.status >= 500) {
      log.error({ err: problem.cause ?? problem }, `request failed: ${problem.message}`);
    }
    sendProblem(req, res, problem);
  };
}

/** The last route: nothing matched the path. */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new HttpProblem(404, `No route ${req.method} ${req.path}.`));
};
