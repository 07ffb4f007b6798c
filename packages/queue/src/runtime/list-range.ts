// A job list's created range and id prefix (JobListParams), validated once for both drivers and
// turned into the bounds each can read along its indexes. Ids are UUIDv7 on both: their text
// order is creation order, and on PostgreSQL created_on is the id's millisecond, so there a
// created range is an id range along pg-boss's keyset (the id). SQLite's ids are minted
// monotonically, which after a clock step back can run ahead of created_at: it reads a created
// range on created_at and an id prefix on the id.
import type { JobListParams } from '../types.ts';
import { isoInstant } from './insert.ts';

export interface ListRange {
  /** created_at from (inclusive) and before (exclusive), ISO instants; null for none. */
  createdFrom: string | null;
  createdBefore: string | null;
  /** The ids an id prefix spans, from (inclusive) and before (exclusive); null for none. */
  prefixFrom: string | null;
  prefixBefore: string | null;
}

const HEX_PREFIX = /^[0-9a-f]{1,32}$/;

export function listRange(
  params: Pick<JobListParams, 'createdFrom' | 'createdBefore' | 'idPrefix'>,
): ListRange {
  const createdFrom = params.createdFrom === undefined ? null : isoInstant(params.createdFrom, 'createdFrom');
  const createdBefore =
    params.createdBefore === undefined ? null : isoInstant(params.createdBefore, 'createdBefore');
  if (params.idPrefix === undefined)
    return { createdFrom, createdBefore, prefixFrom: null, prefixBefore: null };
  const hex = typeof params.idPrefix === 'string' ? params.idPrefix.replaceAll('-', '').toLowerCase() : '';
  if (!HEX_PREFIX.test(hex)) {
    throw new TypeError(
      `idPrefix must be the start of a job id: 1 to 32 hex digits (got ${String(params.idPrefix)})`,
    );
  }
  const next = (BigInt(`0x${hex}`) + 1n).toString(16).padStart(hex.length, '0');
  return {
    createdFrom,
    createdBefore,
    prefixFrom: toUuid(hex.padEnd(32, '0')),
    prefixBefore: next.length > hex.length ? null : toUuid(next.padEnd(32, '0')),
  };
}

/**
 * The whole range as bounds on the id, for a backend whose created time is its id's millisecond
 * (pg-boss's: created_on is set from the id), where the id is the list's keyset.
 */
export function idBounds(range: ListRange): { idFrom: string | null; idBefore: string | null } {
  const from = range.createdFrom === null ? null : idFloor(Date.parse(range.createdFrom));
  const before = range.createdBefore === null ? null : idFloor(Date.parse(range.createdBefore));
  return {
    idFrom: range.prefixFrom === null ? from : maxOf(from, range.prefixFrom),
    idBefore: minOf(before, range.prefixBefore),
  };
}

/** The least UUIDv7 minted at `ms`: ids of that millisecond and later sort at or after it. */
function idFloor(ms: number): string {
  return toUuid(ms.toString(16).padStart(12, '0').slice(-12).padEnd(32, '0'));
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
