import { parseDatabaseUrl } from '@offload/config';
import Database from 'better-sqlite3';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConflictError,
  createDb,
  isContention,
  isLostConnection,
  isRefusedData,
  isTransientError,
  NotFoundError,
  TransientError,
  toDbError,
  withRetry,
} from '../src/index.ts';
import { createTestDb, type TestDb, testDatabases } from '../src/testing.ts';
import { type Inventory, insertInventory } from './fixtures.ts';

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return toDbError(err);
  }
  throw new Error('expected the operation to fail');
}

/** The driver's own error, unmapped: what the queue's drivers and the worker classify. */
async function driverFailure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the operation to fail');
}

/** The one classifier's answers for `err`: [lost connection, contention, refused data, transient]. */
function classes(err: unknown): [boolean, boolean, boolean, boolean] {
  return [isLostConnection(err), isContention(err), isRefusedData(err), isTransientError(err)];
}

/** Resolves once `parties` callers have arrived: lines two transactions up on one step. */
function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => {
    release = resolve;
  });
  return () => {
    arrived += 1;
    if (arrived === parties) release();
    return all;
  };
}

for (const kind of testDatabases()) {
  describe(kind, () => {
    let t: TestDb;
    let inv: Inventory;
    beforeAll(async () => {
      t = await createTestDb(kind);
      inv = await insertInventory(t.db.knex);
    });
    afterAll(() => t?.destroy());

    it('maps a unique violation to ConflictError', async () => {
      const err = await failure(t.db.knex('regions').insert({ code: 'EU', name: 'again' }));
      expect(err).toBeInstanceOf(ConflictError);
      expect(err).toMatchObject({
        kind: 'unique',
        constraint: kind === 'postgres' ? 'regions_code_unique' : 'regions.code',
      });
      expect(err.cause).toBeDefined();
    });

    it('classifies a refused row (a constraint, a value) as refused data, never transient', async () => {
      const duplicate = await driverFailure(t.db.knex('regions').insert({ code: 'EU', name: 'again' }));
      expect(classes(duplicate)).toEqual([false, false, true, false]);
      // PostgreSQL refuses text for an integer (22P02: the value's fault); SQLite stores any value,
      // and its malformed-JSON error is the statement's fault: permanent, but not the row's data.
      const value =
        kind === 'postgres'
          ? await driverFailure(t.db.knex.raw('SELECT CAST(? AS integer)', ['x']))
          : await driverFailure(t.db.knex.raw("SELECT json_extract('not json', '$')"));
      expect(classes(value)).toEqual([false, false, kind === 'postgres', false]);
    });

    it('maps a foreign-key violation to ConflictError', async () => {
      const err = await failure(t.db.knex('teams').insert({ code: 'X', name: 'x', region_id: 999_999 }));
      expect(err).toBeInstanceOf(ConflictError);
      expect(err).toMatchObject({
        kind: 'foreign_key',
        constraint: kind === 'postgres' ? 'teams_region_id_foreign' : undefined,
      });
    });

    it.each([
      ['models', 'status', 'archived'],
      ['validations', 'kind', 'partial'],
      ['validations', 'status', 'done'],
      ['approvals', 'status', 'maybe'],
      ['attestation_records', 'status', 'late'],
      ['model_health', 'status', 'red'],
      ['metric_sources', 'format', 'xml'],
      ['uploads', 'entity', 'teams'],
    ])('maps a CHECK violation on %s.%s to ConflictError with its name', async (table, column, bad) => {
      const rows: Record<string, Record<string, unknown>> = {
        models: { ...model('M-check'), status: bad },
        validations: { model_id: inv.modelId, kind: 'full', status: 'planned', [column]: bad },
        approvals: {
          validation_id: inv.validationId,
          region_id: inv.regionId,
          approval_type: 'local',
          status: bad,
          decided_on: '2024-01-01',
        },
        attestation_records: { cycle_id: inv.cycleId, model_id: inv.modelId, status: bad },
        model_health: {
          model_id: inv.modelId,
          status: bad,
          payload: '{}',
          computed_at: '2026-01-01T00:00:00.000Z',
        },
        metric_sources: { name: 'src', url: 'http://127.0.0.1/x', format: bad },
        uploads: { id: 'u-check', entity: bad },
      };
      const err = await failure(t.db.knex(table).insert(rows[table]));
      expect(err).toBeInstanceOf(ConflictError);
      expect(err).toMatchObject({ kind: 'check', constraint: `${table}_${column}_check` });
    });

    it('maps the date-consistency CHECKs to ConflictError', async () => {
      const approvedWithoutDate = await failure(
        t.db.knex('validations').insert({ model_id: inv.modelId, kind: 'full', status: 'approved' }),
      );
      expect(approvedWithoutDate).toMatchObject({
        kind: 'check',
        constraint: 'validations_approved_on_check',
      });
      const decidedWithoutDate = await failure(
        t.db.knex('approvals').insert({
          validation_id: inv.validationId,
          region_id: inv.regionId,
          approval_type: 'x',
          status: 'approved',
        }),
      );
      expect(decidedWithoutDate).toMatchObject({ kind: 'check', constraint: 'approvals_decided_on_check' });
    });

    it('maps a NOT NULL violation to ConflictError', async () => {
      const err = await failure(t.db.knex('regions').insert({ code: 'NN' }));
      expect(err).toMatchObject({ name: 'ConflictError', kind: 'not_null' });
    });

    it('leaves other errors as they are', async () => {
      const err = await failure(t.db.knex.raw('select * from no_such_table'));
      expect(err).not.toBeInstanceOf(ConflictError);
      expect(err).not.toBeInstanceOf(TransientError);
      expect(isTransientError(err)).toBe(false);
    });

    function model(externalId: string) {
      return {
        external_id: externalId,
        name: 'n',
        region_id: inv.regionId,
        team_id: inv.teamId,
        risk_tier_id: inv.tierId,
        owner_email: 'o@example.com',
      };
    }

    if (kind === 'sqlite') {
      describe('a second connection holding the write lock', () => {
        let holder: Database.Database;
        let contender: ReturnType<typeof createDb>;
        beforeAll(async () => {
          const target = parseDatabaseUrl(t.databaseUrl);
          holder = new Database(target.kind === 'sqlite' ? target.path : '');
          contender = createDb({ databaseUrl: t.databaseUrl });
          // Short, so the test does not wait the production 5 s.
          await contender.knex.raw('PRAGMA busy_timeout = 50');
        });
        afterAll(async () => {
          if (holder.inTransaction) holder.exec('ROLLBACK');
          holder.close();
          await contender.destroy();
        });

        it('makes a write fail with TransientError SQLITE_BUSY, classified as contention', async () => {
          holder.exec('BEGIN IMMEDIATE');
          try {
            const raw = await driverFailure(contender.knex('regions').insert({ code: 'BUSY', name: 'b' }));
            expect(classes(raw)).toEqual([false, true, false, true]);
            const err = toDbError(raw);
            expect(err).toBeInstanceOf(TransientError);
            expect((err as TransientError).code).toMatch(/^SQLITE_BUSY/);
          } finally {
            holder.exec('ROLLBACK');
          }
        });

        it('is waited out by withRetry', async () => {
          holder.exec('BEGIN IMMEDIATE');
          setTimeout(() => holder.exec('ROLLBACK'), 150);
          const retried: string[] = [];
          await withRetry(() => contender.knex('regions').insert({ code: 'BUSY2', name: 'b' }), {
            retries: 20,
            baseMs: 50,
            maxMs: 100,
            onRetry: (err) => retried.push(err.code ?? ''),
          });
          expect(retried.length).toBeGreaterThan(0);
          expect(retried.every((code) => code.startsWith('SQLITE_BUSY'))).toBe(true);
          expect(await t.db.knex('regions').where({ code: 'BUSY2' }).first()).toBeDefined();
        });
      });
    }

    if (kind === 'postgres') {
      // Write skew: each reads the whole table, then inserts a row the other's read would
      // have seen. SERIALIZABLE lets only one of them commit.
      function writeSkew(code: string, arrive: () => Promise<void>, seen: { attempts: number }) {
        return t.db.knex.transaction(
          async (trx) => {
            seen.attempts += 1;
            await trx('regions').count({ n: '*' });
            await arrive();
            await trx('regions').insert({ code: `${code}-${seen.attempts}`, name: code });
          },
          { isolationLevel: 'serializable' },
        );
      }

      it('maps a serialization failure between two SERIALIZABLE transactions to TransientError', async () => {
        const arrive = barrier(2);
        const results = await Promise.allSettled([
          writeSkew('SA', arrive, { attempts: 0 }),
          writeSkew('SB', arrive, { attempts: 0 }),
        ]);
        const rejected = results.filter((r) => r.status === 'rejected');
        expect(rejected).toHaveLength(1);
        const reason = (rejected[0] as PromiseRejectedResult).reason;
        expect(classes(reason)).toEqual([false, true, false, true]);
        const err = toDbError(reason);
        expect(err).toBeInstanceOf(TransientError);
        expect((err as TransientError).code).toBe('40001');
      });

      it('retries the losing transaction to success with withRetry', async () => {
        const arrive = barrier(2);
        const a = { attempts: 0 };
        const b = { attempts: 0 };
        // Only the first attempts meet at the barrier; a retry runs alone.
        const once = (seen: { attempts: number }) => () =>
          seen.attempts === 1 ? arrive() : Promise.resolve();
        await Promise.all([
          withRetry(() => writeSkew('RA', once(a), a), { baseMs: 5 }),
          withRetry(() => writeSkew('RB', once(b), b), { baseMs: 5 }),
        ]);
        expect(a.attempts + b.attempts).toBe(3);
      });

      async function killedMidTransaction(knex: Knex, attempts: { n: number }) {
        return knex.transaction(async (trx) => {
          attempts.n += 1;
          const { rows } = await trx.raw('SELECT pg_backend_pid() AS pid');
          if (attempts.n === 1) await knex.raw('SELECT pg_terminate_backend(?)', [rows[0].pid]);
          await trx.raw('SELECT 1');
        });
      }

      it('maps a connection killed by pg_terminate_backend to TransientError, and recovers', async () => {
        const raw = await driverFailure(killedMidTransaction(t.db.knex, { n: 0 }));
        expect(classes(raw)).toEqual([true, false, false, true]);
        const err = toDbError(raw);
        expect(err).toBeInstanceOf(TransientError);
        // The pool replaced the dead connection.
        expect((await t.db.knex.raw('SELECT 1 AS one')).rows[0].one).toBe(1);
        const attempts = { n: 0 };
        await withRetry(() => killedMidTransaction(t.db.knex, attempts), { baseMs: 5 });
        expect(attempts.n).toBe(2);
      });

      it('maps a refused connection to TransientError', async () => {
        const url = new URL(t.databaseUrl);
        url.port = '1';
        const db = createDb({ databaseUrl: url.toString() });
        try {
          const raw = await driverFailure(db.knex.raw('SELECT 1'));
          expect(classes(raw)).toEqual([true, false, false, true]);
          const err = toDbError(raw);
          expect(err).toBeInstanceOf(TransientError);
          expect((err as TransientError).code).toBe('ECONNREFUSED');
        } finally {
          await db.destroy();
        }
      });
    }
  });
}

