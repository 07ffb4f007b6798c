// Readers for the settings a process keeps beside the shared Config: the API's rate limits, the
// worker's per-kind concurrency, HEALTH_* and COLLECT_*. Each loader reads its variables once at
// start-up with these, collects every bad value as a ConfigIssue (naming the variable, what it
// allows and what was given) and throws one ConfigError, as loadConfig does, so an operator
// fixes them all in one go. An empty value counts as unset, as docker-compose and systemd write
// `X=` for "no value".
import type { ConfigIssue } from './errors.ts';

/** Values are written without a sign: `min` is 0 or more. */
export interface NumberRule {
  min: number;
  max: number;
  integer: boolean;
  /** Said after the range in the message, e.g. `, 0 to not run it here`. */
  hint?: string;
}

/** Whether a variable holds a value: set and not blank. */
export function isSet(raw: string | undefined): raw is string {
  return raw !== undefined && raw.trim() !== '';
}

/** One numeric variable within `rule`; a bad value is recorded in `issues` and the fallback returned. */
export function numberSetting(
  env: NodeJS.ProcessEnv,
  variable: string,
  fallback: number,
  rule: NumberRule,
  issues: ConfigIssue[],
): number {
  const raw = env[variable];
  if (!isSet(raw)) return fallback;
  const text = raw.trim();
  const pattern = rule.integer ? /^\d+$/ : /^\d+(\.\d+)?$/;
  const value = pattern.test(text) ? Number(text) : Number.NaN;
  const whole = !rule.integer || Number.isSafeInteger(value);
  if (Number.isFinite(value) && whole && value >= rule.min && value <= rule.max) return value;
  const kind = rule.integer ? 'an integer' : 'a number';
  issues.push({
    variable,
    message: `${variable} must be ${kind} from ${rule.min} to ${rule.max}${rule.hint ?? ''} (got ${JSON.stringify(raw)})`,
  });
  return fallback;
}

/** One `true`/`false` variable (any case); anything else is recorded in `issues`. */
export function booleanSetting(
  env: NodeJS.ProcessEnv,
  variable: string,
  fallback: boolean,
  issues: ConfigIssue[],
): boolean {
  const raw = env[variable];
  if (!isSet(raw)) return fallback;
  const text = raw.trim().toLowerCase();
  if (text === 'true') return true;
  if (text === 'false') return false;
  issues.push({ variable, message: `${variable} must be true or false (got ${JSON.stringify(raw)})` });
  return fallback;
}
