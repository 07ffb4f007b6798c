// Bulk operator actions (a console's "retry every failed import", "cancel everything alice
// queued"), validated once for both drivers: which states each action may take, and the bound
// per call that keeps each one a short transaction.
import type { JobBulkParams, JobState } from '../types.ts';
import { isoInstant } from './insert.ts';

export const MAX_BULK_LIMIT = 1000;
/**
 * The bound of a count before a bulk action (`Queue.countMany`): a confirmation needs "about how
 * many", and past this it says "at least", so no count reads more than this many index entries.
 */
export const MAX_BULK_COUNT = 10_001;

const ALLOWED: Record<'cancel' | 'retry', { states: readonly JobState[]; defaults: readonly JobState[] }> = {
  cancel: { states: ['queued', 'retrying'], defaults: ['queued', 'retrying'] },
  retry: { states: ['failed', 'cancelled'], defaults: ['failed'] },
};

export interface BulkFilter {
  kind: string | null;
  states: JobState[];
  owner: string | null;
  createdFrom: string | null;
  createdBefore: string | null;
  limit: number;
}

/** The filter of a bulk `action`, or a TypeError naming what is wrong. */
export function bulkFilter(
  action: 'cancel' | 'retry',
  params: JobBulkParams,
  maxLimit: number = MAX_BULK_LIMIT,
): BulkFilter {
  const { states: allowed, defaults } = ALLOWED[action];
  const states = [...new Set(params.states ?? defaults)];
  if (states.length === 0 || states.some((state) => !allowed.includes(state))) {
    throw new TypeError(
      `bulk ${action} takes jobs in states ${allowed.join(', ')} (got ${states.join(', ')})`,
    );
  }
  if (!Number.isInteger(params.limit) || params.limit < 1 || params.limit > maxLimit) {
    throw new TypeError(`limit must be an integer from 1 to ${maxLimit} (got ${String(params.limit)})`);
  }
  if (params.kind !== undefined && typeof params.kind !== 'string')
    throw new TypeError('kind must be a string');
  if (params.owner !== undefined && typeof params.owner !== 'string')
    throw new TypeError('owner must be a string');
  return {
    kind: params.kind ?? null,
    states,
    owner: params.owner ?? null,
    createdFrom: params.createdFrom === undefined ? null : isoInstant(params.createdFrom, 'createdFrom'),
    createdBefore:
      params.createdBefore === undefined ? null : isoInstant(params.createdBefore, 'createdBefore'),
    limit: params.limit,
  };
}
