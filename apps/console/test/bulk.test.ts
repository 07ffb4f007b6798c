// The Jobs page's bulk actions in a real browser (Debian's Chromium through playwright-core), on
// both databases, against a real API and a real worker process: bulk-retry a kind's failed jobs
// after a confirmation that counts them, and watch them complete; cancel the queued jobs of an
// owner; a read-only key sees no bulk action. Elements are found by role and name.
import { createTestDb, eventually, type TestDb, testDatabases } from '@offload/db/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../api/test/harness.ts';
import { startWorkerChild, type WorkerChild } from '../../worker/test/fixtures/worker-child.ts';
import { launchConsoleBrowser, signedInTab } from './chromium.ts';

const WAIT_MS = 60_000;
const KIND = 'system.echo';

let browser: Browser | undefined;

beforeAll(async () => {
  browser = await launchConsoleBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
});

for (const kind of testDatabases()) {
  describe(`console bulk actions in Chromium (${kind})`, () => {
    let t: TestDb;
    let api: TestApi;
    let worker: WorkerChild;
    let adminKey: string;
    let readKey: string;
    const failedIds: string[] = [];
    const contexts: BrowserContext[] = [];

    const open = (key: string, hash: string): Promise<Page> =>
      signedInTab(browser!, contexts, { url: api.url, key, hash, waitMs: WAIT_MS });

    beforeAll(async () => {
      t = await createTestDb(kind);
      api = await startTestApi(kind, { testDb: t });
      adminKey = await api.key('ops', ['admin']);
      readKey = await api.key('auditor', ['read']);
      // Failed before the worker starts, so that it cannot claim them first.
      for (let i = 0; i < 3; i += 1) {
        const { job } = await api.queue.send(KIND, { sleepMs: 0 }, { maxAttempts: 1, owner: 'ops' });
        const [claimed] = await api.backend.jobClaim({ kinds: [KIND], limit: 1, workerId: 'console-bulk' });
        expect(claimed!.job.id).toBe(job.id);
        await api.backend.jobFail({
          id: job.id,
          leaseToken: claimed!.leaseToken,
          error: { kind: 'ConsoleTestError', message: 'failed on purpose' },
          final: true,
        });
        failedIds.push(job.id);
      }
      worker = await startWorkerChild({ databaseUrl: t.databaseUrl });
    }, 180_000);

    afterAll(async () => {
      for (const context of contexts) await context.close().catch(() => undefined);
      await worker?.kill();
      await api?.close();
      await t?.destroy();
    });

    it('retries a kind’s failed jobs after a confirmation that counts them, and they complete', async () => {
      const page = await open(adminKey, `#/jobs?kind=${KIND}&state=failed`);
      await page.getByRole('button', { name: 'Retry failed', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Retry failed jobs' });
      await dialog.getByText('3 failed jobs match.').waitFor();
      await dialog.getByText(`Matching: kind ${KIND}.`).waitFor();
      await dialog.getByRole('button', { name: 'Retry 3 failed jobs' }).click();
      await dialog.getByText('Retried 3 failed jobs.').waitFor();
      await dialog.getByRole('button', { name: 'Close' }).click();
      await dialog.waitFor({ state: 'hidden' });

      // The worker runs them: the completed list shows all three (reloaded, as figures are cached).
      await page.getByLabel('State').selectOption('completed');
      await eventually(
        'the three retried jobs completed',
        async () => {
          await page.reload();
          const table = page.getByRole('table', { name: 'Jobs' });
          await table.waitFor();
          const links = await table.getByRole('link').allTextContents();
          return failedIds.every((id) => links.includes(id)) ? true : undefined;
        },
        { timeoutMs: WAIT_MS, intervalMs: 250 },
      );
      for (const id of failedIds) expect((await api.queue.get(id))!.state).toBe('completed');
    });

    it('cancels an owner’s queued jobs, and says when none match', async () => {
      const runAt = new Date(Date.now() + 3_600_000).toISOString();
      const later = [];
      for (let i = 0; i < 2; i += 1)
        later.push((await api.queue.send(KIND, {}, { owner: 'later', runAt })).job.id);
      const page = await open(adminKey, '#/jobs?owner=later&state=queued');
      await page.getByRole('button', { name: 'Cancel queued', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Cancel queued jobs' });
      await dialog.getByText('2 queued jobs match.').waitFor();
      await dialog.getByRole('button', { name: 'Cancel 2 queued jobs' }).click();
      await dialog.getByText('Cancelled 2 queued jobs.').waitFor();
      for (const id of later) expect((await api.queue.get(id))!.state).toBe('cancelled');
      await dialog.getByRole('button', { name: 'Close' }).click();

      await page.getByRole('button', { name: 'Cancel queued', exact: true }).click();
      await dialog.getByText('0 queued jobs match.').waitFor();
      expect(await dialog.getByRole('button', { name: /^Cancel \d/ }).count()).toBe(0);
      await dialog.getByRole('button', { name: 'Back' }).click();
    });

    it('filters by created range and by the start of an id', async () => {
      const page = await open(adminKey, `#/jobs?kind=${KIND}`);
      const table = page.getByRole('table', { name: 'Jobs' });
      await page.getByLabel('Job id').fill(failedIds[0]!.slice(0, 23));
      await page.getByRole('button', { name: 'Search' }).click();
      await eventually(
        'only the job with that id',
        async () => {
          const links = await table.getByRole('link').allTextContents();
          return links.length === 1 && links[0] === failedIds[0] ? true : undefined;
        },
        { timeoutMs: WAIT_MS, intervalMs: 100 },
      );
      expect(page.url()).toContain('id=');

      await page.getByLabel('Job id').fill('');
      await page.getByLabel('Created before').fill('2001-01-01T00:00:00');
      await page.getByRole('button', { name: 'Apply' }).click();
      await page.getByText('No job matches these filters.').waitFor();
      expect(page.url()).toContain('before=2001-01-01');
    });

    it('shows a read-only key no bulk action', async () => {
      const page = await open(readKey, '#/jobs');
      await page.getByRole('table', { name: 'Jobs' }).waitFor();
      await page.getByLabel('Job id').waitFor();
      expect(await page.getByRole('button', { name: 'Retry failed' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Cancel queued' }).count()).toBe(0);
      expect(await page.getByRole('region', { name: 'Bulk actions' }).count()).toBe(0);
    });
  });
}
