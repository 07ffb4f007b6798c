// The SQL of the KPI rebuild (DESIGN §2.1, §2.2), one constant per statement.
//
// Every statement exists in two spellings, one per dialect, with the same semantics. They
// differ only where the databases do: calendar arithmetic (PostgreSQL has a `date` type whose
// `+ interval 'N months'` clamps to the month's last day; SQLite keeps dates as text, and its
// `date(x, '+N months')` overflows into the next month, so the clamp is spelled out) and how a
// date parameter is typed. The revalidation rule itself is written once, below, and composed
// into both spellings, so the two cannot drift apart; the golden tests hold both to the
// reference function of @offload/domain.
//
// Placeholders are knex's positional `?` in both dialects.

import type { Dialect } from '../knex.ts';
import type { DialectSql } from './dialect-sql.ts';

export type { DialectSql } from './dialect-sql.ts';

interface CalendarSql {
  /** A bound 'YYYY-MM-DD' parameter, typed as a calendar date. */
  dateParam: string;
  /** `date` plus `months` calendar months, clamped to the target month's last day. */
  addMonths(date: string, months: string): string;
  /** `date` plus `days` days (negative moves back). */
  addDays(date: string, days: string): string;
}

const POSTGRES_CALENDAR: CalendarSql = {
  dateParam: 'CAST(? AS date)',
  // date + interval is a timestamp; PostgreSQL adds the months at once and clamps the day.
  addMonths: (date, months) => `CAST(${date} + make_interval(months => ${months}) AS date)`,
  addDays: (date, days) => `(${date} + (${days}))`,
};

const SQLITE_CALENDAR: CalendarSql = {
  dateParam: 'CAST(? AS text)',
  // date('2027-01-31', '+1 month') is '2027-03-03': take the earlier of that and the target
  // month's last day. ISO dates compare as text, so min() picks the earlier date.
  addMonths: (date, months) =>
    `min(date(${date}, '+' || ${months} || ' months'), ` +
    `date(${date}, 'start of month', '+' || ${months} || ' months', '+1 month', '-1 day'))`,
  addDays: (date, days) => `date(${date}, (${days}) || ' days')`,
};

const CALENDARS: Readonly<Record<Dialect, CalendarSql>> = {
  postgres: POSTGRES_CALENDAR,
  sqlite: SQLITE_CALENDAR,
};

function perDialect(build: (calendar: CalendarSql) => string): DialectSql {
  return { postgres: build(CALENDARS.postgres), sqlite: build(CALENDARS.sqlite) };
}

// The §2.1 rule for every active model, as CTEs ending in `model_statuses(model_id, region_id,
// team_id, status)`. One parameter: asOf.
//
// validation_facts is one pass over validations grouped by model, in the order of
// validations_model_kind_status_approved_on_idx: F, the latest approved interim and whether a
// request is open. "The latest interim after F" needs no second pass: if the latest interim
// of all is after F it is the one, and otherwise no interim is after F.
const modelStatusCtes = (c: CalendarSql): string => `
WITH params AS (
  SELECT ${c.dateParam} AS as_of
),
validation_facts AS (
  SELECT model_id,
         max(approved_on) FILTER (WHERE kind = 'full' AND status = 'approved') AS full_on,
         max(approved_on) FILTER (WHERE kind = 'interim' AND status = 'approved') AS last_interim_on,
         count(*) FILTER (WHERE status IN ('planned', 'in_progress')) > 0 AS has_open
    FROM validations
   GROUP BY model_id
),
active_models AS (
  SELECT m.id AS model_id, m.region_id, m.team_id,
         t.lead_days, t.grace_days, t.interim_validity_days,
         f.full_on,
         CASE WHEN f.full_on IS NULL OR f.last_interim_on > f.full_on THEN f.last_interim_on END AS interim_on,
         coalesce(f.has_open, FALSE) AS has_open,
         ${c.addMonths('f.full_on', 't.revalidation_months')} AS due_on
    FROM models m
    JOIN risk_tiers t ON t.id = m.risk_tier_id
    LEFT JOIN validation_facts f ON f.model_id = m.id
   WHERE m.status = 'active'
),
timelines AS (
  SELECT model_id, region_id, team_id, full_on, interim_on, has_open, due_on,
         ${c.addDays('due_on', '-lead_days')} AS request_from,
         ${c.addDays('due_on', 'grace_days')} AS grace_until,
         ${c.addDays('interim_on', 'interim_validity_days')} AS interim_until
    FROM active_models
),
model_statuses AS (
  SELECT l.model_id, l.region_id, l.team_id,
         CASE
           WHEN l.full_on IS NULL AND l.interim_on IS NULL
             THEN CASE WHEN l.has_open THEN 'in_progress' ELSE 'never_validated' END
           WHEN l.full_on IS NOT NULL AND p.as_of < l.request_from THEN 'current'
           WHEN l.full_on IS NOT NULL AND p.as_of < l.due_on
             THEN CASE WHEN l.has_open THEN 'in_progress' ELSE 'should_create_request' END
           WHEN l.interim_on IS NOT NULL
             THEN CASE WHEN p.as_of < l.interim_until THEN 'interim_valid' ELSE 'interim_expired' END
           WHEN p.as_of < l.grace_until THEN 'in_grace'
           ELSE 'overdue'
         END AS status
    FROM timelines l
   CROSS JOIN params p
)`;

