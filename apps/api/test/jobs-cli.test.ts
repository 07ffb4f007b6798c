// `npm run jobs`, as an operator runs it: the CLI as a child process against a real API on both
// databases. It lists with filters and pages, shows, retries and cancels, and a bad argument
// exits 2 with a sentence saying what is wrong.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { testDatabases } from '@offload/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimJob, startTestApi, type TestApi } from './harness.ts';

const CLI = fileURLToPath(new URL('../src/jobs-cli.ts', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

for (const kind of testDatabases()) {
  describe(`npm run jobs (${kind})`, () => {
    let api: TestApi;
    let env: Record<string, string>;
    let failedId: string;
    let queuedIds: string[];

    beforeAll(async () => {
      api = await startTestApi(kind);
      env = { OFFLOAD_URL: api.url, OFFLOAD_API_KEY: await api.key('ops', ['admin']) };
      const runAt = new Date(Date.now() + 3_600_000).toISOString();
      queuedIds = [];
      for (let i = 0; i < 3; i += 1) {
        const sent = await api.queue.send('system.echo', { sleepMs: 0 }, { runAt });
        queuedIds.push(sent.job.id);
      }
      const failed = await api.queue.send('system.echo', { sleepMs: 0 }, { maxAttempts: 1 });
      const claimed = await claimJob(api.backend, 'system.echo', failed.job.id);
      await api.backend.jobFail({
        id: failed.job.id,
        leaseToken: claimed.leaseToken,
        error: { kind: 'Test', message: 'failed on purpose' },
        final: true,
      });
      failedId = failed.job.id;
    });

    afterAll(async () => {
      await api?.close();
    });

    it('lists with filters and pages', async () => {
      const first = await runCli(['list', '--kind', 'system.echo', '--state', 'queued', '--limit', '2'], env);
      expect(first.code).toBe(0);
      const lines = first.stdout.trim().split('\n');
      expect(lines).toHaveLength(2);
      for (const line of lines) expect(line).toMatch(/ system\.echo +queued /);
      const cursor = /--cursor (\S+)/.exec(first.stderr)?.[1];
      expect(cursor).toBeDefined();
      const second = await runCli(
        ['list', '--kind', 'system.echo', '--state', 'queued', '--limit', '2', '--cursor', cursor!, '--json'],
        env,
      );
      expect(second.code).toBe(0);
      const page = JSON.parse(second.stdout) as { items: Array<{ id: string }>; nextCursor: string | null };
      expect(page.items).toHaveLength(1);
      expect(page.nextCursor).toBeNull();
      const seen = [...lines.map((line) => line.split(' ')[0]), page.items[0]!.id].sort();
      expect(seen).toEqual([...queuedIds].sort());
    });

    it('lists by created range and by the start of an id', async () => {
      const found = await runCli(
        ['list', '--id', queuedIds[1]!.slice(0, 23), '--from', '2000-01-01T00:00:00Z'],
        env,
      );
      expect(found.code).toBe(0);
      expect(found.stdout.split(' ')[0]).toBe(queuedIds[1]);
      const none = await runCli(['list', '--before', '2000-01-01T00:00:00Z'], env);
      expect(none.stderr).toBe('no job matches\n');
    });

    it('lists one owner’s jobs', async () => {
      const run = await runCli(['list', '--owner', 'nobody'], env);
      expect(run.code).toBe(0);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe('no job matches\n');
    });

    it('shows, retries and cancels', async () => {
      const shown = await runCli(['show', failedId], env);
      expect(shown.code).toBe(0);
      expect(JSON.parse(shown.stdout)).toMatchObject({
        id: failedId,
        state: 'failed',
        error: { message: 'failed on purpose' },
      });
      const retried = await runCli(['retry', failedId], env);
      expect(retried.stdout).toBe(`job ${failedId} (system.echo) is now queued\n`);
      const cancelled = await runCli(['cancel', failedId], env);
      expect(cancelled.stdout).toBe(`job ${failedId} (system.echo) is now cancelled\n`);
      const refused = await runCli(['retry', queuedIds[0]!], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^jobs: POST \/v1\/jobs\/\S+\/retry: 409 /);
    });

    it('retries every failed job and cancels every queued one matching a filter, counted first', async () => {
      const failed = await api.queue.send('system.echo', {}, { owner: 'bulk', maxAttempts: 1 });
      const claimed = await claimJob(api.backend, 'system.echo', failed.job.id);
      await api.backend.jobFail({
        id: failed.job.id,
        leaseToken: claimed.leaseToken,
        error: { kind: 'Test', message: 'failed on purpose' },
      });
      const counted = await runCli(
        ['retry-failed', '--kind', 'system.echo', '--owner', 'bulk', '--dry-run'],
        env,
      );
      expect(counted.code).toBe(0);
      expect(counted.stdout).toBe('1 failed job match\n');
      expect((await api.queue.get(failed.job.id))!.state).toBe('failed');
      const retried = await runCli(['retry-failed', '--owner', 'bulk', '--limit', '10'], env);
      expect(retried.stdout).toBe('retried 1 failed job\n');
      expect((await api.queue.get(failed.job.id))!.state).toBe('queued');

      const late = await api.queue.send(
        'system.echo',
        {},
        { owner: 'late', runAt: new Date(Date.now() + 3_600_000).toISOString() },
      );
      const bounded = await runCli(['cancel-queued', '--owner', 'late', '--limit', '1', '--dry-run'], env);
      expect(bounded.stdout).toBe('at least 1 queued job match\n');
      const none = await runCli(
        ['cancel-queued', '--owner', 'late', '--before', '2000-01-01T00:00:00Z'],
        env,
      );
      expect(none.stdout).toBe('cancelled 0 queued jobs\n');
      const cancelled = await runCli(
        ['cancel-queued', '--owner', 'late', '--from', '2000-01-01T00:00:00Z'],
        env,
      );
      expect(cancelled.stdout).toBe('cancelled 1 queued job\n');
      expect((await api.queue.get(late.job.id))!.state).toBe('cancelled');

      const reader = { ...env, OFFLOAD_API_KEY: await api.key('reader', ['read']) };
      const refused = await runCli(['cancel-queued'], reader);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^jobs: POST \/v1\/jobs\/cancel-queued: 403 /);
    });

    it('refuses bad arguments with the usage, and says when the API is unreachable', async () => {
      for (const [args, message] of [
        [['list', '--state', 'sleeping'], '--state must be one of queued, retrying, active'],
        [['list', '--limit', '500'], '--limit must be an integer from 1 to 100'],
        [['list', '--colour', 'red'], "Unknown option '--colour'"],
        [['list', '--owner', ''], '--owner must not be empty'],
        [['show'], 'show takes exactly one job id'],
        [['retry', 'a', 'b'], 'retry takes exactly one job id'],
        [['show', ''], 'show needs a job id (got "")'],
        [['cancel', '..'], 'cancel needs a job id (got "..")'],
        [['explode'], 'unknown command "explode"'],
        [['retry-failed', '--limit', '10001'], '--limit must be an integer from 1 to 10000'],
        [['cancel-queued', '--limit', 'all'], '--limit must be an integer from 1 to 10000'],
        [['cancel-queued', '--from', 'yesterday'], '--from must be an ISO-8601 instant'],
        [['list', '--before', '2026-13-01'], '--before must be an ISO-8601 instant'],
        [['list', '--id', 'not an id'], '--id must be a job id or its start'],
        [['retry-failed', 'import.csv'], 'retry-failed takes no positional argument'],
        [['retry-failed', '--state', 'failed'], "Unknown option '--state'"],
      ] as const) {
        const run = await runCli([...args], env);
        expect(run.code, args.join(' ')).toBe(2);
        expect(run.stderr).toContain(message);
        expect(run.stderr).toContain('usage:');
      }
      const down = await runCli(['list'], { ...env, OFFLOAD_URL: 'http://127.0.0.1:9' });
      expect(down.code).toBe(1);
      expect(down.stderr).toContain('cannot reach the API at http://127.0.0.1:9');
      // Something else answers at OFFLOAD_URL: said so, not a JSON parser's message.
      const other = createServer((_req, res) => res.end('<html>not the API</html>'));
      await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
      try {
        const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
        const notApi = await runCli(['list'], { ...env, OFFLOAD_URL: otherUrl });
        expect(notApi.code).toBe(1);
        expect(notApi.stderr).toContain(`the answer is not JSON (is ${otherUrl} the Offload API?`);
      } finally {
        other.close();
      }
      const noKey = await runCli(['list'], { OFFLOAD_URL: api.url });
      expect(noKey.code).toBe(2);
      expect(noKey.stderr).toContain('no API key: set OFFLOAD_API_KEY');
    });
  });
}
