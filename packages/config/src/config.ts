import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { type DatabaseTarget, parseDatabaseUrl, redactUrl } from './database-url.ts';
import { ConfigError, type ConfigIssue } from './errors.ts';
import { isSet, numberSetting } from './settings.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  /** DATABASE_URL as given; use `database` to connect and `redactUrl` to log it. */
  readonly databaseUrl: string;
  readonly database: DatabaseTarget;
  readonly databasePoolMax: number;
  readonly port: number;
  readonly apiProcesses: number;
  /** When set, an admin API key with this value exists after start-up. */
  readonly apiBootstrapKey: string | undefined;
  readonly workerConcurrency: number;
  readonly workerThreads: number;
  readonly workerPort: number;
  readonly logLevel: LogLevel;
  readonly logSlowRequestMs: number;
  readonly maxUploadBytes: number;
  /** JOB_RUN_AT_HORIZON_DAYS: how far ahead a submitted job's runAt may lie. */
  readonly jobRunAtHorizonDays: number;
  readonly cacheTtlSeconds: number;
  // --- read cache (packages/cache) ---
  /** CACHE_TTL_<FAMILY>_SECONDS: L1 TTLs that override CACHE_TTL_SECONDS, by lower-case family name. */
  readonly cacheTtlByFamily: Readonly<Record<string, number>>;
  /** CACHE_VERSION_CHECK_MS: how often a process without LISTEN (SQLite) re-reads cache versions. */
  readonly cacheVersionCheckMs: number;
  // --- end read cache ---
  readonly testDatabaseUrl: string;
  /**
   * CURSOR_SECRET: signs pagination cursors. Every API process of one deployment must agree on
   * it, so when unset the API uses a random secret kept in the database (deploymentCursorSecret).
   */
  readonly cursorSecret: string | undefined;
}

const GIB = 1024 ** 3;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Shown instead of secrets: enough to tell "empty" from "too short" without leaking them. */
const redactSecret = (raw: string): string => `<redacted, ${raw.length} characters>`;
const quote = (raw: string): string => JSON.stringify(raw);

// Each variable is a string-or-undefined schema that yields its typed value. An empty string
// counts as unset, as docker-compose and systemd write `PORT=` for "no value".
function variable<T>(
  name: string,
  fallback: () => T,
  parse: (text: string) => { ok: true; value: T } | { ok: false; allowed: string; shown?: string },
) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return fallback();
      const result = parse(raw.trim());
      if (result.ok) return result.value;
      ctx.issues.push({
        code: 'custom',
        input: raw,
        message: `${name} must be ${result.allowed} (got ${result.shown ?? quote(raw)})`,
      });
      return z.NEVER;
    });
}

function integer(name: string, min: number, max: number, fallback: () => number) {
  return variable(name, fallback, (text) => {
    const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (Number.isSafeInteger(value) && value >= min && value <= max) return { ok: true, value };
    return { ok: false, allowed: `an integer from ${min} to ${max}` };
  });
}

function postgresUrl(name: string, fallback: string) {
  return variable(
    name,
    () => fallback,
    (text) => {
      try {
        const target = parseDatabaseUrl(text, name);
        if (target.kind === 'postgres') return { ok: true, value: target.url };
      } catch {}
      return { ok: false, allowed: 'a postgres://… URL', shown: quote(redactUrl(text)) };
    },
  );
}

const DEFAULT_DATABASE_URL = 'sqlite:./data/offload.db';
const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