/** Every active model's revalidation status on asOf, by model id. Parameters: asOf. */
export const MODEL_STATUSES: DialectSql = perDialect(
  (c) => `-- model_statuses: the §2.1 status of every active model. Parameters: asOf.
${modelStatusCtes(c)}
SELECT model_id, status FROM model_statuses ORDER BY model_id`,
);

/**
 * The counters of a KPI scope row: [column, expression over `model_facts(status, health,
 * attestation)`]. Status columns are `status_<status>` for every status of §2.1.
 */
const KPI_COUNTERS: ReadonlyArray<readonly [column: string, expression: string]> = [
  ['active_models', 'count(*)'],
  ['status_current', "count(*) FILTER (WHERE status = 'current')"],
  ['status_should_create_request', "count(*) FILTER (WHERE status = 'should_create_request')"],
  ['status_in_progress', "count(*) FILTER (WHERE status = 'in_progress')"],
  ['status_interim_valid', "count(*) FILTER (WHERE status = 'interim_valid')"],
  ['status_in_grace', "count(*) FILTER (WHERE status = 'in_grace')"],
  ['status_overdue', "count(*) FILTER (WHERE status = 'overdue')"],
  ['status_interim_expired', "count(*) FILTER (WHERE status = 'interim_expired')"],
  ['status_never_validated', "count(*) FILTER (WHERE status = 'never_validated')"],
  ['health_ok', "count(*) FILTER (WHERE health = 'ok')"],
  ['health_warn', "count(*) FILTER (WHERE health = 'warn')"],
  ['health_alert', "count(*) FILTER (WHERE health = 'alert')"],
  ['health_unknown', 'count(*) FILTER (WHERE health IS NULL)'],
  ['attestation_total', 'count(attestation)'],
  ['attestation_attested', "count(*) FILTER (WHERE attestation = 'attested')"],
];

const pairCounters = KPI_COUNTERS.map(([column, expression]) => `${expression} AS ${column}`).join(
  ',\n         ',
);
const rolledUpCounters = KPI_COUNTERS.map(([column]) => `coalesce(sum(${column}), 0) AS ${column}`).join(
  ',\n         ',
);

/**
 * The KPI counters of every scope that holds active models, as rows (scope, region_id,
 * team_id, counters…) with scope 'pair', 'region', 'team' or 'global' (the global row is
 * there even when there are no models). Parameters: asOf, the attestation cycle's id (null
 * for none).
 *
 * Models are counted once, per (region, team); regions, teams and the whole inventory are
 * sums of those rows, so the inventory is read in one pass whatever the number of scopes.
 * (PostgreSQL's GROUPING SETS would do the same, but SQLite has none.)
 *
 * model_facts is MATERIALIZED because both databases would otherwise inline the status CASE
 * (and its date arithmetic) into each of the eight status counters and evaluate it eight times
 * a model: materializing it once takes SQLite from 1.9 s to 0.5 s at 100k models, and
 * PostgreSQL from 5.0 s to 4.1 s at 1M.
 */
