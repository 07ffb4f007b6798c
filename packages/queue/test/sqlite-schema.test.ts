import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteBackend } from '../src/drivers/sqlite/backend.ts';
import { SCHEMA_VERSION } from '../src/drivers/sqlite/schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'offload-queue-schema-'));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('schema steps', () => {
  it('step 4 drops worker_id from a file at step 3 and keeps its jobs, leases included', async () => {
    const path = join(dir, 'step3.db');
    const first = createSqliteBackend({ path });
    await first.start();
    const { job: waiting } = await first.jobInsert({ kind: 'schema.step', payload: { n: 1 } });
    const { job: queued } = await first.jobInsert({ kind: 'schema.step', payload: { n: 2 } });
    const [claimed] = await first.jobClaim({ kinds: ['schema.step'], limit: 1, workerId: 'w' });
    expect(claimed?.job.id).toBe(waiting.id);
    await first.stop();
    // The file as step 3 left it: the column there, filled on the claimed job, version 3 recorded.
    const db = new Database(path);
    db.exec('ALTER TABLE queue_jobs ADD COLUMN worker_id TEXT');
    db.prepare("UPDATE queue_jobs SET worker_id = 'host:1:w' WHERE state = 'active'").run();
    db.prepare('DELETE FROM queue_schema_version WHERE version > 3').run();
    db.close();

    const again = createSqliteBackend({ path });
    await again.start();
    try {
      const check = new Database(path, { readonly: true });
      const columns = check.prepare("SELECT name FROM pragma_table_info('queue_jobs')").pluck().all();
      const version = check.prepare('SELECT max(version) FROM queue_schema_version').pluck().get();
      check.close();
      expect(columns).not.toContain('worker_id');
      expect(version).toBe(SCHEMA_VERSION);
      expect((await again.jobGet(waiting.id))?.state).toBe('active');
      expect((await again.jobGet(queued.id))?.state).toBe('queued');
      expect(
        await again.jobComplete({ id: waiting.id, leaseToken: claimed!.leaseToken, result: 7 }),
      ).toBeTruthy();
      expect((await again.jobGet(waiting.id))?.result).toBe(7);
    } finally {
      await again.stop();
    }
  });
});
