// The worker process's own settings, beside the shared Config (they depend on the job kinds it
// runs): read once at start-up with @offload/config's readers, and a bad or unknown variable
// fails fast with a ConfigError naming it.
//
//   WORKER_CONCURRENCY_<KIND>     a ceiling for one kind, below WORKER_CONCURRENCY; 0 = do not
//                                 run that kind in this process. <KIND> is the kind upper-cased,
//                                 each run of other characters turned into `_`
//                                 (system.echo → WORKER_CONCURRENCY_SYSTEM_ECHO).
//   WORKER_SHUTDOWN_TIMEOUT_MS    how long SIGTERM waits for running jobs before releasing
//                                 them to other workers. Default 30000.
import { ConfigError, type ConfigIssue, isSet, numberSetting } from '@offload/config';

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
  const shutdownTimeoutMs = numberSetting(
    env,
    'WORKER_SHUTDOWN_TIMEOUT_MS',
    DEFAULT_SHUTDOWN_TIMEOUT_MS,
    { min: 0, max: MAX_SHUTDOWN_TIMEOUT_MS, integer: true },
    issues,
  );
  if (issues.length > 0) throw new ConfigError(issues);
  return { kindConcurrency, shutdownTimeoutMs };
}

function parseKindConcurrency(env: NodeJS.ProcessEnv, kinds: readonly string[], issues: ConfigIssue[]) {
  const byVariable = new Map(kinds.map((kind) => [concurrencyVariable(kind), kind]));
  const overrides = new Map<string, number>();
  for (const variable of Object.keys(env)) {
    if (!variable.startsWith(KIND_PREFIX) || !isSet(env[variable])) continue;
    const kind = byVariable.get(variable);
    if (kind === undefined) {
      const known = [...byVariable.keys()].join(', ');
      issues.push({ variable, message: `${variable} names no job kind (known: ${known})` });
      continue;
    }
    const value = numberSetting(
      env,
      variable,
      0,
      { min: 0, max: MAX_CONCURRENCY, integer: true, hint: `, 0 to not run ${kind} here` },
      issues,
    );
    overrides.set(kind, value);
  }
  return overrides;
}
