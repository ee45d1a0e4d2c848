// A real headless Chromium (Debian's chromium package, DEBIAN_PACKAGES) driven by playwright-core, for tests of
// the web pages Perennial serves. Each page records its console errors and uncaught exceptions, so a test can
// assert there were none; screenshots go to .cache/test-artifacts/<folder>/ (gitignored) and their paths are
// returned for the test to print.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { repoRoot } from '../../localcluster/cluster.js';

export const chromiumPath = '/usr/bin/chromium';

export interface WatchedPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Console messages of type error and uncaught page errors, in order. */
  readonly errors: string[];
}

export class HeadlessChromium {
  private constructor(private readonly browser: Browser, private readonly artifacts: string) {}

  /** Launches Chromium; screenshots go to .cache/test-artifacts/<folder>/. */
  static async launch(folder: string): Promise<HeadlessChromium> {
    // --no-sandbox: the tests run as root (the local node needs it), where Chromium's sandbox refuses to start.
    const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    const artifacts = join(repoRoot, '.cache', 'test-artifacts', folder);
    mkdirSync(artifacts, { recursive: true });
    return new HeadlessChromium(browser, artifacts);
  }

  /** A fresh context (no cookies shared with other pages), with extra headers on every request (e.g. Authorization). */
  async newPage(headers: Record<string, string> = {}): Promise<WatchedPage> {
    const context = await this.browser.newContext({ extraHTTPHeaders: headers, viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    return { page, context, errors };
  }

  /** A full-page screenshot; the path it was written to. */
  async screenshot(page: Page, name: string): Promise<string> {
    const path = join(this.artifacts, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    return path;
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}
