import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCity, type TestCity } from './support/test-city.ts';

/** Debian's Chromium; `.ci/run` installs it. Never a test tool's own browser download. */
const CHROMIUM = '/usr/bin/chromium';

describe('GraphiQL in a real browser', () => {
  let testCity: TestCity;
  let browser: Browser;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
    testCity = await startTestCity();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
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
