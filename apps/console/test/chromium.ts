// Debian's Chromium (package `chromium`; .ci/run installs it when missing), driven headless by
// playwright-core, for the console's browser tests and its benchmark: no browser is downloaded.
// A browser test file launches one browser (the console built first) and opens a signed-in tab
// per scenario (its own context, so its own sessionStorage).
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { buildConsole } from '../../../scripts/console-build.ts';

const CHROMIUM = '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    timeout: 60_000,
  });
}

/** Builds the console (skipped when up to date) and launches Chromium. */
export async function launchConsoleBrowser(): Promise<Browser> {
  await buildConsole({ quiet: true });
  return launchChromium();
}

/** A fresh tab (its own context, so its own sessionStorage) on the console served at `url`. */
export async function consoleTab(
  browser: Browser,
  contexts: BrowserContext[],
  { url, hash = '', waitMs }: { url: string; hash?: string; waitMs: number },
): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(waitMs);
  await page.goto(`${url}/console/${hash}`);
  return page;
}

/** Fills in `key` and presses Sign in; whether the server accepts it is the caller's to see. */
export async function signIn(page: Page, key: string): Promise<void> {
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** A fresh tab on the console at `hash`, signed in with `key`; its context is added to `contexts`. */
export async function signedInTab(
  browser: Browser,
  contexts: BrowserContext[],
  { url, key, hash, waitMs }: { url: string; key: string; hash: string; waitMs: number },
): Promise<Page> {
  const page = await consoleTab(browser, contexts, { url, hash, waitMs });
  await signIn(page, key);
  await page.getByRole('navigation', { name: 'Pages' }).first().waitFor();
  return page;
}
