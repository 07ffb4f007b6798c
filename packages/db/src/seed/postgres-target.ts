// Seeding PostgreSQL: every table streamed with COPY ... FROM STDIN on one connection, in one
// transaction, so a failed or interrupted seed leaves the database as it was. COPY's text
// format is parsed by the server many times faster than INSERTs, and generating the next
// chunk in Node overlaps with the server parsing the last one.
//
// While loading, the seeded tables' foreign keys, unique constraints and plain indexes are
// dropped (primary keys stay: ids arrive in ascending order, which a B-tree absorbs cheaply)
// and then recreated from the definitions the catalogue gave (pg_get_constraintdef,
// pg_get_indexdef), so names and definitions come back exactly as the migrations made them.
// Re-adding a foreign key validates all rows at once.

import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Db } from '../knex.ts';
import type { SeedTarget } from './target.ts';
import { copyLineWriter } from './values.ts';

// Large enough that per-write overhead vanishes, small enough to keep memory flat.
const FLUSH_CHARS = 1 << 20;

// Index builds sort, and foreign-key validation hashes, in memory up to these instead of
// spilling 5-million-row sorts and joins to disk. SET LOCAL: they end with the transaction.
const INDEX_BUILD_MEMORY = '256MB';
const KEY_CHECK_MEMORY = '128MB';

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

// The seeded tables' foreign keys, then unique constraints, then indexes that back no
// constraint: the order they must be dropped in, and the reverse of the order to restore them.
const SUSPENDABLE = `
  SELECT 'constraint' AS what, conrelid::regclass::text AS tbl, conname AS name,
         pg_get_constraintdef(oid) AS definition, CASE contype WHEN 'f' THEN 0 ELSE 1 END AS rank
    FROM pg_constraint
   WHERE contype IN ('f', 'u') AND conrelid = ANY($1::text[]::regclass[])
  UNION ALL
  SELECT 'index', i.indrelid::regclass::text, ic.relname, pg_get_indexdef(i.indexrelid), 2
    FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
   WHERE i.indrelid = ANY($1::text[]::regclass[]) AND NOT i.indisprimary
     AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
   ORDER BY rank, tbl, name`;

interface Suspended {
  what: 'constraint' | 'index';
  tbl: string;
  name: string;
  definition: string;
}

interface KnexClient {
  acquireConnection(): Promise<pg.Client>;
  releaseConnection(connection: pg.Client): Promise<void>;
}

export async function postgresTarget(db: Db): Promise<SeedTarget> {
  const client = db.knex.client as KnexClient;
  const conn = await client.acquireConnection();
  let suspended: Suspended[] = [];
  return {
    async begin() {
      await conn.query('BEGIN');
      await conn.query(`SET LOCAL maintenance_work_mem = '${INDEX_BUILD_MEMORY}'`);
      await conn.query(`SET LOCAL work_mem = '${KEY_CHECK_MEMORY}'`);
    },
    async nonEmpty(tables) {
      const found: string[] = [];
      for (const table of tables) {
        const result = await conn.query(`SELECT EXISTS (SELECT 1 FROM ${quoteIdent(table)}) AS found`);
        if (result.rows[0].found) found.push(table);
      }
      return found;
    },
    async suspendIndexes(tables) {
      suspended = (await conn.query<Suspended>(SUSPENDABLE, [tables])).rows;
      for (const s of suspended) {
        await conn.query(
          s.what === 'index'
            ? `DROP INDEX ${quoteIdent(s.name)}`
            : `ALTER TABLE ${s.tbl} DROP CONSTRAINT ${quoteIdent(s.name)}`,
        );
      }
    },
    async reset(tables) {
      const existing = await conn.query<{ name: string }>(
        'SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY($1)',
        [tables],
      );
      const names = new Set(existing.rows.map((r) => r.name));
      const list = tables.filter((t) => names.has(t)).map(quoteIdent);
      await conn.query(`TRUNCATE ${list.join(', ')} RESTART IDENTITY`);
    },
    async load(table, plan) {
      const columns = table.columns.map(([name]) => quoteIdent(name)).join(', ');
      const stream = conn.query(copyFrom(`COPY ${quoteIdent(table.name)} (${columns}) FROM STDIN`));
      const line = copyLineWriter(table);
      let chunk = '';
      try {
        for (const row of table.rows(plan)) {
          chunk += line(row);
          if (chunk.length >= FLUSH_CHARS) {
            // events.once rejects if the stream errors first, so a failed COPY cannot hang us.
            if (!stream.write(chunk)) await once(stream, 'drain');
            chunk = '';
          }
        }
        stream.end(chunk);
        await finished(stream);
      } catch (err) {
        stream.destroy();
        throw err;
      }
      return stream.rowCount;
    },
    async rebuildIndexes(tables) {
      for (const s of [...suspended].reverse()) {
        await conn.query(
          s.what === 'index'
            ? s.definition
            : `ALTER TABLE ${s.tbl} ADD CONSTRAINT ${quoteIdent(s.name)} ${s.definition}`,
        );
      }
      suspended = [];
      for (const table of tables) {
        if (!table.hasSerialId) continue;
        await conn.query(
          `SELECT setval(pg_get_serial_sequence($1, 'id'), COALESCE(max(id), 0) + 1, false) FROM ${quoteIdent(table.name)}`,
          [table.name],
        );
      }
    },
    async commit() {
      await conn.query('COMMIT');
    },
    async rollback() {
      await conn.query('ROLLBACK');
    },
    async analyze(tables) {
      await conn.query(`ANALYZE ${tables.map(quoteIdent).join(', ')}`);
    },
    async release() {
      await client.releaseConnection(conn);
    },
  };
}
