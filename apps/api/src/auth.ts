// `Authorization: Bearer <key>` → the caller (its owner and scopes), then the per-key rate
// limit, then the scope check: 401 without a valid key, 429 past the limit, 403 without the
// scope. `admin` holds every scope and sees every owner's jobs; other keys see only their own.
//
// Unknown keys are throttled per client address before any lookup: an address that presented
// more unknown (or revoked) keys than `unknownKeys` allows is answered 429 at once, so a flood
// of random keys costs no query past the first burst. Known keys never spend that budget.
//
// Found keys are cached in process for `cacheTtlMs` (default 5 s) so that a hot client costs no
// key lookup per request; a revocation therefore takes effect within that time. Requests that
// present one key while it is being looked up share that lookup. Unknown keys are never cached
// (a flood of random keys would only fill memory). `last_used_at` is written at most once a
// minute per key, off the request's path.
import type { Db } from '@offload/db';
import type { JobKind } from '@offload/jobs';
import type { Logger } from '@offload/observability';
import type { RequestHandler } from 'express';
import { type ApiKeyRecord, findActiveApiKey, hashApiKey, type Scope, touchApiKey } from './api-keys.ts';
import { HttpProblem, PROBLEM_TYPES } from './problem.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { RequestContext } from './request-context.ts';

export interface Principal {
  keyId: number;
  owner: string;
  scopes: ReadonlySet<Scope>;
  isAdmin: boolean;
}

export interface AuthenticatorOptions {
  db: Db;
  logger: Logger;
  cacheTtlMs?: number;
  /** Per client address: unknown keys it may present before it is refused without a lookup. */
  unknownKeys?: RateLimiter;
  now?: () => number;
}

/** The answer for a key: its caller, null when unknown, or how long the address must wait. */
export type Authentication = Principal | null | { throttledForSeconds: number };

const TOUCH_EVERY_MS = 60_000;
const MAX_CACHED = 10_000;

export class Authenticator {
  readonly #db: Db;
  readonly #logger: Logger;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #unknownKeys: RateLimiter | undefined;
  readonly #cache = new Map<string, { principal: Principal; expiresMs: number }>();
  readonly #touched = new Map<number, number>();
  readonly #lookups = new Map<string, Promise<ApiKeyRecord | undefined>>();

  constructor(options: AuthenticatorOptions) {
    this.#db = options.db;
    this.#logger = options.logger;
    this.#ttlMs = options.cacheTtlMs ?? 5000;
    this.#now = options.now ?? Date.now;
    this.#unknownKeys = options.unknownKeys;
  }

  /**
   * The caller holding `key`, or null for an unknown or revoked key; from `client` (its address),
   * `{ throttledForSeconds }` once it has presented too many unknown keys, without a lookup.
   * `client` may be a function, called only when the key is not cached: working out a request's
   * address through the trusted proxies cost a cached request more than the key check itself.
   */
  async authenticate(key: string, client?: string | (() => string | undefined)): Promise<Authentication> {
    const hash = hashApiKey(key);
    const now = this.#now();
    const hit = this.#cached(hash, now);
    if (hit !== undefined) return hit;
    // Requests presenting one key while it is being looked up share that lookup: one query when a
    // hot key's cache entry runs out, and one token of the address's unknown-key budget. The token
    // is taken before the lookup and given back when the key is known (or the lookup fails): taken
    // only once a key proved unknown, every request in flight meanwhile would pass an address that
    // has no token left.
    let lookup = this.#lookups.get(hash);
    if (lookup === undefined) {
      const address = typeof client === 'function' ? client() : client;
      const gate = address === undefined ? undefined : this.#unknownKeys;
      const gateKey = `unknown:${address}`;
      if (gate !== undefined) {
        const decision = gate.take(gateKey);
        if (!decision.allowed) return { throttledForSeconds: decision.retryAfterSeconds };
      }
      lookup = findActiveApiKey(this.#db, hash)
        .then(
          (record) => {
            if (record !== undefined) gate?.refund(gateKey);
            return record;
          },
          (error: unknown) => {
            gate?.refund(gateKey);
            throw error;
          },
        )
        .finally(() => this.#lookups.delete(hash));
      this.#lookups.set(hash, lookup);
    }
    const record = await lookup;
    if (record === undefined) {
      this.#cache.delete(hash);
      return null;
    }
    const principal = toPrincipal(record);
    if (this.#ttlMs > 0) {
      if (this.#cache.size >= MAX_CACHED) this.#cache.clear();
      this.#cache.set(hash, { principal, expiresMs: now + this.#ttlMs });
    }
    this.#touch(record.id, now);
    return principal;
  }

  /**
   * The caller holding `key` when this process has it cached, else undefined: no lookup, no
   * promise (the hot reads' short path; anything else goes through `authenticate`).
   */
  cached(key: string): Principal | undefined {
    return this.#cached(hashApiKey(key), this.#now());
  }

  #cached(hash: string, now: number): Principal | undefined {
    const cached = this.#cache.get(hash);
    if (cached === undefined || cached.expiresMs <= now) return undefined;
    this.#touch(cached.principal.keyId, now);
    return cached.principal;
  }

  #touch(keyId: number, now: number): void {
    const last = this.#touched.get(keyId);
    if (last !== undefined && now - last < TOUCH_EVERY_MS) return;
    this.#touched.set(keyId, now);
    touchApiKey(this.#db, keyId, new Date(now)).catch((error: unknown) => {
      this.#logger.warn({ err: error, keyId }, 'could not record the API key as used');
    });
  }
}

