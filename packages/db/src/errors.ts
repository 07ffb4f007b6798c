// One error vocabulary for both databases. Callers (the API's problem+json mapper, job
// handlers, withRetry) look only at these classes, never at SQLite codes or SQLSTATEs.
//
// Classified once, here: a constraint violation (ConflictError) or a value the database cannot
// hold (DataError: SQLSTATE class 22, SQLITE_MISMATCH/RANGE/TOOBIG) is permanent, and so is any
// other error the database itself raised; a lost, refused or busy connection, a serialization
// failure, a deadlock, a lock or statement timeout, a full disk or exhausted memory
// (TransientError) may succeed if tried again. The lists behind it (below) are the project's one
// classifier: the queue's drivers (a lost connection retried on a new one, a busy SQLite file
// waited out, a refused row failing only its own send) and the worker use them too.
// `publicDbError` gives each class a stable code and message for callers; the driver's text,
// which can quote SQL, values, hosts and addresses, goes to the log only.

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

/**
 * A value the database cannot store or compare: out of its column's range, unstorable text (NUL),
 * an invalid date or number. Retrying cannot help.
 */
export class DataError extends Error {
  /** The driver's code (`22003`, `22021`, `SQLITE_MISMATCH`…). */
  readonly code: string;

  constructor(code: string, options?: ErrorOptions) {
    super(`the database refused a value (${code})`, options);
    this.name = 'DataError';
    this.code = code;
  }
}

/**
 * Any other error the database raised (a syntax error, an undefined column, a permission
 * denied): a fault of the statement, never of timing, so retrying cannot help either.
 */
export class DatabaseError extends Error {
  readonly code: string;

  constructor(code: string, options?: ErrorOptions) {
    super(`the database refused the statement (${code})`, options);
    this.name = 'DatabaseError';
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

const SQLITE_DATA = new Set(['SQLITE_MISMATCH', 'SQLITE_RANGE', 'SQLITE_TOOBIG']);
const PG_SQLSTATE = /^[0-9A-Z]{5}$/;

// ---- the one classifier --------------------------------------------------------------------------
// Explicit lists, used by toDbError below and, through the exports, by the queue's drivers and the
// worker (one classification for the database layer, the queue and the worker):
//
//   lost connection  the connection, not the statement, failed: the queue's PostgreSQL driver runs
//                    the statement again on a new connection (drivers/postgres/supervisor.ts),
//                    a LISTEN client reconnects;
//   contention       another writer holds what we need (SQLite's busy or locked file,
//                    serialization failures, deadlocks, lock timeouts): worth running again after a
//                    pause (the SQLite driver's connection.ts, withRetry);
//   resources        a full disk, exhausted memory, a cancelled statement, a database not yet
//                    accepting connections, a full pool: may be back on the next attempt;
//   refused data     the database refused this row's data (SQLSTATE classes 22 and 23, SQLite
//                    constraint and value codes): permanent, the error of that one item alone.
//
// Transient (TransientError) is the first three.

/** SQLSTATEs of a lost or refused connection (and every code of class 08, connection_exception). */
export const LOST_CONNECTION_SQLSTATES: ReadonlySet<string> = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
]);

/** Socket errors of a lost or refused connection. */
export const LOST_CONNECTION_ERRNOS: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** What pg says, by message only, when a socket closed under it or would not open. */
export const LOST_CONNECTION_MESSAGES: readonly string[] = [
  'Connection terminated',
  'terminating connection',
  'Client has encountered a connection error',
  'timeout exceeded when trying to connect',
  'Connection ended',
  'the database system is starting up',
  'the database system is shutting down',
];

/** SQLSTATEs of contention between writers (PostgreSQL); SQLite's are SQLITE_BUSY* and SQLITE_LOCKED*. */
export const CONTENTION_SQLSTATES: ReadonlySet<string> = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
]);

// Resources that may be back on the next attempt. (SQLITE_IOERR_* too.)
const RESOURCE_CODES: ReadonlySet<string> = new Set([
  '55000', // object_not_in_prerequisite_state: e.g. a database not accepting connections yet
  '53100', // disk_full
  '53200', // out_of_memory
  '57014', // query_canceled: statement_timeout, or cancelled by an operator
  'SQLITE_FULL',
  'SQLITE_NOMEM',
]);

// knex's pool, full for longer than its acquire timeout (also known by the name KnexTimeoutError).
const POOL_TIMEOUT_MESSAGE = 'Timeout acquiring a connection';

function codeOf(candidate: DriverError): string | undefined {
  return typeof candidate.code === 'string' ? candidate.code : undefined;
}

function messageOf(candidate: DriverError): string {
  return typeof candidate.message === 'string' ? candidate.message : '';
}

