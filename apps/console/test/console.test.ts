// The console in a real browser (Debian's Chromium through playwright-core), on both databases:
// a real API (in process, on an ephemeral port) and a real worker process on a fresh database.
// Elements are found by role and name, as a person would find them. One browser serves the
// whole file; each scenario opens its own context (its own sessionStorage), closed after it.
//
// CONSOLE_SCREENSHOTS=1 also writes a screenshot of each page to docs/console/ (SQLite run only),
// so the committed images change only when asked to.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { seedDatabase } from '@offload/db/seed';
import { createTestDb, type TestDb, testDatabases, eventually as waitFor } from '@offload/db/testing';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole } from '../../../scripts/console-build.ts';
import { listApiKeys, revokeApiKey } from '../../api/src/api-keys.ts';
import { startTestApi, type TestApi } from '../../api/test/harness.ts';
import { startWorkerChild, type WorkerChild } from '../../worker/test/fixtures/worker-child.ts';
import { consoleTab, launchChromium, signedInTab, signIn } from './chromium.ts';

const WAIT_MS = 30_000;
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS === '1';
const screenshotDir = fileURLToPath(new URL('../../../docs/console/', import.meta.url));

const XSS_ERROR = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
const XSS_PAYLOAD = '<script>window.__xss=3</script>';

let browser: Browser | undefined;

beforeAll(async () => {
  await buildConsole({ quiet: true });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
});

/** Polls `probe` until it holds (@offload/db/testing's eventually), with the browser's generous deadline. */
async function eventually(what: string, probe: () => Promise<boolean>): Promise<void> {
  await waitFor(what, probe, { timeoutMs: WAIT_MS, intervalMs: 100 });
}

async function textOf(locator: Locator): Promise<string> {
  return ((await locator.textContent({ timeout: WAIT_MS })) ?? '').trim();
}

