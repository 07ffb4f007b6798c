// The queue's one classifier of database errors worth retrying, for both drivers and the worker,
// as explicit lists:
//
//   lost connection  the connection, not the statement, failed: retried on a new connection
//                    (drivers/postgres/supervisor.ts), and the LISTEN client reconnects;
//   contention       another writer holds what we need (SQLite's busy file, PostgreSQL's
//                    serialization failures, deadlocks, lock timeouts): retried after a pause
//                    (drivers/sqlite/connection.ts), never split into per-item writes;
//   data             the database refused this row's data (SQLSTATE classes 22 and 23, SQLite
//                    constraint codes): permanent, the error of that one job's caller alone.
//
// @offload/db's `isTransientError` (packages/db/src/errors.ts) classifies for the application's
// own queries with the same SQLSTATEs and errnos; these lists are the queue's half, kept here so
// the queue does not depend on the database layer at run time. Both could become one list in
// @offload/db imported here, once the queue may depend on it.

/** SQLSTATEs that mean the connection was lost or refused. */
export const LOST_CONNECTION_SQLSTATES: ReadonlySet<string> = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '08000', // connection_exception
  '08001', // sqlclient_unable_to_establish_sqlconnection
  '08003', // connection_does_not_exist
  '08004', // sqlserver_rejected_establishment_of_sqlconnection
  '08006', // connection_failure
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

/** What pg says, by message only, when a socket closed under it. */
export const LOST_CONNECTION_MESSAGES: readonly string[] = [
  'Connection terminated',
  'terminating connection',
  'Client has encountered a connection error',
  'timeout exceeded when trying to connect',
  'Connection ended',
  'the database system is starting up',
  'the database system is shutting down',
];

/** SQLSTATEs of contention between writers (PostgreSQL). */
export const CONTENTION_SQLSTATES: ReadonlySet<string> = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
]);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Whether `error` means the connection was lost or refused (worth retrying on a new one). */
export function isLostConnection(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = codeOf(error);
  if (code !== undefined && (LOST_CONNECTION_SQLSTATES.has(code) || LOST_CONNECTION_ERRNOS.has(code)))
    return true;
  if (error instanceof AggregateError && error.errors.some(isLostConnection)) return true;
  return LOST_CONNECTION_MESSAGES.some((m) => error.message.includes(m));
}

/** Whether another writer holds what the statement needed (worth running again after a pause). */
export function isContention(error: unknown): boolean {
  const code = codeOf(error);
  if (code === undefined) return false;
  return CONTENTION_SQLSTATES.has(code) || code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
}

/** Lost connection or contention: the statement may succeed if run again. */
export function isTransient(error: unknown): boolean {
  return isLostConnection(error) || isContention(error);
}

/** The database refused this item's data (SQLSTATE class 22 or 23): permanent, and its own. */
export function isRefusedData(error: unknown): boolean {
  const code = codeOf(error);
  return (
    code !== undefined &&
    (code.startsWith('22') || code.startsWith('23') || code.startsWith('SQLITE_CONSTRAINT'))
  );
}
