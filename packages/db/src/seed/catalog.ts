// The fixed part of the seeded inventory: regions, teams, risk tiers, metric sources and the
// word lists models are named from. Only the models and everything hanging off them vary with
// --models and --seed.

export interface RegionSpec {
  code: string;
  name: string;
}

export interface TeamSpec {
  code: string;
  name: string;
  /** Index into REGIONS. */
  region: number;
  /** Relative share of the inventory: teams are not all the same size. */
  weight: number;
}

export interface TierSpec {
  code: string;
  revalidationMonths: number;
  leadDays: number;
  graceDays: number;
  interimValidityDays: number;
  /** Relative share of the inventory: few models are high-risk. */
  weight: number;
}

export interface MetricSourceSpec {
  name: string;
  url: string;
  format: 'csv' | 'ndjson';
  cron: string;
  enabled: boolean;
}

export const REGIONS: readonly RegionSpec[] = [
  { code: 'NAM', name: 'North America' },
  { code: 'LATAM', name: 'Latin America' },
  { code: 'EMEA', name: 'Europe, Middle East and Africa' },
  { code: 'UK', name: 'United Kingdom' },
  { code: 'APAC', name: 'Asia Pacific' },
];

const FUNCTIONS = [
  ['CRD', 'Credit Risk', 9],
  ['RET', 'Retail Lending', 8],
  ['MKT', 'Market Risk', 5],
  ['FRD', 'Fraud Analytics', 6],
  ['AML', 'Financial Crime', 5],
  ['PRC', 'Pricing', 4],
  ['TRS', 'Treasury and ALM', 3],
  ['OPS', 'Operational Risk', 2],
] as const;

// Region sizes differ too (NAM and EMEA hold most models), so per-region reports are uneven.
const REGION_WEIGHT = [1.6, 0.5, 1.4, 0.9, 0.8];

/** Eight teams per region, forty in all. */
export const TEAMS: readonly TeamSpec[] = REGIONS.flatMap((region, r) =>
  FUNCTIONS.map(([code, name, weight]) => ({
    code: `${region.code}-${code}`,
    name: `${region.name} ${name}`,
    region: r,
    weight: weight * REGION_WEIGHT[r]!,
  })),
);

export const TIERS: readonly TierSpec[] = [
  { code: 'tier1', revalidationMonths: 12, leadDays: 60, graceDays: 30, interimValidityDays: 90, weight: 12 },
  {
    code: 'tier2',
    revalidationMonths: 24,
    leadDays: 60,
    graceDays: 60,
    interimValidityDays: 120,
    weight: 28,
  },
  {
    code: 'tier3',
    revalidationMonths: 36,
    leadDays: 90,
    graceDays: 90,
    interimValidityDays: 180,
    weight: 35,
  },
  {
    code: 'tier4',
    revalidationMonths: 48,
    leadDays: 90,
    graceDays: 90,
    interimValidityDays: 180,
    weight: 25,
  },
];

// Hosts under example.com (RFC 2606) so a seeded demo never calls a real system; collection
// from them fails, as it would for a misconfigured source.
export const METRIC_SOURCES: readonly MetricSourceSpec[] = [
  {
    name: 'risk-warehouse-daily',
    url: 'https://warehouse.example.com/exports/model-metrics.csv',
    format: 'csv',
    cron: '15 2 * * *',
    enabled: true,
  },
  {
    name: 'scoring-platform',
    url: 'https://scoring.example.com/api/metrics?format=ndjson',
    format: 'ndjson',
    cron: '0 * * * *',
    enabled: true,
  },
  {
    name: 'fraud-stream-rollup',
    url: 'https://fraud.example.com/rollups/hourly.ndjson',
    format: 'ndjson',
    cron: '30 */6 * * *',
    enabled: true,
  },
  {
    name: 'legacy-sftp-bridge',
    url: 'https://legacy-bridge.example.com/metrics/latest.csv',
    format: 'csv',
    cron: '0 5 * * 1',
    enabled: false,
  },
];

/** The series every monitored model reports, with a plausible level and week-to-week noise. */
export const METRICS = [
  { name: 'auc', low: 0.62, high: 0.88, noise: 0.006, decimals: 4 },
  { name: 'default_rate', low: 0.004, high: 0.08, noise: 0.0015, decimals: 5 },
  { name: 'score_mean', low: 420, high: 710, noise: 3.5, decimals: 2 },
] as const;

/** Weekly points per series. */
export const METRIC_POINTS = 36;

/** At most this many models get metric series, so model_metrics stays modest at any scale. */
export const MAX_MONITORED_MODELS = 10_000;

/** Attestation cycles: every six months, the latest still open on the anchor date. */
export const ATTESTATION_CYCLES = 3;

export const PRODUCTS = [
  'Retail Mortgage',
  'Credit Card',
  'Auto Loan',
  'SME Lending',
  'Corporate Lending',
  'Commercial Real Estate',
  'Payments',
  'Deposits',
  'Wealth',
  'Trade Finance',
  'Leasing',
  'Student Loan',
] as const;

export const MODEL_TYPES = [
  'PD',
  'LGD',
  'EAD',
  'Application Scorecard',
  'Behavioural Scorecard',
  'Fraud Detection',
  'Transaction Monitoring',
  'Pricing',
  'Prepayment',
  'Stress Testing',
  'Liquidity Forecast',
  'Churn Propensity',
  'IFRS 9 Staging',
  'Collections Prioritisation',
] as const;

export const FIRST_NAMES = [
  'ana',
  'ben',
  'chen',
  'dara',
  'elif',
  'farid',
  'grace',
  'hiro',
  'ines',
  'jonas',
  'kofi',
  'lena',
  'marta',
  'nikhil',
  'olga',
  'pedro',
  'qi',
  'rosa',
  'sami',
  'tomas',
  'uma',
  'victor',
  'wen',
  'ximena',
  'yusuf',
  'zoe',
  'amara',
  'bruno',
  'carla',
  'deniz',
] as const;

export const LAST_NAMES = [
  'silva',
  'okafor',
  'nguyen',
  'schmidt',
  'rossi',
  'tanaka',
  'kowalski',
  'haddad',
  'garcia',
  'smith',
  'andersen',
  'mensah',
  'patel',
  'ivanova',
  'murphy',
  'dubois',
  'kim',
  'moreau',
  'yilmaz',
  'costa',
] as const;
