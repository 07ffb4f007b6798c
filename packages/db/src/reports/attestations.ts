// Attestation cycles with their counts (DESIGN §2.2): per cycle the records in total, attested,
// pending and in exception, and the completion percentage, aggregated in the database (GROUP BY
// with conditional sums over attestation_records_cycle_status_idx) and paginated by keyset,
// newest cycle first. One statement per page, whatever the number of records.

import type { Knex } from 'knex';
import type { Db } from '../knex.ts';
import { type OrderBy, type Page, paginate, parsePageParams } from '../pagination.ts';

export interface AttestationCycleCounts {
  id: number;
  name: string;
  opensOn: string;
  closesOn: string;
  total: number;
  attested: number;
  pending: number;
  exception: number;
  /** attested / total * 100, rounded half up to 2 decimals; 0 when total is 0. */
  completionPct: number;
}

const ORDER: readonly OrderBy[] = [
  { column: 'c.opens_on', direction: 'desc', type: 'date' },
  { column: 'c.id', direction: 'desc', type: 'integer' },
];

/** The per-cycle aggregation, before the page's keyset, order and limit (paginate adds them). */
export function attestationCycleCountsQuery(knex: Knex): Knex.QueryBuilder {
  return knex('attestation_cycles as c')
    .leftJoin('attestation_records as r', 'r.cycle_id', 'c.id')
    .groupBy('c.id', 'c.name', 'c.opens_on', 'c.closes_on')
    .select(
      'c.id',
      'c.name',
      'c.opens_on',
      'c.closes_on',
      knex.raw('count(r.cycle_id) AS total'),
      knex.raw("coalesce(sum(CASE WHEN r.status = 'attested' THEN 1 ELSE 0 END), 0) AS attested"),
      knex.raw("coalesce(sum(CASE WHEN r.status = 'pending' THEN 1 ELSE 0 END), 0) AS pending"),
      knex.raw("coalesce(sum(CASE WHEN r.status = 'exception' THEN 1 ELSE 0 END), 0) AS exception"),
    );
}

/**
 * One page of attestation cycles with their counts, newest first (opens_on, then id, both
 * descending). A limit above 100 throws InvalidPageError and a cursor we did not issue
 * InvalidCursorError (both from pagination.ts).
 */
export async function listAttestationCycleCounts(
  db: Db,
  page: { cursor?: string; limit?: number },
): Promise<Page<AttestationCycleCounts>> {
  const { limit, cursor } = parsePageParams(page);
  const result = await paginate<Record<string, unknown>>(attestationCycleCountsQuery(db.knex), {
    orderBy: ORDER,
    cursor,
    limit,
  });
  return {
    nextCursor: result.nextCursor,
    items: result.items.map((row) => {
      const total = Number(row.total);
      const attested = Number(row.attested);
      return {
        id: Number(row.id),
        name: String(row.name),
        opensOn: String(row.opens_on),
        closesOn: String(row.closes_on),
        total,
        attested,
        pending: Number(row.pending),
        exception: Number(row.exception),
        completionPct: total === 0 ? 0 : Math.round((attested * 10_000) / total) / 100,
      };
    }),
  };
}