function toPrincipal(record: ApiKeyRecord): Principal {
  const scopes = new Set<Scope>(record.scopes);
  return { keyId: record.id, owner: record.owner, scopes, isAdmin: scopes.has('admin') };
}

export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.isAdmin || principal.scopes.has(scope);
}

export interface GuardDeps {
  authenticator: Authenticator;
  rateLimiter: RateLimiter;
  onRateLimited?: () => void;
}

/**
 * 403 unless `principal` may start jobs of `kind`: its catalog scope (`admin` holds every scope),
 * and never a kind the catalog keeps for the system's own schedules and triggers.
 */
export function assertMayStart(principal: Principal, kind: Pick<JobKind, 'name' | 'startScope'>): void {
  if (kind.startScope === null) {
    throw new HttpProblem(403, `No API key may start ${kind.name} jobs; the system sends them.`);
  }
  if (!hasScope(principal, kind.startScope)) {
    throw new HttpProblem(403, `Starting ${kind.name} jobs needs the ${kind.startScope} scope.`);
  }
}

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/** The key of an `Authorization: Bearer <key>` header; undefined when there is none or it is not one. */
export function bearerKey(header: string | undefined): string | undefined {
  return header === undefined ? undefined : BEARER.exec(header)?.[1];
}

/** A key's rate-limit bucket. */
export const rateBucket = (principal: Principal): string => `key:${principal.keyId}`;

/** The guard every /v1 route but the OpenAPI document starts with. */
export function requireScope(deps: GuardDeps, scope: Scope): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    if (header === undefined)
      throw unauthorized('This endpoint needs an API key: Authorization: Bearer <key>.');
    const key = bearerKey(header);
    if (key === undefined) throw unauthorized('The Authorization header must be `Bearer <key>`.');
    const principal = await deps.authenticator.authenticate(key, () => req.ip ?? req.socket.remoteAddress);
    if (principal === null) throw unauthorized('The API key is unknown or revoked.');
    if ('throttledForSeconds' in principal) {
      deps.onRateLimited?.();
      throw rateLimited(
        `This address presented too many unknown API keys; retry in ${principal.throttledForSeconds} s.`,
        principal.throttledForSeconds,
      );
    }
    const context = res.locals.context as RequestContext | undefined;
    if (context !== undefined) context.principal = principal;
    res.locals.principal = principal;

    const decision = deps.rateLimiter.take(rateBucket(principal));
    if (!decision.allowed) {
      deps.onRateLimited?.();
      throw rateLimited(
        `This API key is over its rate limit; retry in ${decision.retryAfterSeconds} s.`,
        decision.retryAfterSeconds,
      );
    }
    if (!hasScope(principal, scope)) {
      throw new HttpProblem(403, `This API key lacks the ${scope} scope.`);
    }
    next();
  };
}

function rateLimited(detail: string, retryAfterSeconds: number): HttpProblem {
  return new HttpProblem(429, detail, {
    type: PROBLEM_TYPES.rateLimited,
    headers: { 'Retry-After': String(retryAfterSeconds) },
  });
}

function unauthorized(detail: string): HttpProblem {
  return new HttpProblem(401, detail, { headers: { 'WWW-Authenticate': 'Bearer realm="offload"' } });
}
