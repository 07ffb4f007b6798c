// The seeded tables in load order (each after the tables it references), as column lists and
// row generators. Rows carry neutral values (dates as epoch days, instants as epoch
// milliseconds) that each loader writes in its database's form, so both databases receive the
// same inventory. Ids are assigned here, in generation order, so that approvals can name their
// validation without reading it back.

import { ATTESTATION_CYCLES, METRIC_SOURCES, REGIONS, TEAMS, TIERS } from './catalog.ts';
import {
  type AttestationCycle,
  attestationCycles,
  attestationRecord,
  DAY_MS,
  isMonitored,
  modelCore,
  modelMetrics,
  modelRow,
  modelValidations,
  type SeedPlan,
} from './inventory.ts';

/** How a value is written: `date` is an epoch day, `instant` epoch milliseconds. */
export type ColumnType = 'int' | 'real' | 'text' | 'bool' | 'date' | 'instant';

export type Value = number | string | boolean | null;

export interface SeedTable {
  name: string;
  columns: ReadonlyArray<readonly [name: string, type: ColumnType]>;
  /** Whether `id` is a generated key whose sequence must move past the seeded ids. */
  hasSerialId: boolean;
  rows(plan: SeedPlan): Iterable<Value[]>;
}

export const SEED_TABLES: readonly SeedTable[] = [
  {
    name: 'regions',
    columns: [
      ['id', 'int'],
      ['code', 'text'],
      ['name', 'text'],
    ],
    hasSerialId: true,
    *rows() {
      for (const [i, r] of REGIONS.entries()) yield [i + 1, r.code, r.name];
    },
  },
  {
    name: 'teams',
    columns: [
      ['id', 'int'],
      ['code', 'text'],
      ['name', 'text'],
      ['region_id', 'int'],
    ],
    hasSerialId: true,
    *rows() {
      for (const [i, t] of TEAMS.entries()) yield [i + 1, t.code, t.name, t.region + 1];
    },
  },
  {
    name: 'risk_tiers',
    columns: [
      ['id', 'int'],
      ['code', 'text'],
      ['revalidation_months', 'int'],
      ['lead_days', 'int'],
      ['grace_days', 'int'],
      ['interim_validity_days', 'int'],
    ],
    hasSerialId: true,
    *rows() {
      for (const [i, t] of TIERS.entries()) {
        yield [i + 1, t.code, t.revalidationMonths, t.leadDays, t.graceDays, t.interimValidityDays];
      }
    },
  },
  {
    name: 'models',
    columns: [
      ['id', 'int'],
      ['external_id', 'text'],
      ['name', 'text'],
      ['region_id', 'int'],
      ['team_id', 'int'],
      ['risk_tier_id', 'int'],
      ['owner_email', 'text'],
      ['status', 'text'],
      ['created_at', 'instant'],
      ['updated_at', 'instant'],
    ],
    hasSerialId: true,
    *rows(plan) {
      for (let i = 0; i < plan.models; i++) {
        const m = modelRow(plan, i);
        yield [
          m.id,
          m.externalId,
          m.name,
          m.region + 1,
          m.team + 1,
          m.tier + 1,
          m.ownerEmail,
          m.retired ? 'retired' : 'active',
          m.createdMs,
          m.updatedMs,
        ];
      }
    },
  },
  {
    name: 'validations',
    columns: [
      ['id', 'int'],
      ['model_id', 'int'],
      ['kind', 'text'],
      ['status', 'text'],
      ['approved_on', 'date'],
      ['created_at', 'instant'],
    ],
    hasSerialId: true,
    *rows(plan) {
      let id = 0;
      for (let i = 0; i < plan.models; i++) {
        const core = modelCore(plan, i);
        for (const v of modelValidations(plan, core, i, false).validations) {
          yield [++id, core.id, v.kind, v.status, v.approvedDay, v.createdMs];
        }
      }
    },
  },
  {
    name: 'approvals',
    columns: [
      ['id', 'int'],
      ['validation_id', 'int'],
      ['region_id', 'int'],
      ['approval_type', 'text'],
      ['status', 'text'],
      ['decided_on', 'date'],
    ],
    hasSerialId: true,
    *rows(plan) {
      let id = 0;
      let validationId = 0;
      for (let i = 0; i < plan.models; i++) {
        const { approvals } = modelValidations(plan, modelCore(plan, i), i, true);
        for (const ofValidation of approvals) {
          validationId++;
          for (const a of ofValidation) {
            yield [++id, validationId, a.region + 1, a.approvalType, a.status, a.decidedDay];
          }
        }
      }
    },
  },
  {
    name: 'attestation_cycles',
    columns: [
      ['id', 'int'],
      ['name', 'text'],
      ['opens_on', 'date'],
      ['closes_on', 'date'],
    ],
    hasSerialId: true,
    *rows(plan) {
      for (const [i, c] of attestationCycles(plan).entries()) yield [i + 1, c.name, c.opensDay, c.closesDay];
    },
  },
  {
    name: 'attestation_records',
    columns: [
      ['id', 'int'],
      ['cycle_id', 'int'],
      ['model_id', 'int'],
      ['status', 'text'],
      ['attested_at', 'instant'],
    ],
    hasSerialId: true,
    *rows(plan) {
      const cycles: AttestationCycle[] = attestationCycles(plan);
      let id = 0;
      // Cycle by cycle, as records are opened when a cycle starts.
      for (let k = 0; k < ATTESTATION_CYCLES; k++) {
        for (let i = 0; i < plan.models; i++) {
          const core = modelCore(plan, i);
          const record = attestationRecord(plan, core, i, k, cycles[k]!);
          if (record !== null) yield [++id, k + 1, core.id, record.status, record.attestedMs];
        }
      }
    },
  },
  {
    name: 'metric_sources',
    columns: [
      ['id', 'int'],
      ['name', 'text'],
      ['url', 'text'],
      ['format', 'text'],
      ['cron', 'text'],
      ['enabled', 'bool'],
      ['created_at', 'instant'],
    ],
    hasSerialId: true,
    *rows(plan) {
      for (const [i, s] of METRIC_SOURCES.entries()) {
        const createdMs = (plan.anchorDay - 400 + 30 * i) * DAY_MS + 9 * 3_600_000;
        yield [i + 1, s.name, s.url, s.format, s.cron, s.enabled, createdMs];
      }
    },
  },
  {
    name: 'model_metrics',
    columns: [
      ['model_id', 'int'],
      ['metric', 'text'],
      ['observed_at', 'instant'],
      ['value', 'real'],
    ],
    hasSerialId: false,
    *rows(plan) {
      for (let i = 0; i < plan.models; i++) {
        const core = modelCore(plan, i);
        if (!isMonitored(plan, core, i)) continue;
        for (const p of modelMetrics(plan, i)) yield [core.id, p.metric, p.observedMs, p.value];
      }
    },
  },
];

/**
 * Everything `--reset` empties, children first: the seeded tables and the caches derived from
 * them (a report computed over the old inventory would otherwise outlive it).
 */
export const RESET_TABLES: readonly string[] = [
  'model_health',
  'kpi_snapshots',
  'report_snapshots',
  'attestation_cycle_counts',
  ...SEED_TABLES.map((t) => t.name).reverse(),
];
