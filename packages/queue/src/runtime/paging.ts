// Job list pages, shared by both backends: the page size's validation and the errors for a bad
// limit or a cursor the queue did not issue. They carry the names `@offload/db`'s pagination uses,
// which the API maps to 400. Each backend encodes its own cursor (its keyset differs).

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 100;

/** A cursor we did not issue, altered or garbled. */
export class InvalidCursorError extends Error {
  constructor(message = 'cursor is not one this queue issued') {
    super(message);
    this.name = 'InvalidCursorError';
  }
}

/** A page size outside 1…100 (refused, never clamped). */
export class InvalidPageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPageError';
  }
}

/** The page size asked for: an integer from 1 to 100, default 50. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new InvalidPageError(`limit must be an integer from 1 to ${MAX_PAGE_LIMIT} (got ${String(limit)})`);
  }
  return limit;
}
