// Insert normalisation, once for both drivers: every send (the API, triggers, schedules, cron
// ticks, imports, metric sources, scripts) passes through `normalizeInsert`, which validates the
// options with one rule each, fills what the caller left out from the kind's defaults (the job
// catalog's, through the resolver the queue was built with) and then from the queue's own, and
// serialises the payload and meta once. A driver receives the JSON text and stores it as it is.

import type { BackoffOptions, JobInsertParams, JsonObject } from '../types.ts';
import { DEFAULT_BACKOFF } from './backoff.ts';

/** The options a kind may default (the job catalog's `JobDefaults` has this shape). */
export interface KindDefaults {
  priority?: number;
  maxAttempts?: number;
  backoff?: BackoffOptions;
  leaseSeconds?: number;
}

/** The defaults of a kind, or undefined for a kind it does not know (the queue's then apply). */
export type KindDefaultsResolver = (kind: string) => KindDefaults | undefined;

export const DEFAULT_PRIORITY = 0;
export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_LEASE_SECONDS = 30;

/**
 * The one rule for a kind's name: what pg-boss accepts as a queue name (its assertObjectName),
 * so a kind valid on SQLite is valid on PostgreSQL and a database can be copied between them.
 */
const KIND = /^[\w.\-/]{1,200}$/;

/** A send whose options are validated and complete, with its payload and meta as JSON text. */
export interface NormalizedInsert {
  kind: string;
  /** The payload's JSON text (`null` for an undefined payload). */
  payloadJson: string;
  priority: number;
  maxAttempts: number;
  backoff: BackoffOptions;
  /** Whole seconds, at least 1. */
  leaseSeconds: number;
  /** ISO-8601 UTC with milliseconds, or null for "now" (the driver's insert instant). */
  runAt: string | null;
  idempotencyKey: string | null;
  owner: string | null;
  meta: JsonObject;
  /** The meta's JSON text (`{}` when there is none). */
  metaJson: string;
}

export function isKindName(value: unknown): value is string {
  return typeof value === 'string' && KIND.test(value);
}

/** Validates `params` (a TypeError names the bad option) and fills its defaults. */
export function normalizeInsert(
  params: JobInsertParams<unknown>,
  resolve?: KindDefaultsResolver,
): NormalizedInsert {
  const { kind } = params;
  if (!isKindName(kind)) {
    throw new TypeError(
      `kind must be 1 to 200 letters, digits, '_', '.', '-' or '/' (got ${JSON.stringify(kind)})`,
    );
  }
  const defaults = resolve?.(kind) ?? {};
  const priority = params.priority ?? defaults.priority ?? DEFAULT_PRIORITY;
  if (!Number.isSafeInteger(priority)) throw new TypeError(`priority must be an integer (got ${priority})`);
  const maxAttempts = params.maxAttempts ?? defaults.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw new TypeError(`maxAttempts must be an integer of at least 1 (got ${maxAttempts})`);
  }
  const backoff = params.backoff ?? defaults.backoff ?? DEFAULT_BACKOFF;
  if (
    typeof backoff !== 'object' ||
    backoff === null ||
    !(Number.isFinite(backoff.baseMs) && backoff.baseMs >= 0) ||
    !(Number.isFinite(backoff.maxMs) && backoff.maxMs >= 0)
  ) {
    throw new TypeError(
      `backoff must have finite, non-negative baseMs and maxMs (got ${JSON.stringify(backoff)})`,
    );
  }
  // Whole seconds: PostgreSQL's lease column (pg-boss's heartbeat_seconds) is an integer.
  const leaseSeconds = params.leaseSeconds ?? defaults.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  if (!Number.isSafeInteger(leaseSeconds) || leaseSeconds < 1) {
    throw new TypeError(`leaseSeconds must be a whole number of seconds, at least 1 (got ${leaseSeconds})`);
  }
  const idempotencyKey = params.idempotencyKey ?? null;
  if (idempotencyKey !== null && typeof idempotencyKey !== 'string') {
    throw new TypeError('idempotencyKey must be a string');
  }
  const owner = params.owner ?? null;
  if (owner !== null && typeof owner !== 'string') throw new TypeError('owner must be a string');
  const meta = params.meta ?? {};
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    throw new TypeError('meta must be an object');
  }
  return {
    kind,
    payloadJson: JSON.stringify(params.payload === undefined ? null : params.payload),
    priority,
    maxAttempts,
    backoff: { baseMs: Math.round(backoff.baseMs), maxMs: Math.round(backoff.maxMs) },
    leaseSeconds,
    runAt: params.runAt === undefined ? null : isoInstant(params.runAt, 'runAt'),
    idempotencyKey,
    owner,
    meta,
    metaJson: JSON.stringify(meta),
  };
}

/** An instant given as text, normalized to ISO-8601 UTC with milliseconds. */
export function isoInstant(value: string, name: string): string {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms))
    throw new TypeError(`${name} must be an ISO-8601 instant (got ${JSON.stringify(value)})`);
  return new Date(ms).toISOString();
}
