// Errors that leak nothing (docs/security.md): a database that refuses connections is a 503 with
// Retry-After; any other database error is a problem that names no SQL, value, host or address.
import { DatabaseError, DataError, publicDbError, TransientError, toDbError } from '@offload/db';
import { describe, expect, it } from 'vitest';
import { toProblem } from '../../src/problem.ts';

const driver = (code: string, message: string) =>
  Object.assign(new Error(message), { code, severity: 'FATAL' });

describe('hostile: database errors at the API', () => {
  it('answers a database that refuses connections (55000, 57P03, 08xxx) with 503 and Retry-After', () => {
    for (const code of ['55000', '57P03', '08006', '08001', '40001', '40P01', 'SQLITE_BUSY']) {
      const error = driver(code, 'connect to 10.1.2.3:5432 refused: the database system is starting up');
      expect(toDbError(error), code).toBeInstanceOf(TransientError);
      const problem = toProblem(error);
      expect(problem.status, code).toBe(503);
      expect(problem.headers['Retry-After']).toBe('1');
      expect(problem.message).not.toMatch(/10\.1\.2\.3|starting up/);
    }
  });

  it('classifies data and other database errors as permanent, and shows neither SQL nor values', () => {
    const range = driver(
      '22003',
      'select * from "models" where "id" = $1 - value "2147483648" is out of range',
    );
    expect(toDbError(range)).toBeInstanceOf(DataError);
    expect(toDbError(driver('22021', 'invalid byte sequence for encoding "UTF8": 0x00'))).toBeInstanceOf(
      DataError,
    );
    expect(
      toDbError(Object.assign(new Error('datatype mismatch'), { code: 'SQLITE_MISMATCH' })),
    ).toBeInstanceOf(DataError);
    expect(toDbError(driver('42703', 'column "secret" does not exist'))).toBeInstanceOf(DatabaseError);
    expect(publicDbError(range)).toEqual({
      code: 'invalid_data',
      message: 'the database cannot store a value of the data',
      transient: false,
    });
    const problem = toProblem(range);
    expect(problem.status).toBe(500);
    expect(problem.message).not.toMatch(/select|models|2147483648/);
    // Errors from elsewhere are not the database's.
    expect(publicDbError(new TypeError('x'))).toBeUndefined();
    expect(publicDbError(Object.assign(new Error('refused'), { code: 'ERR_INVALID_URL' }))).toBeUndefined();
  });
});
