// API settings that @offload/config does not carry yet (it owns the environment; these move
// there once it grows the fields). Same rules: read once at start-up, and a bad value fails fast
// with a ConfigError naming the variable and what it allows.
//
//   API_RATE_LIMIT_PER_SECOND   sustained requests per second per API key, per API process;
//                               0 turns rate limiting off. Default 100.
//   API_RATE_LIMIT_BURST        requests a key may send at once after being idle. Default 200.
//   API_KEY_CACHE_MS            how long a process trusts a key it looked up, so the time a
//                               revocation takes to bite. Default 5000; 0 looks up every request.
import { ConfigError, type ConfigIssue } from '@offload/config';

export interface ApiSettings {
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  keyCacheMs: number;
}

export const DEFAULT_API_SETTINGS: ApiSettings = Object.freeze({
  rateLimitPerSecond: 100,
  rateLimitBurst: 200,
  keyCacheMs: 5000,
});

export function loadApiSettings(env: NodeJS.ProcessEnv): ApiSettings {
  const issues: ConfigIssue[] = [];
  const settings: ApiSettings = {
    rateLimitPerSecond: integer(
      env,
      'API_RATE_LIMIT_PER_SECOND',
      0,
      1_000_000,
      DEFAULT_API_SETTINGS.rateLimitPerSecond,
      issues,
    ),
    rateLimitBurst: integer(
      env,
      'API_RATE_LIMIT_BURST',
      1,
      1_000_000,
      DEFAULT_API_SETTINGS.rateLimitBurst,
      issues,
    ),
    keyCacheMs: integer(env, 'API_KEY_CACHE_MS', 0, 3_600_000, DEFAULT_API_SETTINGS.keyCacheMs, issues),
  };
  if (issues.length > 0) throw new ConfigError(issues);
  return settings;
}

function integer(
  env: NodeJS.ProcessEnv,
  variable: string,
  min: number,
  max: number,
  fallback: number,
  issues: ConfigIssue[],
): number {
  const raw = env[variable];
  // An empty value counts as unset, as in @offload/config (compose and systemd write `X=`).
  if (raw === undefined || raw.trim() === '') return fallback;
  const text = raw.trim();
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isSafeInteger(value) && value >= min && value <= max) return value;
  issues.push({
    variable,
    message: `${variable} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`,
  });
  return fallback;
}
