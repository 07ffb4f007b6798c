// A job list's created range and id prefix (JobListParams), validated once for both drivers and
// turned into the bounds each can read along its indexes. Ids are UUIDv7 on both: their text
// order is creation order and their first 12 hex digits are the millisecond of `createdAt`, so a
// created range is an id range (pg-boss's keyset is the id) and an id prefix is an id range that
// pins a time window (SQLite's list indexes end in (created_at, id)).
import type { JobListParams } from '../types.ts';
import { isoInstant } from './insert.ts';

export interface ListRange {
  /** created_at from (inclusive) and before (exclusive), ISO instants; null for none. */
  createdFrom: string | null;
  createdBefore: string | null;
  /** The id from (inclusive) and before (exclusive), lowercase hyphenated UUIDs; null for none. */
  idFrom: string | null;
  idBefore: string | null;
}

const HEX_PREFIX = /^[0-9a-f]{1,32}$/;
/** Past 4,096 ids in a millisecond an id borrows the next one's: its window is widened by this. */
const BORROW_SLACK_MS = 1000;

export function listRange(
  params: Pick<JobListParams, 'createdFrom' | 'createdBefore' | 'idPrefix'>,
): ListRange {
  let createdFrom = params.createdFrom === undefined ? null : isoInstant(params.createdFrom, 'createdFrom');
  let createdBefore =
    params.createdBefore === undefined ? null : isoInstant(params.createdBefore, 'createdBefore');
  let idFrom = createdFrom === null ? null : idFloor(Date.parse(createdFrom));
  let idBefore = createdBefore === null ? null : idFloor(Date.parse(createdBefore));
  if (params.idPrefix !== undefined) {
    const hex = typeof params.idPrefix === 'string' ? params.idPrefix.replaceAll('-', '').toLowerCase() : '';
    if (!HEX_PREFIX.test(hex)) {
      throw new TypeError(
        `idPrefix must be the start of a job id: 1 to 32 hex digits (got ${String(params.idPrefix)})`,
      );
    }
    const from = toUuid(hex.padEnd(32, '0'));
    const next = (BigInt(`0x${hex}`) + 1n).toString(16).padStart(hex.length, '0');
    const before = next.length > hex.length ? null : toUuid(next.padEnd(32, '0'));
    idFrom = maxOf(idFrom, from);
    idBefore = minOf(idBefore, before);
    createdFrom = maxOf(createdFrom, new Date(Math.max(0, idMillis(from) - BORROW_SLACK_MS)).toISOString());
    if (before !== null) {
      createdBefore = minOf(createdBefore, new Date(idMillis(before) + BORROW_SLACK_MS).toISOString());
    }
  }
  return { createdFrom, createdBefore, idFrom, idBefore };
}

/** The least UUIDv7 minted at `ms`: ids of that millisecond and later sort at or after it. */
function idFloor(ms: number): string {
  return toUuid(ms.toString(16).padStart(12, '0').slice(-12).padEnd(32, '0'));
}

function idMillis(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

function toUuid(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function maxOf(a: string | null, b: string): string {
  return a === null || b > a ? b : a;
}

function minOf(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return b < a ? b : a;
}
