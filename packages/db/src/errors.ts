// One error vocabulary for both databases. Callers (the API's problem+json mapper, job
// handlers, withRetry) look only at these classes, never at SQLite codes or SQLSTATEs.

/** A row the caller named does not exist (thrown by repositories; the API answers 404). */
export class NotFoundError extends Error {
  readonly entity: string;
  readonly key: unknown;

  constructor(entity: string, key: unknown, options?: ErrorOptions) {
    super(`${entity} ${JSON.stringify(key)} not found`, options);
    this.name = 'NotFoundError';
    this.entity = entity;
    this.key = key;
  }
}

export type ConflictKind = 'unique' | 'foreign_key' | 'check' | 'not_null' | 'exclusion';

/**
 * A write broke a constraint (the API answers 409). `constraint` is the constraint's name in
 * PostgreSQL; SQLite reports the columns of a unique/not-null violation (`models.external_id`),
 * the name of a named CHECK, and nothing for a foreign key.
 */
export class ConflictError extends Error {
  readonly kind: ConflictKind;
  readonly constraint: string | undefined;

  constructor(kind: ConflictKind, constraint: string | undefined, options?: ErrorOptions) {
    const what = kind.replace('_', ' ');
    super(constraint === undefined ? `${what} violation` : `${what} violation on ${constraint}`, options);
    this.name = 'ConflictError';
    this.kind = kind;
    this.constraint = constraint;
  }
}

/**
 * The same operation may succeed if tried again: lock contention, a serialization failure, a
 * lost or refused connection, a full pool. `withRetry` retries exactly these.
 */
export class TransientError extends Error {
  /** The driver's code (`SQLITE_BUSY`, `40001`, `ECONNRESET`…) when there was one. */
  readonly code: string | undefined;

  constructor(message: string, code: string | undefined, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TransientError';
    this.code = code;
  }
}

const PG_CONFLICTS: Record<string, ConflictKind> = {
  '23505': 'unique',
  '23503': 'foreign_key',
  '23514': 'check',
  '23502': 'not_null',
  '23P01': 'exclusion',
};

const SQLITE_CONFLICTS: Record<string, ConflictKind> = {
  SQLITE_CONSTRAINT_UNIQUE: 'unique',
  SQLITE_CONSTRAINT_PRIMARYKEY: 'unique',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'foreign_key',
  SQLITE_CONSTRAINT_CHECK: 'check',
  SQLITE_CONSTRAINT_NOTNULL: 'not_null',
};

const PG_TRANSIENT = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '53300', // too_many_connections
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
]);

const NETWORK_TRANSIENT = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

// pg reports a socket closed under it by message only.
const TRANSIENT_MESSAGE =
  /Connection terminated|Client has encountered a connection error|terminating connection|Timeout acquiring a connection/i;

interface DriverError {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  constraint?: unknown;
  cause?: unknown;
}

/**
 * Maps a driver error to NotFound/Conflict/Transient; anything else is returned unchanged (a
 * non-Error is wrapped). Idempotent. The original error is kept as `cause`.
 */
export function toDbError(err: unknown): Error {
  if (err instanceof NotFoundError || err instanceof ConflictError || err instanceof TransientError) {
    return err;
  }
  // Pool and connect failures arrive wrapped (KnexTimeoutError's cause, AggregateError).
  for (const candidate of chain(err)) {
    const mapped = mapOne(candidate, err);
    if (mapped !== undefined) return mapped;
  }
  return err instanceof Error ? err : new Error(String(err));
}

export function isTransientError(err: unknown): boolean {
  return toDbError(err) instanceof TransientError;
}

function mapOne(candidate: DriverError, original: unknown): Error | undefined {
  const code = typeof candidate.code === 'string' ? candidate.code : undefined;
  const message = typeof candidate.message === 'string' ? candidate.message : '';
  const options = { cause: original };

  if (code !== undefined) {
    const pgConflict = PG_CONFLICTS[code];
    if (pgConflict !== undefined) {
      const constraint = typeof candidate.constraint === 'string' ? candidate.constraint : undefined;
      return new ConflictError(pgConflict, constraint, options);
    }
    const sqliteConflict = SQLITE_CONFLICTS[code];
    if (sqliteConflict !== undefined) {
      return new ConflictError(sqliteConflict, sqliteConstraint(message), options);
    }
    if (
      PG_TRANSIENT.has(code) ||
      code.startsWith('08') || // connection_exception class
      code.startsWith('SQLITE_BUSY') ||
      code.startsWith('SQLITE_LOCKED') ||
      NETWORK_TRANSIENT.has(code)
    ) {
      return new TransientError(transientMessage(code, message), code, options);
    }
  }
  if (candidate.name === 'KnexTimeoutError' || TRANSIENT_MESSAGE.test(message)) {
    return new TransientError(transientMessage(code, message), code, options);
  }
  return undefined;
}

/** `UNIQUE constraint failed: models.external_id` → `models.external_id`. */
function sqliteConstraint(message: string): string | undefined {
  const match = /constraint failed: (.+)$/.exec(message);
  return match?.[1];
}

function transientMessage(code: string | undefined, message: string): string {
  // knex prefixes the SQL (`select … - deadlock detected`): keep only the driver's words.
  const tail = message.includes(' - ') ? message.slice(message.lastIndexOf(' - ') + 3) : message;
  return `transient database error${code === undefined ? '' : ` ${code}`}: ${tail}`;
}

function* chain(err: unknown): Generator<DriverError> {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth += 1) {
    yield current as DriverError;
    if (current instanceof AggregateError) {
      for (const inner of current.errors) {
        if (inner !== null && typeof inner === 'object') yield inner as DriverError;
      }
    }
    current = (current as DriverError).cause;
  }
}
