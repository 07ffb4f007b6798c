// collect.metrics' configuration, read once at worker start-up from the environment; a bad value
// fails fast with a ConfigError naming the variable.
//
//   COLLECT_TIMEOUT_MS               the whole fetch, headers to last byte, may take this long (60000)
//   COLLECT_MAX_BYTES                a source longer than this fails the attempt (104857600)
//   COLLECT_ALLOW_PRIVATE_NETWORKS   true lets sources resolve to private, loopback and
//                                    link-local addresses (false: refused, see safe-fetch.ts)
//   COLLECT_BATCH_ROWS               observations per insert (1000)
import { booleanSetting, ConfigError, type ConfigIssue, numberSetting } from '@offload/config';

export interface CollectSettings {
  timeoutMs: number;
  maxBytes: number;
  allowPrivateNetworks: boolean;
  batchRows: number;
}

export const DEFAULT_COLLECT_SETTINGS: CollectSettings = Object.freeze({
  timeoutMs: 60_000,
  maxBytes: 100 * 1024 * 1024,
  allowPrivateNetworks: false,
  batchRows: 1000,
});

export function loadCollectSettings(env: NodeJS.ProcessEnv): CollectSettings {
  const issues: ConfigIssue[] = [];
  const d = DEFAULT_COLLECT_SETTINGS;
  const settings: CollectSettings = {
    timeoutMs: numberSetting(
      env,
      'COLLECT_TIMEOUT_MS',
      d.timeoutMs,
      { min: 1, max: 3_600_000, integer: true },
      issues,
    ),
    maxBytes: numberSetting(
      env,
      'COLLECT_MAX_BYTES',
      d.maxBytes,
      { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true },
      issues,
    ),
    allowPrivateNetworks: booleanSetting(
      env,
      'COLLECT_ALLOW_PRIVATE_NETWORKS',
      d.allowPrivateNetworks,
      issues,
    ),
    batchRows: numberSetting(
      env,
      'COLLECT_BATCH_ROWS',
      d.batchRows,
      { min: 1, max: 10_000, integer: true },
      issues,
    ),
  };
  if (issues.length > 0) throw new ConfigError(issues);
  return settings;
}
