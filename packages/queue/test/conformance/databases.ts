// Conformance contexts for our two backends, on the test harness's private databases.
import { createTestDb, type TestDatabaseKind } from '@offload/db/testing';
import { createQueueBackend, type SqlExecutor } from '../../src/index.ts';
import type { ConformanceContext, ConformanceFactory } from './harness.ts';

/** A blank database of `kind` (the queue creates its own tables), with backends from `createQueueBackend`. */
export function testDatabaseFactory(kind: TestDatabaseKind): ConformanceFactory {
  return async (): Promise<ConformanceContext> => {
    const testDb = await createTestDb(kind, { migrate: false });
    const { knex } = testDb.db;
    const backends: Array<{ stop(): Promise<void> }> = [];
    return {
      databaseUrl: testDb.databaseUrl,
      async createBackend(options = {}) {
        const backend = await createQueueBackend(testDb.databaseUrl, options);
        backends.push(backend);
        return backend;
      },
      transaction(fn) {
        return knex.transaction((trx) =>
          fn(knexExecutor(trx, kind), (sql) => trx.raw(sql).then(() => undefined)),
        );
      },
      async exec(sql) {
        const result: unknown = await knex.raw(sql);
        if (kind === 'postgres') return (result as { rows: Array<Record<string, unknown>> }).rows;
        return Array.isArray(result) ? (result as Array<Record<string, unknown>>) : [];
      },
      async destroy() {
        await Promise.all(backends.map((backend) => backend.stop().catch(() => undefined)));
        await testDb.destroy();
      },
    };
  };
}

interface PgConnection {
  query(sql: string, params: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

interface SqliteConnection {
  prepare(sql: string): {
    reader: boolean;
    all(...params: unknown[]): Array<Record<string, unknown>>;
    run(...params: unknown[]): unknown;
  };
}

/**
 * The executor an application builds from its knex transaction: the transaction's own
 * connection (knex hands a transaction's client that one connection), with the driver's
 * placeholders (`$n` on PostgreSQL, `?` on SQLite) as the contract says.
 */
export function knexExecutor(trx: { client: unknown }, dialect: TestDatabaseKind): SqlExecutor {
  const client = trx.client as { acquireConnection(): Promise<unknown> };
  return {
    dialect,
    async query(sql, params) {
      const connection = await client.acquireConnection();
      if (dialect === 'postgres') return (connection as PgConnection).query(sql, [...params]);
      const statement = (connection as SqliteConnection).prepare(sql);
      if (statement.reader) return { rows: statement.all(...params) };
      statement.run(...params);
      return { rows: [] };
    },
  };
}