function lostConnection(candidate: DriverError): boolean {
  const code = codeOf(candidate);
  if (
    code !== undefined &&
    (LOST_CONNECTION_SQLSTATES.has(code) ||
      LOST_CONNECTION_ERRNOS.has(code) ||
      (code.startsWith('08') && PG_SQLSTATE.test(code)))
  ) {
    return true;
  }
  const message = messageOf(candidate);
  return LOST_CONNECTION_MESSAGES.some((m) => message.includes(m));
}

function contention(candidate: DriverError): boolean {
  const code = codeOf(candidate);
  return (
    code !== undefined &&
    (CONTENTION_SQLSTATES.has(code) || code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
  );
}

function resources(candidate: DriverError): boolean {
  const code = codeOf(candidate);
  if (code !== undefined && (RESOURCE_CODES.has(code) || code.startsWith('SQLITE_IOERR'))) return true;
  return candidate.name === 'KnexTimeoutError' || messageOf(candidate).includes(POOL_TIMEOUT_MESSAGE);
}

function refusedData(candidate: DriverError): boolean {
  const code = codeOf(candidate);
  if (code === undefined) return false;
  if ((code.startsWith('22') || code.startsWith('23')) && PG_SQLSTATE.test(code)) return true;
  return code.startsWith('SQLITE_CONSTRAINT') || SQLITE_DATA.has(code);
}

/** Whether `error` (or its cause, or one of an AggregateError's) means the connection was lost or refused. */
export function isLostConnection(error: unknown): boolean {
  return [...chain(error)].some(lostConnection);
}

/** Whether another writer holds what the statement needed (worth running again after a pause). */
export function isContention(error: unknown): boolean {
  return [...chain(error)].some(contention);
}

/** The database refused this item's data (a constraint or a value): permanent, and its own. */
export function isRefusedData(error: unknown): boolean {
  return [...chain(error)].some(refusedData);
}

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
  if (
    err instanceof NotFoundError ||
    err instanceof ConflictError ||
    err instanceof TransientError ||
    err instanceof DataError ||
    err instanceof DatabaseError
  ) {
    return err;
  }
  // Pool and connect failures arrive wrapped (KnexTimeoutError's cause, AggregateError).
  const candidates = [...chain(err)];
  for (const candidate of candidates) {
    const mapped = mapOne(candidate, err);
    if (mapped !== undefined) return mapped;
  }
  // Raised by the database but neither a conflict nor transient: permanent.
  for (const candidate of candidates) {
    const mapped = mapPermanent(candidate, err);
    if (mapped !== undefined) return mapped;
  }
  return err instanceof Error ? err : new Error(String(err));
}

function mapPermanent(candidate: DriverError, original: unknown): Error | undefined {
  const code = typeof candidate.code === 'string' ? candidate.code : undefined;
  if (code === undefined) return undefined;
  const options = { cause: original };
  if (code.startsWith('22') && PG_SQLSTATE.test(code)) return new DataError(code, options);
  if (SQLITE_DATA.has(code)) return new DataError(code, options);
  // A SQLSTATE comes only from PostgreSQL's server (pg's own errors carry none).
  const fromPostgres =
    PG_SQLSTATE.test(code) && typeof (candidate as { severity?: unknown }).severity === 'string';
  if (fromPostgres || code.startsWith('SQLITE_')) return new DatabaseError(code, options);
  return undefined;
}

/** How a database error is shown to callers: a stable code and message, never the driver's text. */
export interface PublicDbError {
  code: 'database_unavailable' | 'constraint_violation' | 'invalid_data' | 'database_error' | 'not_found';
  message: string;
  /** Worth trying again later. */
  transient: boolean;
}

/** The stable face of a database error, or undefined when `err` did not come from the database. */
export function publicDbError(err: unknown): PublicDbError | undefined {
  const mapped = toDbError(err);
  if (mapped instanceof TransientError) {
    return { code: 'database_unavailable', message: 'the database was unavailable', transient: true };
  }
  if (mapped instanceof ConflictError) {
    return {
      code: 'constraint_violation',
      message: `the data broke a ${mapped.kind.replace('_', ' ')} constraint`,
      transient: false,
    };
  }
  if (mapped instanceof DataError) {
    return {
      code: 'invalid_data',
      message: 'the database cannot store a value of the data',
      transient: false,
    };
  }
  if (mapped instanceof DatabaseError) {
    return { code: 'database_error', message: 'the database refused an operation', transient: false };
  }
  if (mapped instanceof NotFoundError) {
    return { code: 'not_found', message: `a ${mapped.entity} it needs does not exist`, transient: false };
  }
  return undefined;
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
  }
  if (lostConnection(candidate) || contention(candidate) || resources(candidate)) {
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