describe('toDbError', () => {
  const driverError = (props: Record<string, unknown>) => Object.assign(new Error('boom'), props);

  it.each([
    ['40001', 'serialization failure'],
    ['40P01', 'deadlock'],
    ['57P01', 'admin shutdown'],
    ['57P02', 'crash shutdown'],
    ['57P03', 'cannot connect now'],
    ['57014', 'statement timeout'],
    ['53100', 'disk full'],
    ['53200', 'out of memory'],
    ['SQLITE_FULL', 'disk full'],
    ['SQLITE_IOERR_WRITE', 'write failed'],
    ['08006', 'connection failure'],
    ['08001', 'unable to connect'],
    ['SQLITE_BUSY', 'busy'],
    ['SQLITE_BUSY_SNAPSHOT', 'stale snapshot'],
    ['SQLITE_LOCKED', 'locked'],
    ['ECONNRESET', 'reset'],
    ['ECONNREFUSED', 'refused'],
    ['EPIPE', 'broken pipe'],
    ['ETIMEDOUT', 'timed out'],
  ])('maps code %s (%s) to TransientError', (code) => {
    const err = toDbError(driverError({ code }));
    expect(err).toBeInstanceOf(TransientError);
    expect((err as TransientError).code).toBe(code);
  });

  it.each([
    'Connection terminated unexpectedly',
    'Connection terminated',
    'Knex: Timeout acquiring a connection. The pool is probably full.',
  ])('maps "%s" to TransientError', (message) => {
    expect(toDbError(new Error(message))).toBeInstanceOf(TransientError);
  });

  it.each([
    ['57P01', 'admin shutdown'],
    ['08006', 'connection failure'],
    ['08P01', 'protocol violation'],
    ['53300', 'too many connections'],
    ['EHOSTUNREACH', 'host unreachable'],
    ['ENOTFOUND', 'unknown host'],
  ])('classifies %s (%s) as a lost connection, transient', (code) => {
    expect(classes(driverError({ code }))).toEqual([true, false, false, true]);
  });

  it.each([
    'Connection terminated unexpectedly',
    'terminating connection due to administrator command',
    'Connection ended',
    'timeout exceeded when trying to connect',
    'the database system is starting up',
  ])('classifies "%s" as a lost connection', (message) => {
    expect(classes(new Error(message))).toEqual([true, false, false, true]);
  });

  it.each(['40001', '40P01', '55P03', 'SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED'])(
    'classifies %s as contention, transient',
    (code) => {
      expect(classes(driverError({ code }))).toEqual([false, true, false, true]);
    },
  );

  it.each(['57014', '53100', 'SQLITE_FULL', 'SQLITE_IOERR_WRITE'])(
    'classifies %s as transient, neither lost connection nor contention',
    (code) => {
      expect(classes(driverError({ code }))).toEqual([false, false, false, true]);
    },
  );

  it.each([
    '22P02',
    '22003',
    '23505',
    '23001',
    'SQLITE_CONSTRAINT',
    'SQLITE_CONSTRAINT_TRIGGER',
    'SQLITE_MISMATCH',
  ])('classifies %s as refused data, permanent', (code) => {
    expect(classes(driverError({ code }))).toEqual([false, false, true, false]);
  });

  it('classifies through causes and AggregateErrors', () => {
    const refused = new AggregateError([driverError({ code: 'ECONNREFUSED' })], 'connect failed');
    expect(isLostConnection(refused)).toBe(true);
    expect(isContention(new Error('outer', { cause: driverError({ code: 'SQLITE_BUSY' }) }))).toBe(true);
    expect(classes(new Error('plain'))).toEqual([false, false, false, false]);
    expect(classes('text')).toEqual([false, false, false, false]);
  });

  it("maps knex's pool timeout by name", () => {
    const timeout = Object.assign(new Error('pool full'), { name: 'KnexTimeoutError' });
    expect(toDbError(timeout)).toBeInstanceOf(TransientError);
  });

  it('looks through causes and AggregateErrors', () => {
    expect(toDbError(new Error('outer', { cause: driverError({ code: '40P01' }) }))).toBeInstanceOf(
      TransientError,
    );
    const aggregate = new AggregateError([driverError({ code: 'ECONNREFUSED' })], 'connect failed');
    expect(toDbError(aggregate)).toBeInstanceOf(TransientError);
  });

  it.each([
    ['23505', 'unique'],
    ['23503', 'foreign_key'],
    ['23514', 'check'],
    ['23502', 'not_null'],
    ['23P01', 'exclusion'],
  ])('maps SQLSTATE %s to ConflictError %s with the constraint name', (code, conflictKind) => {
    const err = toDbError(driverError({ code, constraint: 'c_name' }));
    expect(err).toMatchObject({ name: 'ConflictError', kind: conflictKind, constraint: 'c_name' });
  });

  it.each([
    ['SQLITE_CONSTRAINT_UNIQUE', 'UNIQUE constraint failed: t.a, t.b', 'unique', 't.a, t.b'],
    ['SQLITE_CONSTRAINT_PRIMARYKEY', 'UNIQUE constraint failed: t.id', 'unique', 't.id'],
    ['SQLITE_CONSTRAINT_FOREIGNKEY', 'FOREIGN KEY constraint failed', 'foreign_key', undefined],
    ['SQLITE_CONSTRAINT_CHECK', 'CHECK constraint failed: t_check', 'check', 't_check'],
  ])('maps %s to ConflictError', (code, message, conflictKind, constraint) => {
    const err = toDbError(Object.assign(new Error(`insert into t - ${message}`), { code }));
    expect(err).toMatchObject({ kind: conflictKind, constraint });
  });

  it('returns its own errors unchanged and wraps non-errors', () => {
    const notFound = new NotFoundError('model', 42);
    expect(toDbError(notFound)).toBe(notFound);
    expect(notFound.message).toBe('model 42 not found');
    const plain = new Error('plain');
    expect(toDbError(plain)).toBe(plain);
    expect(toDbError('text')).toBeInstanceOf(Error);
    const transient = toDbError(driverError({ code: '40001' }));
    expect(toDbError(transient)).toBe(transient);
  });
});
