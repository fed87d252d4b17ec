import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';

/** Browser profiles for the console's browser tests, each cut off from everything but the gateway. */
export interface ConsoleVisitors {
  /**
   * A profile of its own (its own cookies, downloads allowed), whose every request outside the gateway is cut and noted in `outside`.
   * `bypassCSP` only so that a test can inject axe-core: the console itself runs no script.
   */
  newVisitor(locale?: string, viewport?: { readonly width: number; readonly height: number }, options?: { readonly bypassCSP?: boolean }): Promise<{ context: BrowserContext; page: Page }>;
  /** Signs in through the persona picker, as the persona whose button names `name`. */
  signIn(page: Page, name: string): Promise<void>;
  /** Every URL a page asked for outside the gateway's origin (each was aborted). */
  readonly outside: readonly string[];
}

/**
 * Visitors of the console at `gatewayUrl` in `browser`.
 *
 * @example
 * const { newVisitor, signIn, outside } = consoleVisitors(browser, city.gateway.url);
 */
export function consoleVisitors(browser: Browser, gatewayUrl: string): ConsoleVisitors {
  const outside: string[] = [];
  const origin = new URL(gatewayUrl).origin;
  return {
    outside,
    async newVisitor(locale = 'zh-CN', viewport = { width: 1280, height: 800 }, options = {}) {
      const context = await browser.newContext({ locale, viewport: { ...viewport }, acceptDownloads: true, ...(options.bypassCSP ? { bypassCSP: true } : {}) });
      await context.route('**/*', (route) => {
        const url = new URL(route.request().url());
        if (url.origin === origin) return route.continue();
        outside.push(url.href);
        return route.abort();
      });
      return { context, page: await context.newPage() };
    },
    async signIn(page, name) {
      await page.goto(`${gatewayUrl}/console`);
      await expect.poll(() => page.url()).toContain('/console/sign-in');
      await page.getByRole('button', { name }).click();
      await page.waitForLoadState('domcontentloaded');
    },
  };
}
