// API keys on both databases: hashed storage, revocation, the bootstrap key, the in-process
// cache, and the `npm run keys` CLI.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createTestDb, type TestDb, testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createApiKey,
  ensureBootstrapKey,
  hashApiKey,
  listApiKeys,
  parseScopes,
  revokeApiKey,
} from '../src/api-keys.ts';
import { Authenticator } from '../src/auth.ts';
import { silentLogger } from './harness.ts';

const CLI = join(import.meta.dirname, '../src/keys-cli.ts');

function runCli(databaseUrl: string, args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

for (const kind of testDatabases()) {
  describe(`api keys (${kind})`, () => {
    let t: TestDb;

    beforeAll(async () => {
      t = await createTestDb(kind);
    });
    afterAll(() => t?.destroy());

    it('stores only a hash, and finds the key by it until revoked', async () => {
      const { key, record } = await createApiKey(t.db, {
        name: 'k',
        owner: 'dave',
        scopes: ['submit', 'read'],
      });
      expect(key).toMatch(/^ofk_[A-Za-z0-9_-]{43}$/);
      const row = await t.db.knex('api_keys').where({ id: record.id }).first();
      expect(row.key_hash).toBe(hashApiKey(key));
      expect(JSON.stringify(row)).not.toContain(key);

      const auth = new Authenticator({ db: t.db, logger: silentLogger, cacheTtlMs: 0 });
      expect(await auth.authenticate(key)).toMatchObject({ keyId: record.id, owner: 'dave', isAdmin: false });
      expect(await auth.authenticate(`${key}x`)).toBeNull();
      expect(await revokeApiKey(t.db, record.id)).toBe(true);
      expect(await revokeApiKey(t.db, record.id)).toBe(false);
      expect(await auth.authenticate(key)).toBeNull();
    });

    it('trusts a found key for the cache time, so a revocation bites within it', async () => {
      const { key, record } = await createApiKey(t.db, { name: 'k', owner: 'erin', scopes: ['read'] });
      let now = 0;
      const auth = new Authenticator({ db: t.db, logger: silentLogger, cacheTtlMs: 5000, now: () => now });
      expect(await auth.authenticate(key)).not.toBeNull();
      await revokeApiKey(t.db, record.id);
      now = 4999;
      expect(await auth.authenticate(key)).not.toBeNull();
      now = 5000;
      expect(await auth.authenticate(key)).toBeNull();
    });

    it('ensures the bootstrap admin key idempotently, re-enabling it if revoked', async () => {
      const bootstrap = 'bootstrap-key-0123456789';
      await ensureBootstrapKey(t.db, bootstrap);
      await ensureBootstrapKey(t.db, bootstrap);
      const rows = (await listApiKeys(t.db)).filter((key) => key.name.startsWith('bootstrap'));
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ owner: 'admin', scopes: ['admin'], revokedAt: null });
      await revokeApiKey(t.db, rows[0]!.id);
      await ensureBootstrapKey(t.db, bootstrap);
      const auth = new Authenticator({ db: t.db, logger: silentLogger, cacheTtlMs: 0 });
      expect(await auth.authenticate(bootstrap)).toMatchObject({ isAdmin: true });
    });

    it('parses scopes and refuses unknown ones', () => {
      expect(parseScopes('submit,read')).toEqual(['submit', 'read']);
      expect(parseScopes('admin read admin')).toEqual(['admin', 'read']);
      expect(() => parseScopes('submit,write')).toThrow(/write/);
    });

    // A process per command is slow: the CLI runs on one database, the functions under it on both.
    it.runIf(kind === testDatabases()[0])(
      'creates, lists and revokes keys from the CLI, printing the key once',
      () => {
        const created = runCli(t.databaseUrl, ['create', '--owner', 'frank', '--scopes', 'submit,read']);
        expect(created.status, created.stderr).toBe(0);
        const key = created.stdout.trim();
        expect(key).toMatch(/^ofk_/);
        const id = /created key (\d+)/.exec(created.stderr)![1]!;

        const list = runCli(t.databaseUrl, ['list']);
        expect(list.status).toBe(0);
        expect(list.stdout).toMatch(new RegExp(`^${id}\\s+frank key\\s+frank\\s+submit,read`, 'm'));
        expect(list.stdout).not.toContain(key);

        expect(runCli(t.databaseUrl, ['revoke', id]).status).toBe(0);
        expect(runCli(t.databaseUrl, ['revoke', id]).status).toBe(1);
        expect(runCli(t.databaseUrl, ['create', '--owner', 'x', '--scopes', 'fly']).status).toBe(2);
      },
    );
  });
}
