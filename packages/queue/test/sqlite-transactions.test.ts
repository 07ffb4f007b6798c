import { sqlExecutor } from '@offload/db';
import { createTestDb, type TestDb } from '@offload/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteBackend, type SqliteQueueBackend } from '../src/drivers/sqlite/backend.ts';

let testDb: TestDb;
let path: string;
let queue: SqliteQueueBackend;
let other: SqliteQueueBackend;

beforeAll(async () => {
  // A migrated application database: the queue's tables go next to the domain's.
  testDb = await createTestDb('sqlite');
  path = testDb.databaseUrl.slice('sqlite:'.length);
  queue = createSqliteBackend({ path });
  other = createSqliteBackend({ path });
  await queue.start();
  await other.start();
});

afterAll(async () => {
  await queue?.stop();
  await other?.stop();
  await testDb?.destroy();
});

async function countOf(kind: string): Promise<Record<string, number>> {
  const row = (await queue.jobCounts()).find((c) => c.kind === kind);
  return row === undefined ? {} : { queued: row.queued, completed: row.completed };
}

describe("inserts in the caller's transaction", () => {
  it('rolls back with the domain writes: no job, no count, no event', async () => {
    const { knex } = testDb.db;
    const kind = 'tx.rollback';
    const events: string[] = [];
    const unsubscribe = await other.onJobEvent((event) => {
      if (event.kind === kind) events.push(event.id);
    });
    let id = '';
    await expect(
      knex.transaction(async (trx) => {
        await trx('regions').insert({ code: 'RB', name: 'Rolled back' });
        const { job } = await queue.jobInsert({
          kind,
          payload: { region: 'RB' },
          executor: sqlExecutor(trx, 'sqlite'),
        });
        id = job.id;
        throw new Error('the caller gives up');
      }),
    ).rejects.toThrow('the caller gives up');
    expect(id).not.toBe('');
    expect(await queue.jobGet(id)).toBeNull();
    expect(await knex('regions').where({ code: 'RB' })).toEqual([]);
    expect(await countOf(kind)).toEqual({});
    expect(await queue.jobClaim({ kinds: [kind], limit: 10, workerId: 'w' })).toEqual([]);
    // A marker committed after it: once its event arrives, a rolled-back event would have too.
    const { job: marker } = await queue.jobInsert({ kind, payload: 'marker' });
    await waitFor(() => events.includes(marker.id));
    expect(events).toEqual([marker.id]);
    await unsubscribe();
  });

  it('commits with them, counted, and wakes a listener in another backend once committed', async () => {
    const { knex } = testDb.db;
    const kind = 'tx.commit';
    let woken = 0;
    const unsubscribe = await other.onJobsAvailable([kind], () => {
      woken += 1;
    });
    const before = woken;
    const job = await knex.transaction(async (trx) => {
      await trx('regions').insert({ code: 'CM', name: 'Committed' });
      const executor = sqlExecutor(trx, 'sqlite');
      const [first, again] = await queue.jobInsertMany([
        { kind, payload: { region: 'CM' }, idempotencyKey: 'region-CM', executor },
        { kind, payload: { region: 'CM', again: true }, idempotencyKey: 'region-CM', executor },
      ]);
      expect(first!.created).toBe(true);
      expect(again).toMatchObject({ created: false, job: { id: first!.job.id, payload: { region: 'CM' } } });
      // Not visible outside the transaction yet; inside, the key is taken.
      expect(await other.jobGet(first!.job.id)).toBeNull();
      const repeat = await queue.jobInsert({ kind, payload: {}, idempotencyKey: 'region-CM', executor });
      expect(repeat).toMatchObject({ created: false, job: { id: first!.job.id } });
      const fresh = await queue.jobInsert({ kind, payload: { fresh: true }, executor });
      expect(fresh.created).toBe(true);
      return fresh.job;
    });
    expect(await queue.jobGet(job.id)).toEqual(job);
    expect(await countOf(kind)).toEqual({ queued: 2, completed: 0 });
    await waitFor(() => woken > before);
    await unsubscribe();
  });

  it('refuses an executor of another dialect', async () => {
    const executor = { dialect: 'postgres' as const, query: async () => ({ rows: [] }) };
    await expect(queue.jobInsert({ kind: 'tx.pg', payload: {}, executor })).rejects.toThrow(
      /postgres executor/,
    );
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
