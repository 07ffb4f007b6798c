// Attestation cycles with their counts (DESIGN §2.2): per cycle the records in total, attested,
// pending and in exception, and the completion percentage.
//
// The counts are precomputed by the KPI rebuild: in its read transaction one statement groups
// every record by cycle in the database (over attestation_records_cycle_status_idx), and its
// write transaction replaces the rows of attestation_cycle_counts with them, stamped with the
// 'kpi' version it lands. A read pages that table by keyset, newest cycle first, in the order of
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

/** A cycle's counts as the rebuild stores them. */
interface CycleCountsRow {
  cycle_id: number;
  name: string;
  opens_on: string;
  closes_on: string;
  total: number;
  attested: number;
  pending: number;
  exception: number;
}

const COUNT_ATTESTATION_CYCLES_TEXT = `-- count_attestation_cycles: every cycle's records counted by status, cycles without any at 0.
-- No parameters.
SELECT c.id AS cycle_id, c.name, c.opens_on, c.closes_on,
       count(r.cycle_id) AS total,
       coalesce(sum(CASE WHEN r.status = 'attested' THEN 1 ELSE 0 END), 0) AS attested,
       coalesce(sum(CASE WHEN r.status = 'pending' THEN 1 ELSE 0 END), 0) AS pending,
       coalesce(sum(CASE WHEN r.status = 'exception' THEN 1 ELSE 0 END), 0) AS exception
  FROM attestation_cycles c
  LEFT JOIN attestation_records r ON r.cycle_id = c.id
 GROUP BY c.id, c.name, c.opens_on, c.closes_on`;

/** The rebuild's recount, grouped in the database (one row a cycle). No parameters. */
export const COUNT_ATTESTATION_CYCLES: DialectSql = {
  postgres: COUNT_ATTESTATION_CYCLES_TEXT,
  sqlite: COUNT_ATTESTATION_CYCLES_TEXT,
};

const DELETE_ATTESTATION_CYCLE_COUNTS_TEXT = `-- delete_attestation_cycle_counts: drop the previous rebuild's counts.
DELETE FROM attestation_cycle_counts`;
const DELETE_ATTESTATION_CYCLE_COUNTS: DialectSql = {
  postgres: DELETE_ATTESTATION_CYCLE_COUNTS_TEXT,
  sqlite: DELETE_ATTESTATION_CYCLE_COUNTS_TEXT,
};

const INSERT_HEAD = `-- insert_attestation_cycle_counts: the new counts from one JSON array of rows.
-- Parameters: computed_at, version, the JSON array.
INSERT INTO attestation_cycle_counts
       (cycle_id, name, opens_on, closes_on, total, attested, pending, exception, computed_at, version)`;

/** Every cycle's counts from one JSON array, so the statement count does not grow with cycles. */
const INSERT_ATTESTATION_CYCLE_COUNTS: DialectSql = {
  postgres: `${INSERT_HEAD}
SELECT s.cycle_id, s.name, s.opens_on, s.closes_on, s.total, s.attested, s.pending, s.exception,
       CAST(? AS timestamptz), ?
  FROM jsonb_to_recordset(CAST(? AS jsonb)) AS s(cycle_id integer, name text, opens_on date,
       closes_on date, total integer, attested integer, pending integer, exception integer)`,
  sqlite: `${INSERT_HEAD}
SELECT json_extract(s.value, '$.cycle_id'), json_extract(s.value, '$.name'),
       json_extract(s.value, '$.opens_on'), json_extract(s.value, '$.closes_on'),
       json_extract(s.value, '$.total'), json_extract(s.value, '$.attested'),
       json_extract(s.value, '$.pending'), json_extract(s.value, '$.exception'), ?, ?
  FROM json_each(?) AS s`,
};

/**
 * Every cycle's counts, in `runner` (the KPI rebuild's read transaction, so they agree with the
 * KPI's own attestation figures). One statement whatever the number of records.
 */
export async function countAttestationCycles(
  runner: Knex | Knex.Transaction,
  db: Db,
): Promise<CycleCountsRow[]> {
  const rows = await queryDialect(runner, db, COUNT_ATTESTATION_CYCLES, []);
  return rows.map((row) => ({
    cycle_id: Number(row.cycle_id),
    name: String(row.name),
    opens_on: String(row.opens_on),
    closes_on: String(row.closes_on),
    total: Number(row.total),
    attested: Number(row.attested),
    pending: Number(row.pending),
    exception: Number(row.exception),
  }));
}

/**
 * Replaces the stored counts with `counts`, in `trx` (the KPI rebuild's write transaction, so
 * they land with its snapshots under the same version). Two statements.
 */
export async function writeAttestationCycleCounts(
  trx: Knex.Transaction,
  db: Db,
  counts: readonly CycleCountsRow[],
  computedAt: string,
  version: number,
): Promise<void> {
  await queryDialect(trx, db, DELETE_ATTESTATION_CYCLE_COUNTS, []);
  await queryDialect(trx, db, INSERT_ATTESTATION_CYCLE_COUNTS, [computedAt, version, JSON.stringify(counts)]);
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
 * InvalidPageError (pagination.ts) and a cursor we did not issue InvalidCursorError (cursor-signer.ts).
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