for (const kind of testDatabases()) {
  describe(`console in Chromium (${kind})`, () => {
    let t: TestDb;
    let api: TestApi;
    let worker: WorkerChild;
    let adminKey: string;
    let readKey: string;
    let failedId: string;
    let xssId: string;
    const contexts: BrowserContext[] = [];

    /** A fresh tab on the console served at `baseUrl`, not signed in. */
    const tabAt = (baseUrl: string, hash = ''): Promise<Page> =>
      consoleTab(browser!, contexts, { url: baseUrl, hash, waitMs: WAIT_MS });

    /** A fresh tab on the console, signed in with `key` unless undefined. */
    const open = async (key: string | undefined, hash = ''): Promise<Page> =>
      key === undefined
        ? tabAt(api.url, hash)
        : signedInTab(browser!, contexts, { url: api.url, key, hash, waitMs: WAIT_MS });

    const screenshot = async (page: Page, name: string): Promise<void> => {
      if (!SCREENSHOTS || kind !== 'sqlite') return;
      mkdirSync(screenshotDir, { recursive: true });
      await page.screenshot({ path: `${screenshotDir}${name}.png`, fullPage: true });
    };

    /** A system.echo job ended failed with `error`, written as a worker would, before any worker runs. */
    const failedJob = async (payload: Record<string, unknown>, error: string): Promise<string> => {
      // Owned by the read-only key's owner, so that key sees it too.
      const { job } = await api.queue.send('system.echo', payload, { maxAttempts: 1, owner: 'auditor' });
      const claimed = await api.backend.jobClaim({
        kinds: ['system.echo'],
        limit: 1,
        workerId: 'console-test',
      });
      expect(claimed.map((c) => c.job.id)).toEqual([job.id]);
      await api.backend.jobFail({
        id: job.id,
        leaseToken: claimed[0]!.leaseToken,
        error: { kind: 'ConsoleTestError', message: error },
        final: true,
      });
      return job.id;
    };

    /** Claims the console.progress job `id` as a worker would (no worker runs that kind). */
    const claimProgressJob = async (id: string) => {
      const [claimed] = await api.backend.jobClaim({
        kinds: ['console.progress'],
        limit: 1,
        workerId: 'console-test',
      });
      expect(claimed?.job.id).toBe(id);
      return claimed!;
    };

    beforeAll(async () => {
      t = await createTestDb(kind);
      api = await startTestApi(kind, { testDb: t });
      adminKey = await api.key('ops', ['admin']);
      readKey = await api.key('auditor', ['read']);
      // Failed jobs are made before the worker starts, so that it cannot claim them first.
      failedId = await failedJob({ sleepMs: 0 }, 'the first attempt failed on purpose');
      xssId = await failedJob({ sleepMs: 0, note: XSS_PAYLOAD }, XSS_ERROR);
      worker = await startWorkerChild({ databaseUrl: t.databaseUrl });
    }, 180_000);

    // Each scenario's tabs close with it: an open tab holds one of its key's ten statistics
    // streams and re-renders every two seconds on a machine that may be loaded already.
    afterEach(async () => {
      for (const context of contexts.splice(0)) await context.close().catch(() => undefined);
    });

    afterAll(async () => {
      await worker?.kill();
      await api?.close();
      await t?.destroy();
    });

    it('is served with a CSP that allows no inline script, and none is inline', async () => {
      const response = await fetch(`${api.url}/console/`);
      expect(response.status).toBe(200);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      const scripts = (await response.text()).match(/<script[^>]*>/g) ?? [];
      expect(scripts.length).toBeGreaterThan(0);
      for (const tag of scripts) expect(tag).toMatch(/ src="\/console\/assets\//);
      expect((await fetch(`${api.url}/console`, { redirect: 'manual' })).headers.get('location')).toBe(
        '/console/',
      );
    });

    it('refuses a bad key and says when the server cannot be reached', async () => {
      const page = await open(undefined);
      await signIn(page, 'not-a-key');
      expect(await textOf(page.getByRole('alert'))).toBe('That API key is unknown or revoked.');
      await screenshot(page, 'sign-in');

      await page.route('**/v1/queues/stream', (route) => route.abort('connectionrefused'));
      await signIn(page, adminKey);
      await eventually('the unreachable message', async () =>
        (await textOf(page.getByRole('alert'))).includes('cannot be reached'),
      );
    });

    it('keeps the key in sessionStorage only, across a reload', async () => {
      const page = await open(adminKey, '#/jobs');
      expect(page.url()).not.toContain(adminKey);
      expect(await page.context().cookies()).toEqual([]);
      expect(await page.evaluate(() => JSON.stringify(sessionStorage))).toContain(adminKey);
      await page.reload();
      await page.getByRole('heading', { name: 'Jobs' }).waitFor();
      expect(await page.getByLabel('API key').count()).toBe(0);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('API key').waitFor();
      expect(await page.evaluate(() => JSON.stringify(sessionStorage))).not.toContain(adminKey);
    });

    it('keeps the key across a reload while the server cannot be reached, and signs in once it can', async () => {
      const page = await open(adminKey, '#/jobs');
      await page.route('**/v1/queues/stream', (route) => route.abort('connectionrefused'));
      await page.reload();
      await page.getByRole('alert').filter({ hasText: 'cannot be reached' }).waitFor();
      expect(await page.getByLabel('API key').count()).toBe(0);
      await page.unroute('**/v1/queues/stream');
      await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    });

    it('says so when the server goes away, keeping the last figures', async () => {
      const doomed = await startTestApi(kind, { testDb: t });
      const page = await tabAt(doomed.url);
      await signIn(page, adminKey);
      await page.getByRole('table', { name: 'Queues' }).waitFor();
      await doomed.close();
      await page.getByText('The API server cannot be reached').waitFor();
      // The page keeps its last figures under the banner rather than going blank.
      expect(await page.getByRole('table', { name: 'Queues' }).count()).toBe(1);
    });

    it('says so when the key holds every event stream it may, and when it holds none again', async () => {
      const crowded = await startTestApi(kind, { testDb: t, settings: { sseMaxStreamsPerKey: 1 } });
      try {
        const signedIn = async (): Promise<Page> => {
          const page = await tabAt(crowded.url);
          await signIn(page, adminKey);
          return page;
        };
        const first = await signedIn();
        await first.getByRole('table', { name: 'Queues' }).waitFor();
        // A second tab is refused with the server's sentence, not "cannot be reached".
        const second = await signedIn();
        await second.getByRole('alert').filter({ hasText: 'event streams open' }).waitFor();
        // The first tab's stream drops (a proxy's cut) and another client takes its place before
        // the tab reconnects (it waits three seconds).
        crowded.server.closeAllConnections();
        let taker: Response | undefined;
        await eventually('another client to hold the place', async () => {
          const attempt = await fetch(`${crowded.url}/v1/queues/stream`, {
            headers: { authorization: `Bearer ${adminKey}` },
          });
          if (attempt.status === 200) taker = attempt;
          else await attempt.body?.cancel();
          return taker !== undefined;
        });
        await first.getByText('as many live streams as it may').waitFor();
        expect(await first.getByRole('table', { name: 'Queues' }).count()).toBe(1);
        // Once the place is free again, the tab is live again.
        await taker?.body?.cancel();
        await eventually(
          'the banner to go',
          async () => (await first.getByText('as many live streams').count()) === 0,
        );
      } finally {
        await crowded.close();
      }
    });

    it('shows queue counts that change without a reload, a job due later under scheduled, not ready', async () => {
      const page = await open(adminKey);
      const figure = async (name: string) =>
        Number((await textOf(page.getByRole('cell', { name: `system.echo ${name}` }))).replace(/\D/g, ''));
      const before = await figure('scheduled');
      // The worker only ever lowers the ready figure meanwhile (it drains ready jobs).
      const readyBefore = await figure('ready');
      const runAt = new Date(Date.now() + 3_600_000).toISOString();
      for (let i = 0; i < 3; i += 1) {
        const response = await api.request('POST', '/v1/jobs', {
          key: adminKey,
          body: { kind: 'system.echo', payload: { sleepMs: 0 }, runAt },
        });
        expect(response.status).toBe(202);
      }
      await eventually(
        'system.echo scheduled to grow by 3',
        async () => (await figure('scheduled')) >= before + 3,
      );
      expect(await figure('ready')).toBeLessThanOrEqual(readyBefore);
      await screenshot(page, 'overview');
    });

    it('filters the jobs list and pages it by cursor', async () => {
      const runAt = new Date(Date.now() + 3_600_000).toISOString();
      for (let i = 0; i < 3; i += 1)
        await api.queue.send('system.echo', { sleepMs: 0 }, { runAt, owner: 'ops' });
      const page = await open(adminKey, '#/jobs?limit=2');
      const table = page.getByRole('table', { name: 'Jobs' });
      const rows = table.getByRole('row');
      const next = page.getByRole('link', { name: 'Next page' });
      // Each wait names what only the awaited render shows: the URL changes before the page
      // re-renders, so a row count alone can still be the previous page's.
      await page.getByLabel('Kind').selectOption('system.echo');
      await eventually('the filtered first page', async () =>
        (await next.getAttribute('href'))!.includes('kind=system.echo'),
      );
      expect(await rows.count()).toBe(3);
      const firstPage = await textOf(rows.nth(1));
      await next.click();
      await eventually('a cursor in the URL', async () => page.url().includes('cursor='));
      await eventually('another page', async () => (await textOf(rows.nth(1))) !== firstPage);
      expect(page.url()).toContain('limit=2');

      await page.getByLabel('Owner', { exact: true }).fill('auditor');
      await page.getByRole('button', { name: 'Filter', exact: true }).click();
      await eventually('the owner in the URL', async () => page.url().includes('owner=auditor'));
      await eventually('only the auditor’s two jobs', async () => {
        const ids = await table.getByRole('link').allTextContents();
        return ids.length === 2 && ids.includes(failedId) && ids.includes(xssId);
      });
      await page.getByLabel('Owner', { exact: true }).fill('');
      await page.getByRole('button', { name: 'Filter', exact: true }).click();
      await eventually('no owner in the URL', async () => !page.url().includes('owner='));

      await page.getByLabel('State').selectOption('failed');
      await eventually('only failed jobs', async () => {
        const texts = await table.getByRole('cell').allTextContents();
        return texts.includes('failed') && !texts.includes('queued');
      });
      await screenshot(page, 'jobs');
    });

    it('keeps what is typed into a filter while the live statistics re-render the page', async () => {
      const page = await open(adminKey, '#/jobs');
      await page.getByLabel('Owner', { exact: true }).fill('audi');
      // A job of a kind no stats event has named yet: once the Kind list offers it, a stats
      // event has re-rendered the page since the typing.
      const unseen = 'console.rerender';
      await api.queue.send(unseen, {}, { runAt: new Date(Date.now() + 3_600_000).toISOString() });
      await eventually('a stats event naming the new kind', async () =>
        (await page.getByLabel('Kind').locator('option').allTextContents()).includes(unseen),
      );
      expect(await page.getByLabel('Owner', { exact: true }).inputValue()).toBe('audi');
    });

    it('shows the next key nothing the previous session read', async () => {
      await api.queue.send(
        'system.echo',
        { sleepMs: 0 },
        { owner: 'ops', runAt: new Date(Date.now() + 3_600_000).toISOString() },
      );
      const page = await open(adminKey, '#/jobs?owner=ops');
      await page.getByRole('table', { name: 'Jobs' }).getByRole('link').first().waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await signIn(page, readKey);
      // The same URL, read with a key that may not list another owner's jobs: refused, and the
      // admin's answer is not shown in its place.
      await page.getByRole('alert').filter({ hasText: 'Not allowed' }).waitFor();
      expect(await page.getByRole('table', { name: 'Jobs' }).count()).toBe(0);
    });

    it('retries a failed job and watches it complete', async () => {
      const page = await open(adminKey, `#/jobs/${failedId}`);
      await page.getByText('the first attempt failed on purpose').waitFor();
      await page.getByRole('button', { name: 'Retry' }).click();
      await page.getByText('completed', { exact: true }).waitFor();
      expect(await page.getByRole('button', { name: 'Retry' }).count()).toBe(0);
      await screenshot(page, 'job');
    });

    it('keeps the state a job reached when its progress arrives', async () => {
      // A kind no worker runs, so this test moves the job itself.
      const { job } = await api.queue.send('console.progress', {}, { owner: 'ops' });
      const page = await open(adminKey, `#/jobs/${job.id}`);
      const facts = page.getByRole('definition');
      await facts.getByText('queued', { exact: true }).waitFor();
      const claimed = await claimProgressJob(job.id);
      await facts.getByText('active', { exact: true }).waitFor();
      await api.backend.jobProgress({
        id: job.id,
        leaseToken: claimed.leaseToken,
        progress: { done: 1, total: 4 },
      });
      await page.getByRole('progressbar', { name: 'Job progress' }).waitFor();
      expect(await facts.getByText('active', { exact: true }).count()).toBe(1);
      expect(await facts.getByText('queued', { exact: true }).count()).toBe(0);
    });

    it('follows a job again after its event stream drops, saying so meanwhile', async () => {
      // A kind no worker runs, so this test moves the job itself.
      const { job } = await api.queue.send('console.progress', {}, { owner: 'ops' });
      // The first stream ends at once, as a proxy's idle cut would; the next one is refused
      // with 429 as a crowded key's would be; after that the stream is let through.
      let opened = 0;
      const page = await open(undefined);
      await page.route('**/v1/jobs/*/events', async (route) => {
        opened += 1;
        if (opened === 1) {
          await route.fulfill({ status: 200, contentType: 'text/event-stream', body: 'retry: 200\n\n' });
        } else if (opened === 2) {
          await route.fulfill({
            status: 429,
            contentType: 'application/problem+json',
            headers: { 'retry-after': '2' },
            body: JSON.stringify({ title: 'Too Many Requests', status: 429, detail: 'Too many streams.' }),
          });
        } else {
          await route.continue();
        }
      });
      await signIn(page, adminKey);
      await page.getByRole('navigation', { name: 'Pages' }).first().waitFor();
      await page.goto(`${api.url}/console/#/jobs/${job.id}`);
      const facts = page.getByRole('definition');
      await facts.getByText('queued', { exact: true }).waitFor();
      await page.getByRole('status').filter({ hasText: 'Live updates were interrupted' }).waitFor();
      await eventually('the third stream', async () => opened >= 3);
      await eventually(
        'the notice to go',
        async () => (await page.getByText('Live updates were interrupted').count()) === 0,
      );
      await claimProgressJob(job.id);
      await facts.getByText('active', { exact: true }).waitFor();
    });

    it('renders hostile text from the API as text', async () => {
      const page = await open(adminKey, `#/jobs/${xssId}`);
      await page.getByText(XSS_ERROR).waitFor();
      await page.getByText(XSS_PAYLOAD).waitFor();
      expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
      expect(await page.locator('img').count()).toBe(0);
    });

    it('uploads a CSV with its progress, then shows its rejected rows by line', async () => {
      const csv = [
        'external_id,name,region,team,risk_tier,owner_email,status',
        'M-1,First,NOWHERE,NOTEAM,T1,first@example.com,active',
        'M-2,Second,NOWHERE,NOTEAM,T1,not-an-email,sleeping',
        '',
      ].join('\n');
      const page = await open(adminKey, '#/imports');
      await page.getByLabel('CSV file').setInputFiles({
        name: 'models.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from(csv),
      });
      await page.getByRole('button', { name: 'Upload' }).click();
      await page.getByRole('progressbar', { name: 'Upload progress' }).waitFor();
      await eventually('the import in the URL', async () => page.url().includes('id='));
      const rejected = page.getByRole('table', { name: 'Rejected rows' });
      await rejected.waitFor();
      const lines = await rejected.getByRole('row').allTextContents();
      expect(lines.some((line) => line.startsWith('2'))).toBe(true);
      expect(lines.some((line) => line.startsWith('3'))).toBe(true);
      await page.getByRole('table', { name: 'Import history' }).getByText('completed').waitFor();
      await screenshot(page, 'imports');
    });

    it('shows an import’s end in the history even when a refresh of it was under way', async () => {
      const page = await open(adminKey, '#/imports');
      const history = page.getByRole('table', { name: 'Import history' });
      await history.waitFor();
      // The history's next answer is the one from before the upload, handed over only once the
      // import has ended: an answer that predates every change the page learns while it is in
      // flight, as a slow one can.
      const before = await api.request('GET', '/v1/jobs?kind=import.csv&limit=20', { key: adminKey });
      let release!: () => void;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      await page.route(
        /\/v1\/jobs\?kind=import\.csv/,
        async (route) => {
          await released;
          await route.fulfill({ json: before.body });
        },
        { times: 1 },
      );
      await page.getByLabel('CSV file').setInputFiles({
        name: 'models.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from(
          'external_id,name,region,team,risk_tier,owner_email,status\nM-9,Ninth,NOWHERE,NOTEAM,T1,x,active\n',
        ),
      });
      await page.getByRole('button', { name: 'Upload' }).click();
      await eventually('the import in the URL', async () => page.url().includes('id='));
      const id = new URLSearchParams(page.url().split('?')[1]).get('id')!;
      await page
        .getByRole('region', { name: 'Import', exact: true })
        .getByText('completed', { exact: true })
        .waitFor();
      release();
      await history
        .getByRole('row')
        .filter({ has: page.getByRole('link', { name: id }) })
        .getByText('completed', { exact: true })
        .waitFor();
    });

    it('shows the server’s message inline for an invalid cron', async () => {
      const put = await api.request('PUT', '/v1/schedules/console-test', {
        key: adminKey,
        body: { cron: '*/5 * * * *', kind: 'rebuild.compliance', payload: {} },
      });
      expect(put.status).toBe(201);
      const page = await open(adminKey, '#/schedules');
      await page.getByRole('link', { name: 'Edit console-test' }).click();
      await page.getByLabel('Cron').fill('every day at noon');
      await page.getByRole('button', { name: 'Save' }).click();
      expect(await textOf(page.getByRole('alert'))).toContain('five-field cron expression');
      expect(await page.getByLabel('Cron').getAttribute('aria-invalid')).toBe('true');
      await screenshot(page, 'schedules');
      await page.getByLabel('Cron').fill('0 12 * * *');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('cell', { name: '0 12 * * *' }).waitFor();
    });

    it('pauses a schedule and resumes it, and links its last run to the job it sent', async () => {
      const put = await api.request('PUT', '/v1/schedules/console-minutely', {
        key: adminKey,
        body: { cron: '* * * * *', kind: 'rebuild.compliance', payload: {} },
      });
      expect(put.status).toBe(201);
      // The next minute's tick, fired now with the queue's injected clock rather than waited for.
      const minute = Math.ceil(Date.now() / 60_000) * 60_000;
      const sent = (await api.backend.scheduleFireDue(new Date(minute + 10))).find(
        (job) => job.meta['schedule'] === 'console-minutely',
      );
      expect(sent).toBeDefined();
      const page = await open(adminKey, '#/schedules');
      const row = page
        .getByRole('row')
        .filter({ has: page.getByRole('rowheader', { name: 'console-minutely' }) });
      await row.getByText('Running', { exact: true }).waitFor();
      await row.getByRole('link', { name: 'Last run of console-minutely' }).click();
      await page.getByRole('heading', { name: `Job ${sent!.id}` }).waitFor();

      await page.goBack();
      await row.getByRole('button', { name: 'Pause console-minutely' }).click();
      await row.getByText('Paused', { exact: true }).waitFor();
      await row.getByText('none while paused').waitFor();
      const paused = await api.request('GET', '/v1/schedules/console-minutely', { key: adminKey });
      expect(paused.body.paused).toBe(true);
      await row.getByRole('button', { name: 'Resume console-minutely' }).click();
      await row.getByText('Running', { exact: true }).waitFor();
      const resumed = await api.request('GET', '/v1/schedules/console-minutely', { key: adminKey });
      expect(resumed.body).toMatchObject({ paused: false, lastJobId: sent!.id });
      expect((await api.request('DELETE', '/v1/schedules/console-minutely', { key: adminKey })).status).toBe(
        204,
      );
    });

    it('shows the reports as charts and tables once rebuilt', async () => {
      await seedDatabase(t.db, { models: 40, quiet: true });
      for (const kind of ['rebuild.kpi', 'rebuild.compliance']) {
        const sent = await api.request('POST', '/v1/jobs', { key: adminKey, body: { kind, payload: {} } });
        expect(sent.status).toBe(202);
        await eventually(`${kind} to complete`, async () => {
          const job = await api.request('GET', `/v1/jobs/${sent.body.id}`, { key: adminKey });
          return job.body.state === 'completed';
        });
      }
      const page = await open(adminKey, '#/reports');
      const regions = page.getByRole('table', { name: 'KPI by region' });
      await regions.waitFor();
      expect(await regions.getByRole('row').count()).toBeGreaterThan(1);
      await page.getByRole('img', { name: 'Models per compliance bucket, by region' }).waitFor();
      await page.getByRole('table', { name: 'Regional compliance' }).waitFor();
      await page.getByRole('table', { name: 'Attestation cycles' }).waitFor();
      await page.getByRole('table', { name: 'KPI by status' }).waitFor();
      await screenshot(page, 'reports');

      await page.getByLabel('Region code').fill('NOWHERE');
      await page.getByRole('button', { name: 'Show' }).click();
      await eventually('the region in the URL', async () => page.url().includes('region=NOWHERE'));
      await page.getByText('NOWHERE').last().waitFor();
      expect(await page.getByRole('alert').count()).toBeGreaterThan(0);
    });

    it('shows workers and the cache to an admin', async () => {
      const page = await open(adminKey, '#/workers');
      await page.getByRole('table', { name: 'Workers' }).getByText('live').first().waitFor();
      await screenshot(page, 'workers');
      await page.getByRole('link', { name: 'Cache' }).click();
      await page.getByRole('table', { name: 'Cache families' }).waitFor();
      expect(await page.getByRole('button', { name: /^Invalidate / }).count()).toBeGreaterThan(0);
      await screenshot(page, 'cache');
    });

    it('offers a read-only key no action, and ends its session once the key is revoked', async () => {
      const page = await open(readKey, `#/jobs/${xssId}`);
      await page.getByText(XSS_ERROR).waitFor();
      expect(await page.getByRole('button', { name: 'Retry' }).count()).toBe(0);
      await page.getByRole('link', { name: 'Schedules' }).click();
      await page.getByRole('table', { name: 'Schedules' }).waitFor();
      expect(await page.getByRole('link', { name: /^Edit / }).count()).toBe(0);
      expect(await page.getByRole('button', { name: /^(Pause|Resume) / }).count()).toBe(0);
      await page.getByRole('link', { name: 'Cache' }).click();
      await page.getByRole('table', { name: 'Cache families' }).waitFor();
      expect(await page.getByRole('button', { name: /^Invalidate / }).count()).toBe(0);
      expect(await page.getByRole('link', { name: 'Workers' }).count()).toBe(0);

      const record = (await listApiKeys(t.db)).find((key) => key.owner === 'auditor')!;
      await revokeApiKey(t.db, record.id);
      await page.getByText('Your session has ended').waitFor();
      await page.getByLabel('API key').waitFor();
    });
  });
}