const schema = z.object({
  DATABASE_URL: variable(
    'DATABASE_URL',
    () => DEFAULT_DATABASE_URL,
    (text) => {
      try {
        parseDatabaseUrl(text);
        return { ok: true, value: text };
      } catch {
        return {
          ok: false,
          allowed: 'sqlite:<path> or postgres://user:password@host:port/database',
          shown: quote(redactUrl(text)),
        };
      }
    },
  ),
  DATABASE_POOL_MAX: integer('DATABASE_POOL_MAX', 1, 1000, () => 10),
  PORT: integer('PORT', 1, 65535, () => 3000),
  API_PROCESSES: integer('API_PROCESSES', 1, 256, () => 1),
  API_BOOTSTRAP_KEY: variable<string | undefined>(
    'API_BOOTSTRAP_KEY',
    () => undefined,
    (text) =>
      text.length >= 16 && !/\s/.test(text)
        ? { ok: true, value: text }
        : { ok: false, allowed: 'at least 16 characters without spaces', shown: redactSecret(text) },
  ),
  WORKER_CONCURRENCY: integer('WORKER_CONCURRENCY', 1, 1000, () => 4),
  WORKER_THREADS: integer('WORKER_THREADS', 1, 256, () => Math.max(1, availableParallelism() - 1)),
  WORKER_PORT: integer('WORKER_PORT', 1, 65535, () => 3001),
  LOG_LEVEL: variable<LogLevel>(
    'LOG_LEVEL',
    () => 'info',
    (text) =>
      (LOG_LEVELS as readonly string[]).includes(text)
        ? { ok: true, value: text as LogLevel }
        : { ok: false, allowed: `one of ${LOG_LEVELS.join(', ')}` },
  ),
  LOG_SLOW_REQUEST_MS: integer('LOG_SLOW_REQUEST_MS', 0, 86_400_000, () => 500),
  MAX_UPLOAD_BYTES: integer('MAX_UPLOAD_BYTES', 1, MAX_SAFE, () => GIB),
  JOB_RUN_AT_HORIZON_DAYS: integer('JOB_RUN_AT_HORIZON_DAYS', 1, 36_500, () => 365),
  CACHE_TTL_SECONDS: integer('CACHE_TTL_SECONDS', 0, 604_800, () => 30),
  CACHE_VERSION_CHECK_MS: integer('CACHE_VERSION_CHECK_MS', 0, 60_000, () => 250),
  TEST_DATABASE_URL: postgresUrl('TEST_DATABASE_URL', DEFAULT_TEST_DATABASE_URL),
  CURSOR_SECRET: variable<string | undefined>(
    'CURSOR_SECRET',
    () => undefined,
    (text) =>
      text.length >= 16
        ? { ok: true, value: text }
        : { ok: false, allowed: 'at least 16 characters', shown: redactSecret(text) },
  ),
});

/**
 * Reads and validates every setting once, at start-up; pass the result down instead of reading
 * `process.env` elsewhere. Throws a `ConfigError` listing every bad variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  const ttlByFamily = cacheTtlOverrides(env);
  if (!parsed.success || ttlByFamily.issues.length > 0) {
    const issues: ConfigIssue[] = (parsed.error?.issues ?? []).map((issue) => ({
      variable: String(issue.path[0]),
      message: issue.message,
    }));
    throw new ConfigError([...issues, ...ttlByFamily.issues]);
  }
  const v = parsed.data;
  return Object.freeze({
    databaseUrl: v.DATABASE_URL,
    database: Object.freeze(parseDatabaseUrl(v.DATABASE_URL)),
    databasePoolMax: v.DATABASE_POOL_MAX,
    port: v.PORT,
    apiProcesses: v.API_PROCESSES,
    apiBootstrapKey: v.API_BOOTSTRAP_KEY,
    workerConcurrency: v.WORKER_CONCURRENCY,
    workerThreads: v.WORKER_THREADS,
    workerPort: v.WORKER_PORT,
    logLevel: v.LOG_LEVEL,
    logSlowRequestMs: v.LOG_SLOW_REQUEST_MS,
    maxUploadBytes: v.MAX_UPLOAD_BYTES,
    jobRunAtHorizonDays: v.JOB_RUN_AT_HORIZON_DAYS,
    cacheTtlSeconds: v.CACHE_TTL_SECONDS,
    cacheTtlByFamily: Object.freeze(ttlByFamily.values),
    cacheVersionCheckMs: v.CACHE_VERSION_CHECK_MS,
    testDatabaseUrl: v.TEST_DATABASE_URL,
    cursorSecret: v.CURSOR_SECRET,
  });
}

// --- read cache (packages/cache) ---
const CACHE_TTL_FAMILY = /^CACHE_TTL_([A-Z][A-Z0-9_]*)_SECONDS$/;
const MAX_CACHE_TTL_SECONDS = 604_800;

/**
 * Every CACHE_TTL_<FAMILY>_SECONDS variable (e.g. CACHE_TTL_KPI_SECONDS=60) as `{ kpi: 60 }`.
 * Family names are whatever the app caches; an override for a family it does not have is inert.
 */
function cacheTtlOverrides(env: NodeJS.ProcessEnv): {
  values: Record<string, number>;
  issues: ConfigIssue[];
} {
  const values: Record<string, number> = {};
  const issues: ConfigIssue[] = [];
  for (const [name, raw] of Object.entries(env)) {
    const match = CACHE_TTL_FAMILY.exec(name);
    if (match === null || !isSet(raw)) continue;
    const refused = issues.length;
    const value = numberSetting(env, name, 0, { min: 0, max: MAX_CACHE_TTL_SECONDS, integer: true }, issues);
    if (issues.length === refused) values[match[1]!.toLowerCase()] = value;
  }
  return { values, issues };
}
// --- end read cache ---
