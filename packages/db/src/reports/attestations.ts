// Attestation cycles with their counts (DESIGN §2.2): per cycle the records in total, attested,
// pending and in exception, and the completion percentage.
//
// The counts are precomputed: the KPI rebuild, in its write transaction, replaces the rows of
// attestation_cycle_counts with one INSERT … SELECT that groups every record by cycle in the
// database (over attestation_records_cycle_status_idx), stamped with the 'kpi' version it
// lands. A read pages that table by keyset, newest cycle first, in the order of
// attestation_cycle_counts_opens_on_cycle_idx: one statement per page that never touches a
// record, so a record added after a rebuild shows from the next one, as in the KPI snapshots.

import type { Knex } from 'knex';
import type { Db } from '../knex.ts';
import { type OrderBy, type Page, paginate, parsePageParams } from '../pagination.ts';
import { type DialectSql, queryDialect } from './dialect-sql.ts';

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
  { column: 'c.cycle_id', direction: 'desc', type: 'integer' },
];

/** Removes the previous rebuild's counts. No parameters. */
const DELETE_ATTESTATION_CYCLE_COUNTS_TEXT = `-- delete_attestation_cycle_counts: drop the previous rebuild's counts.
DELETE FROM attestation_cycle_counts`;
const DELETE_ATTESTATION_CYCLE_COUNTS: DialectSql = {
  postgres: DELETE_ATTESTATION_CYCLE_COUNTS_TEXT,
  sqlite: DELETE_ATTESTATION_CYCLE_COUNTS_TEXT,
};

const insertCounts = (
  computedAt: string,
) => `-- insert_attestation_cycle_counts: every cycle's records counted by status, set-based.
-- Parameters: computed_at, version.
INSERT INTO attestation_cycle_counts
       (cycle_id, name, opens_on, closes_on, total, attested, pending, exception, computed_at, version)
SELECT c.id, c.name, c.opens_on, c.closes_on,
       count(r.cycle_id),
       coalesce(sum(CASE WHEN r.status = 'attested' THEN 1 ELSE 0 END), 0),
       coalesce(sum(CASE WHEN r.status = 'pending' THEN 1 ELSE 0 END), 0),
       coalesce(sum(CASE WHEN r.status = 'exception' THEN 1 ELSE 0 END), 0),
       ${computedAt}, ?
  FROM attestation_cycles c
  LEFT JOIN attestation_records r ON r.cycle_id = c.id
 GROUP BY c.id, c.name, c.opens_on, c.closes_on`;

/** Every cycle with its records counted, cycles without records at 0. Parameters: computed_at, version. */
export const INSERT_ATTESTATION_CYCLE_COUNTS: DialectSql = {
  postgres: insertCounts('CAST(? AS timestamptz)'),
  sqlite: insertCounts('?'),
};

/**
 * Replaces the stored counts with a recount of every cycle's records, in `trx` (the KPI
 * rebuild's write transaction, so both land together under the same version). Two statements
 * whatever the number of records.
 */
export async function writeAttestationCycleCounts(
  trx: Knex.Transaction,
  db: Db,
  computedAt: string,
  version: number,
): Promise<void> {
  await queryDialect(trx, db, DELETE_ATTESTATION_CYCLE_COUNTS, []);
  await queryDialect(trx, db, INSERT_ATTESTATION_CYCLE_COUNTS, [computedAt, version]);
}

/** The stored counts, before the page's keyset, order and limit (paginate adds them). */
export function attestationCycleCountsQuery(knex: Knex): Knex.QueryBuilder {
  return knex('attestation_cycle_counts as c').select(
    'c.cycle_id',
    'c.name',
    'c.opens_on',
    'c.closes_on',
    'c.total',
    'c.attested',
    'c.pending',
    'c.exception',
  );
}

/**
 * One page of attestation cycles with their counts as of the last KPI rebuild (none before the
 * first), newest first (opens_on, then id, both descending). A limit above 100 throws
 * InvalidPageError and a cursor we did not issue InvalidCursorError (both from pagination.ts).
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
        id: Number(row.cycle_id),
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
