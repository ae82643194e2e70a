/// <reference lib="dom" />
/**
 * Debian's Chromium, headless, driven by puppeteer-core, with the network off: every request that is
 * not the report file itself is failed and remembered, so a test can assert that none was attempted.
 * Used by the report's browser tests, the screenshots and bench/report.ts.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const CHROMIUM = process.env['TCPLENS_CHROMIUM'] ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or null when they can. */
export function chromiumUnavailableReason(): string | null {
  return existsSync(CHROMIUM) ? null : `${CHROMIUM} not found (Debian package chromium)`;
}

export interface OpenedPage {
  page: Page;
  /** Console errors and uncaught page errors. */
  errors: string[];
  /** Every request other than the report file (all were failed). */
  blocked: string[];
}

export interface BrowserSession {
  browser: Browser;
  open(file: string, viewport?: { width: number; height: number }): Promise<OpenedPage>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<BrowserSession> {
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'tcplens-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir,
    protocolTimeout: 120_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  return {
    browser,
    async open(file, viewport = { width: 1400, height: 900 }) {
      const page = await browser.newPage();
      await page.setViewport(viewport);
      const errors: string[] = [];
      const blocked: string[] = [];
      const url = pathToFileURL(path.resolve(file)).href;
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.setRequestInterception(true);
      page.on('request', (req) => {
        if (req.url() === url) void req.continue();
        else {
          blocked.push(req.url());
          void req.abort('internetdisconnected');
        }
      });
      await page.goto(url, { waitUntil: 'load', timeout: 120_000 });
      await page.waitForFunction(() => document.body.dataset['ready'] !== undefined, { timeout: 120_000 });
      return { page, errors, blocked };
    },
    async close() {
      await browser.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
