import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/launch-chromium.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';

describe('GraphiQL in a real browser', () => {
  let testCity: TestCity;
  let browser: Browser;
  beforeAll(async () => {
    // The system's Chromium (Debian's, as .ci/run installs), else the one npm ci brought; never a download
    // (ISTHMUS_CHROMIUM=bundled|system|<path> chooses: test/support/launch-chromium.ts).
    const launched = await launchChromium();
    browser = launched.browser;
    console.info(`GraphiQL test on ${launched.executable.source} Chromium ${browser.version()} (${launched.executable.executablePath})`);
    testCity = await startTestCity();
  });
  afterAll(async () => {
    await browser?.close();
    await testCity?.close();
  });

  it('opens on /graphql with no network beyond the gateway, and runs the example query', async () => {
    const page = await browser.newPage();
    // GraphiQL's own requests carry the reviewer's token and purpose, as a developer would set them in its Headers tab.
    await page.setExtraHTTPHeaders({ ...testCity.reviewer });
    const outside: string[] = [];
    // A closed government network has no CDN: every asset must come from the gateway itself.
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.protocol === 'data:' || url.protocol === 'blob:' || url.origin === new URL(testCity.gateway.url).origin) return route.continue();
      outside.push(url.origin);
      return route.abort();
    });
    await page.goto(`${testCity.gateway.url}/graphql`);
    await page.waitForSelector('.graphiql-container', { timeout: 20_000 });
    expect(await page.title()).toBe('Isthmus');
    const editor = await page.locator('.graphiql-query-editor').innerText({ timeout: 10_000 });
    expect(editor).toContain('socialInsurance');
    await page.click('.graphiql-execute-button');
    await expect.poll(async () => page.locator('.graphiql-response').innerText(), { timeout: 10_000 }).toContain('"insuredEmployeeCount"');
    expect(outside).toEqual([]);
    await page.screenshot({ path: `${process.env.TMPDIR ?? '/tmp'}/isthmus-graphiql.png` });
  });
});
