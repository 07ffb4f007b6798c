// A page of a list the API holds whole in memory (schedules, live workers: tens of rows, read
// from the queue or the registry in one statement), cut with the same contract as the database
// lists: items in key order after the cursor, `limit` of them (50 by default), and a signed
// cursor naming the last key, or null on the last page.
import type { CursorSigner } from '@offload/db';
import { PAGE_LIMIT } from './schemas.ts';

export interface PageRequest {
  cursor?: string | undefined;
  limit?: number | undefined;
}

export function pageInMemory<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  request: PageRequest,
  seal: { cursorSigner: CursorSigner; scope: string },
): { items: T[]; nextCursor: string | null } {
  const sorted = [...items].sort((a, b) => compare(keyOf(a), keyOf(b)));
  const after =
    request.cursor === undefined || request.cursor === ''
      ? null
      : seal.cursorSigner.openText(request.cursor, seal.scope);
  const rest = after === null ? sorted : sorted.filter((item) => compare(keyOf(item), after) > 0);
  const limit = request.limit ?? PAGE_LIMIT.default;
  const page = rest.slice(0, limit);
  return {
    items: page,
    nextCursor:
      rest.length > limit ? seal.cursorSigner.seal(keyOf(page[page.length - 1]!), seal.scope) : null,
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
