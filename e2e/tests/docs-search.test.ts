// The docs in Chromium, on the server's own docs route (strict CSP, nosniff): the search box typed into,
// navigated by keyboard, and its results page; the navigation folding away on a phone.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '@parley/server/testing';
import { launch } from './harness.js';

const DOCS = fileURLToPath(new URL('../../docs-site/', import.meta.url));

let app: TestApp;
let base: string;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(`${DOCS}dist/search.js`)) execFileSync(process.execPath, ['build.mjs'], { cwd: DOCS, stdio: 'inherit' });
  // The real server's docs route: its CSP, nosniff and content types are what the search must work under.
  [app, browser] = await Promise.all([startTestApp(), launch()]);
  base = `${app.url}/docs/`;
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** A page that fails the test on any script error or CSP violation. */
async function open(path: string, opts: { width?: number; colorScheme?: 'light' | 'dark' } = {}): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1200, height: 900 }, colorScheme: opts.colorScheme ?? 'light' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(base + path);
  return { page, errors };
}

const results = (page: Page) => page.locator('form.search .search-results a');

describe('docs search in Chromium', () => {
  it('lists matching pages as you type, and the keyboard reaches and opens one', async () => {
    const { page, errors } = await open('');
    await page.getByRole('searchbox', { name: 'Search the docs' }).fill('verifyWebhook');
    await expect.poll(() => results(page).count()).toBeGreaterThan(0);
    expect(await results(page).first().getAttribute('href')).toBe('/docs/sdk-node-verifywebhook.html');
    expect(await page.locator('form.search [role=status]').textContent()).toMatch(/\d+ pages? match/);
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('href'))).toBe('/docs/sdk-node-verifywebhook.html');
    await page.keyboard.press('Enter');
    await page.waitForURL(/sdk-node-verifywebhook\.html$/);
    expect(await page.locator('main h1').textContent()).toBe('verifyWebhook() function');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('finds endpoints, says when nothing matches, and Escape clears', async () => {
    const { page, errors } = await open('quick-start.html', { colorScheme: 'dark' });
    const box = page.getByRole('searchbox', { name: 'Search the docs' });
    await box.fill('allow a domain');
    await expect.poll(async () => (await results(page).allTextContents()).slice(0, 3)).toContain('Allow a domain');
    await box.fill('zzqxv');
    await expect.poll(() => page.locator('form.search [role=status]').textContent()).toBe('No pages match.');
    expect(await page.locator('form.search .search-results').isHidden()).toBe(true);
    await box.fill('roles');
    await expect.poll(() => results(page).count()).toBeGreaterThan(0);
    await box.press('Escape');
    expect(await box.inputValue()).toBe('');
    expect(await page.locator('form.search .search-results').isHidden()).toBe(true);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('Enter opens the results page with every match; at 360 px the results stay on screen', async () => {
    const { page, errors } = await open('api.html', { width: 360 });
    const box = page.getByRole('searchbox', { name: 'Search the docs' });
    await box.fill('webhook');
    await expect.poll(() => results(page).count()).toBeGreaterThan(0);
    const list = await page.locator('form.search .search-results').boundingBox();
    expect(list!.x).toBeGreaterThanOrEqual(0);
    expect(list!.x + list!.width).toBeLessThanOrEqual(360);
    await box.press('Enter');
    await page.waitForURL(/search\.html\?q=webhook$/);
    await expect.poll(() => page.locator('.search-page .search-results a').count()).toBeGreaterThan(8);
    expect(await page.locator('.search-page [role=status]').textContent()).toMatch(/^\d+ pages match\.$/);
    expect(await box.inputValue()).toBe('webhook');
    expect(errors).toEqual([]);
    await page.context().close();
  });
});

describe('the navigation', () => {
  it('on a phone the links fold under Contents, so the article starts on the first screen; wide, they stay open', async () => {
    const { page, errors } = await open('agent-inbox.html', { width: 360 });
    const heading = page.getByRole('heading', { level: 1 });
    expect((await heading.boundingBox())!.y).toBeLessThan(400);
    const guide = page.getByRole('navigation', { name: 'Documentation' }).getByRole('link', { name: 'Admin API' });
    expect(await guide.isVisible()).toBe(false);
    await page.getByText('Contents', { exact: true }).click();
    await guide.click();
    await page.waitForURL(/admin-api\.html$/);
    await page.setViewportSize({ width: 1200, height: 900 });
    const nav = page.getByRole('navigation', { name: 'Documentation' });
    await expect.poll(() => nav.getByRole('link', { name: 'Webhooks' }).isVisible()).toBe(true);
    expect(await page.getByText('Contents', { exact: true }).isVisible()).toBe(false);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
