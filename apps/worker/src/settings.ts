// Worker settings that @offload/config does not carry yet (the config package owns the
// environment; these move there once it grows the fields). The rules are the same: read once
// at start-up, and a bad or unknown variable fails fast with a ConfigError naming it.
//
//   WORKER_CONCURRENCY_<KIND>     a ceiling for one kind, below WORKER_CONCURRENCY; 0 = do not
//                                 run that kind in this process. <KIND> is the kind upper-cased,
//                                 each run of other characters turned into `_`
//                                 (system.echo → WORKER_CONCURRENCY_SYSTEM_ECHO).
//   WORKER_SHUTDOWN_TIMEOUT_MS    how long SIGTERM waits for running jobs before releasing
//                                 them to other workers. Default 30000.
import { ConfigError, type ConfigIssue } from '@offload/config';

const KIND_PREFIX = 'WORKER_CONCURRENCY_';
const MAX_CONCURRENCY = 1000;
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;
const MAX_SHUTDOWN_TIMEOUT_MS = 3_600_000;

export interface WorkerSettings {
  /** Per-kind ceilings that were set; kinds without one share WORKER_CONCURRENCY. */
  kindConcurrency: ReadonlyMap<string, number>;
  shutdownTimeoutMs: number;
}

export function concurrencyVariable(kind: string): string {
  return KIND_PREFIX + kind.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

export function loadWorkerSettings(env: NodeJS.ProcessEnv, kinds: readonly string[]): WorkerSettings {
  const issues: ConfigIssue[] = [];
  const kindConcurrency = parseKindConcurrency(env, kinds, issues);
  const shutdownTimeoutMs = integer(
    env,
    'WORKER_SHUTDOWN_TIMEOUT_MS',
    0,
    MAX_SHUTDOWN_TIMEOUT_MS,
    DEFAULT_SHUTDOWN_TIMEOUT_MS,
    issues,
  );
  if (issues.length > 0) throw new ConfigError(issues);
  return { kindConcurrency, shutdownTimeoutMs };
}

function parseKindConcurrency(env: NodeJS.ProcessEnv, kinds: readonly string[], issues: ConfigIssue[]) {
  const byVariable = new Map(kinds.map((kind) => [concurrencyVariable(kind), kind]));
  const overrides = new Map<string, number>();
  for (const variable of Object.keys(env)) {
    if (!variable.startsWith(KIND_PREFIX) || isUnset(env[variable])) continue;
    const kind = byVariable.get(variable);
    if (kind === undefined) {
      const known = [...byVariable.keys()].join(', ');
      issues.push({ variable, message: `${variable} names no job kind (known: ${known})` });
      continue;
    }
    const value = integer(env, variable, 0, MAX_CONCURRENCY, 0, issues, `, 0 to not run ${kind} here`);
    overrides.set(kind, value);
  }
  return overrides;
}

function integer(
  env: NodeJS.ProcessEnv,
  variable: string,
  min: number,
  max: number,
  fallback: number,
  issues: ConfigIssue[],
  hint = '',
): number {
  const raw = env[variable];
  if (isUnset(raw)) return fallback;
  const text = raw!.trim();
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isSafeInteger(value) && value >= min && value <= max) return value;
  issues.push({
    variable,
    message: `${variable} must be an integer from ${min} to ${max}${hint} (got ${JSON.stringify(raw)})`,
  });
  return fallback;
}

// An empty value counts as unset, as in @offload/config (compose and systemd write `X=`).
function isUnset(raw: string | undefined): boolean {
  return raw === undefined || raw.trim() === '';
}
