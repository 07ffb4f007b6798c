// analyze.health's configuration, read once at worker start-up from the environment. A bad value
// fails fast with a ConfigError naming the variable, the allowed values and what was given.
//
//   HEALTH_PSI_WARN / HEALTH_PSI_ALERT   PSI at or above which a metric warns / alerts (0.1 / 0.25)
//   HEALTH_Z_WARN / HEALTH_Z_ALERT       |z| of the latest point at or above which it warns / alerts (2 / 3)
//   HEALTH_BASELINE_DAYS                 baseline window length, before the recent window (182)
//   HEALTH_RECENT_DAYS                   recent window length, ending at the run's asOf (56)
//   HEALTH_PSI_BINS                      bins cut at the baseline's quantiles (10)
//   HEALTH_PSI_MIN_BIN_POINTS            fewer bins when the recent window cannot give each this
//                                        many points; below two bins no PSI, the z-score decides (5)
//   HEALTH_MIN_BASELINE_POINTS           fewer baseline points leave a metric unanalysed (5)
//   HEALTH_BATCH_MODELS                  models per read, pool task and write (500)
import { ConfigError, type ConfigIssue, type NumberRule, numberSetting } from '@offload/config';
import type { HealthThresholds } from './math.ts';

/** An empty bin's share in the PSI sum, so that ln(r / b) stays finite. */
export const PSI_EPSILON = 1e-4;

export interface HealthSettings {
  thresholds: HealthThresholds;
  baselineDays: number;
  recentDays: number;
  bins: number;
  minBinPoints: number;
  minBaselinePoints: number;
  batchModels: number;
}

export const DEFAULT_HEALTH_SETTINGS: HealthSettings = Object.freeze({
  thresholds: Object.freeze({ psiWarn: 0.1, psiAlert: 0.25, zWarn: 2, zAlert: 3 }),
  baselineDays: 182,
  recentDays: 56,
  bins: 10,
  minBinPoints: 5,
  minBaselinePoints: 5,
  batchModels: 500,
});

export function loadHealthSettings(env: NodeJS.ProcessEnv): HealthSettings {
  const issues: ConfigIssue[] = [];
  const d = DEFAULT_HEALTH_SETTINGS;
  const read = (variable: string, fallback: number, rule: NumberRule) =>
    numberSetting(env, variable, fallback, rule, issues);
  const decimal = { min: 0, max: 1_000_000, integer: false };
  const thresholds = {
    psiWarn: read('HEALTH_PSI_WARN', d.thresholds.psiWarn, decimal),
    psiAlert: read('HEALTH_PSI_ALERT', d.thresholds.psiAlert, decimal),
    zWarn: read('HEALTH_Z_WARN', d.thresholds.zWarn, decimal),
    zAlert: read('HEALTH_Z_ALERT', d.thresholds.zAlert, decimal),
  };
  const settings: HealthSettings = {
    thresholds,
    baselineDays: read('HEALTH_BASELINE_DAYS', d.baselineDays, { min: 1, max: 3660, integer: true }),
    recentDays: read('HEALTH_RECENT_DAYS', d.recentDays, { min: 1, max: 3660, integer: true }),
    bins: read('HEALTH_PSI_BINS', d.bins, { min: 2, max: 100, integer: true }),
    minBinPoints: read('HEALTH_PSI_MIN_BIN_POINTS', d.minBinPoints, { min: 1, max: 1000, integer: true }),
    minBaselinePoints: read('HEALTH_MIN_BASELINE_POINTS', d.minBaselinePoints, {
      min: 2,
      max: 1_000_000,
      integer: true,
    }),
    batchModels: read('HEALTH_BATCH_MODELS', d.batchModels, { min: 1, max: 10_000, integer: true }),
  };
  for (const [measure, warn, alert] of [
    ['PSI', 'psiWarn', 'psiAlert'],
    ['Z', 'zWarn', 'zAlert'],
  ] as const) {
    if (issues.length === 0 && thresholds[warn] >= thresholds[alert]) {
      issues.push({
        variable: `HEALTH_${measure}_WARN`,
        message: `HEALTH_${measure}_WARN must be below HEALTH_${measure}_ALERT (got ${thresholds[warn]} and ${thresholds[alert]})`,
      });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return settings;
}
