// Job list pages, shared by both backends: the page size's validation and the error for a bad
// limit, named as `@offload/db`'s pagination names it, which the API maps to 400. A cursor the
// queue did not issue is @offload/db's InvalidCursorError (its one signer, cursor-signer.ts); each
// backend encodes its own keyset position (they differ).

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 100;

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
