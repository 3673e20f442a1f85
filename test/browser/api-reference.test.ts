import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';

/**
 * GET /api/docs in a real browser: headless Chromium (Debian's `chromium` package) driven by
 * playwright-core. Every request the page makes to another host is refused and recorded, so the page
 * is shown to work offline, as behind internal ingress.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const skip = !available && process.env.CI !== 'true';
if (skip) {
  console.warn(
    `\n⚠️  SKIPPING the browser test of /api/docs: no Chromium at ${CHROMIUM}. Install it with\n` +
      '   apt-get update && apt-get install -y chromium\n' +
      '   (or set CHROMIUM_PATH). Under CI=true, .ci/run installs it and its absence fails.\n',
  );
}

let stack: Stack;
let context: BrowserContext;
let page: Page;
let profileDir: string;
let document: any;
const offHost: string[] = [];
const failedLocal: string[] = [];
/** Console errors, and the viewer's complaints about the document. */
const consoleProblems: string[] = [];

describe.skipIf(skip)('the API reference page in Chromium', () => {
  beforeAll(async () => {
    stack = await startStack();
    document = await (await fetch(`${stack.api}/openapi.json`)).json();
    profileDir = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    const origin = new URL(stack.api).origin;
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${origin}/`) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      offHost.push(url);
      return route.abort('blockedbyclient');
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('response', (response) => {
      if (response.status() >= 400 && !response.url().includes('/api/users/')) failedLocal.push(`${response.status()} ${response.url()}`);
    });
    page.on('console', (message) => {
      if (message.type() === 'error' || /validation/i.test(message.text())) consoleProblems.push(`${message.type()}: ${message.text()}`);
    });
    await page.goto(`${stack.api}/docs`);
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    await stack?.close();
  });

  const operations = () =>
    Object.entries<any>(document.paths).flatMap(([path, item]) => Object.entries<any>(item).map(([method, op]) => ({ path, method, op })));

  it('renders every documented operation, each with a try-it button', async () => {
    const all = operations();
    await expect
      .poll(() => page.getByRole('button', { name: 'Test Request' }).count(), { timeout: 150_000, interval: 500 })
      .toBe(all.length);
    for (const { op } of all) {
      await expect.poll(() => page.getByRole('heading', { name: op.summary, exact: true }).count(), { timeout: 10_000 }).toBeGreaterThan(0);
    }
    for (const name of ['Task', 'ChatMessage', 'Profile', 'Error']) {
      expect(await page.getByRole('button', { name, exact: true }).count()).toBeGreaterThan(0);
    }
  }, 180_000);

  it('sends a try-it request with the pre-filled x-user-id, and it succeeds', async () => {
    await page
      .getByRole('button', { name: /Where the chatbot conversation stands/ })
      .first()
      .click();
    await page.locator('[id$="chatbot-workflow/GET/users/{userId}/chat/workflow"]').getByRole('button', { name: 'Test Request' }).click();
    const dialog = page.getByRole('dialog');
    const answered = page.waitForResponse((response) => response.url().endsWith('/api/users/alice/chat/workflow'), { timeout: 60_000 });
    await dialog.getByRole('button', { name: /Send get request to/ }).click();
    const response = await answered;
    expect(response.request().headers()['x-user-id']).toBe('alice');
    expect(response.status()).toBe(200);
    expect(await response.json()).toEqual({ state: 'idle' });
    await expect.poll(() => dialog.getByText('"idle"').count(), { timeout: 20_000 }).toBeGreaterThan(0);
  }, 120_000);

  it('loads nothing from any other host, every request it makes to the app succeeds, and the viewer accepts the document', () => {
    expect(offHost).toEqual([]);
    expect(failedLocal).toEqual([]);
    expect(consoleProblems).toEqual([]);
  });
});