export const KPI_SCOPE_COUNTS: DialectSql = perDialect(
  (c) => `-- kpi_scope_counts: status, health and attestation counts per scope.
-- Parameters: asOf, attestation cycle id (null: none).
${modelStatusCtes(c)},
model_facts AS MATERIALIZED (
  SELECT s.region_id, s.team_id, s.status, h.status AS health, r.status AS attestation
    FROM model_statuses s
    LEFT JOIN model_health h ON h.model_id = s.model_id
    LEFT JOIN attestation_records r ON r.model_id = s.model_id AND r.cycle_id = ?
),
by_pair AS MATERIALIZED (
  SELECT region_id, team_id,
         ${pairCounters}
    FROM model_facts
   GROUP BY region_id, team_id
)
SELECT 'pair' AS scope, region_id, team_id,
       ${KPI_COUNTERS.map(([column]) => column).join(', ')}
  FROM by_pair
UNION ALL
SELECT 'region', region_id, NULL,
       ${rolledUpCounters}
  FROM by_pair
 GROUP BY region_id
UNION ALL
SELECT 'team', NULL, team_id,
       ${rolledUpCounters}
  FROM by_pair
 GROUP BY team_id
UNION ALL
SELECT 'global', NULL, NULL,
       ${rolledUpCounters}
  FROM by_pair`,
);

/**
 * PostgreSQL only, first in the rebuild's read transaction: plan KPI_SCOPE_COUNTS serially.
 * Left to itself the planner runs it in parallel with every worker rebuilding its own private
 * copy of the per-model validation aggregate (a hash join's inner side), which triples the CPU
 * for a slower result on a small machine (1M models on 2 cores: 6-7 s parallel, 4.7 s serial).
 * The serial plan streams: models by primary key merge-joined with validations grouped in
 * index order. No parameters.
 */
export const SERIAL_PLAN_POSTGRES = `-- serial_plan: no parallel workers for the rest of this transaction.
SET LOCAL max_parallel_workers_per_gather = 0`;

/**
 * The attestation cycle KPIs report on: the latest (by opens_on, then id) that opened on or
 * before asOf. Parameters: asOf.
 */
export const LATEST_ATTESTATION_CYCLE: DialectSql = perDialect(
  (c) => `-- latest_attestation_cycle: the last cycle opened on or before asOf. Parameters: asOf.
SELECT id, name, opens_on, closes_on
  FROM attestation_cycles
 WHERE opens_on <= ${c.dateParam}
 ORDER BY opens_on DESC, id DESC
 LIMIT 1`,
);

/** Every region and team with its code (a team with its home region): the KPI scopes. No parameters. */
const KPI_SCOPES_TEXT = `-- kpi_scopes: every region and team, so scopes without active models still get a snapshot.
SELECT 'region' AS kind, id, code, NULL AS region_id FROM regions
UNION ALL
SELECT 'team', id, code, region_id FROM teams`;
export const KPI_SCOPES: DialectSql = { postgres: KPI_SCOPES_TEXT, sqlite: KPI_SCOPES_TEXT };

/** Removes the previous set of snapshots before the new one is written. No parameters. */
const DELETE_KPI_SNAPSHOTS_TEXT = `-- delete_kpi_snapshots: drop the previous set (the table holds KPI snapshots only).
DELETE FROM kpi_snapshots`;
export const DELETE_KPI_SNAPSHOTS: DialectSql = {
  postgres: DELETE_KPI_SNAPSHOTS_TEXT,
  sqlite: DELETE_KPI_SNAPSHOTS_TEXT,
};

/**
 * Writes every snapshot in one statement, from one JSON array of {key, payload}, so the
 * statement count does not grow with the number of scopes. Parameters: computed_at
 * (instant), version, the JSON array (text).
 */
export const INSERT_KPI_SNAPSHOTS: DialectSql = {
  postgres: `-- insert_kpi_snapshots: the new set from one JSON array of {key, payload}.
-- Parameters: computed_at, version, the JSON array.
INSERT INTO kpi_snapshots (key, payload, computed_at, version)
SELECT s.key, s.payload, CAST(? AS timestamptz), ?
  FROM jsonb_to_recordset(CAST(? AS jsonb)) AS s(key text, payload jsonb)`,
  sqlite: `-- insert_kpi_snapshots: the new set from one JSON array of {key, payload}.
-- Parameters: computed_at, version, the JSON array.
INSERT INTO kpi_snapshots (key, payload, computed_at, version)
SELECT json_extract(s.value, '$.key'), json_extract(s.value, '$.payload'), ?, ?
  FROM json_each(?) AS s`,
};

/** One stored snapshot by key. Parameters: key. */
const READ_KPI_SNAPSHOT_TEXT = `-- read_kpi_snapshot: one stored snapshot. Parameters: key.
SELECT key, payload, computed_at, version FROM kpi_snapshots WHERE key = ?`;
export const READ_KPI_SNAPSHOT: DialectSql = {
  postgres: READ_KPI_SNAPSHOT_TEXT,
  sqlite: READ_KPI_SNAPSHOT_TEXT,
};
