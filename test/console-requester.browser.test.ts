import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleResident } from '../examples/demo-city.ts';
import { quotaWindow } from '../policies/quota-window.ts';
import { launchChromium } from './support/launch-chromium.ts';
import { awaitWindowRoom } from './support/quota-window-room.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';

/**
 * The requesting bureau's journey in headless Chromium against the running
 * demo gateway: the housing fund's developer files a request in the
 * console and submits it, the HRSS data officer rejects it with a reason,
 * and the developer sees the reason. No request leaves the gateway.
 */
describe('the requesting bureau in a real browser', () => {
  let city: TestCity;
  let browser: Browser;
  const outside: string[] = [];
  const PURPOSE = 'housing-loan-income-check';
  const REASON = '申请的缴费基数字段超出本次贷款审核的必要范围，请缩小字段后重新申请';

  beforeAll(async () => {
    city = await startTestCity();
    browser = (await launchChromium()).browser;
  });
  afterAll(async () => {
    await browser?.close();
    await city?.close();
  });

  async function visitor(): Promise<Page> {
    const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 800 } });
    const origin = new URL(city.gateway.url).origin;
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.origin === origin) return route.continue();
      outside.push(url.href);
      return route.abort();
    });
    return context.newPage();
  }

  async function signIn(page: Page, name: string): Promise<void> {
    await page.goto(`${city.gateway.url}/console`);
    await page.getByRole('button', { name }).click();
    await page.waitForLoadState('domcontentloaded');
  }

  it('files, submits, is rejected with a reason, and sees the reason', async () => {
    const developer = await visitor();
    await signIn(developer, '赵强');
    await developer.goto(`${city.gateway.url}/console/requests/new`);
    await developer.getByLabel('使用数据的应用（应用编号）').fill('loan-review');
    await developer.getByRole('checkbox', { name: /^SocialInsurance\.monthlyBase/ }).check();
    await developer.getByLabel('用途（英文短横线格式，如 housing-loan-review）').fill(PURPOSE);
    await developer.getByLabel('法律依据').fill('《住房公积金管理条例》第二十六条');
    await developer.getByRole('button', { name: '提交申请' }).click();
    await expect.poll(() => developer.url()).toContain('/console/requests?done=filed');
    const row = developer.locator('tr', { hasText: PURPOSE });
    expect(await row.innerText()).toContain('待审批');
    const id = (await row.locator('th a').innerText()).trim();

    const officer = await visitor();
    await signIn(officer, '李娜');
    await officer.goto(`${city.gateway.url}/console/agreements/${id}`);
    await officer.getByLabel('驳回理由（申请方可见）').fill(REASON);
    await officer.getByRole('button', { name: '驳回' }).click();
    await expect.poll(() => officer.url()).toContain('done=reject');

    await developer.goto(`${city.gateway.url}/console/requests`);
    const rejected = await developer.locator('tr', { hasText: PURPOSE }).innerText();
    expect(rejected).toContain('已驳回');
    expect(rejected).toContain(REASON);
    await developer.screenshot({ path: `${process.env.TMPDIR ?? '/tmp'}/isthmus-console-requests-zh.png`, fullPage: true });
    expect((await city.gateway.agreements.get(id))!.agreement).toMatchObject({ status: 'REJECTED', rejectionReason: REASON });
    expect(outside).toEqual([]);
  });

  it('files a request with a quota, and once approved its page shows the use of this minute beside the limit', async () => {
    const developer = await visitor();
    await signIn(developer, '赵强');
    await developer.goto(`${city.gateway.url}/console/requests/new`);
    await developer.getByLabel('使用数据的应用（应用编号）').fill('loan-review');
    await developer.getByRole('checkbox', { name: /^Person\.socialInsurance/ }).check();
    await developer.getByRole('checkbox', { name: /^SocialInsurance\.monthlyBase/ }).check();
    await developer.getByLabel('用途（英文短横线格式，如 housing-loan-review）').fill('housing-loan-metered');
    await developer.getByLabel('法律依据').fill('《住房公积金管理条例》第二十六条');
    await developer.getByLabel('每分钟最多请求次数').fill('3');
    await developer.getByRole('button', { name: '提交申请' }).click();
    await expect.poll(() => developer.url()).toContain('/console/requests?done=filed');
    const id = (await developer.locator('tr', { hasText: 'housing-loan-metered' }).locator('th a').innerText()).trim();
    expect((await city.gateway.agreements.get(id))!.agreement.quota).toEqual({ requestsPerMinute: 3 });

    const officer = await visitor();
    await signIn(officer, '李娜');
    await officer.goto(`${city.gateway.url}/console/agreements/${id}`);
    await officer.getByRole('button', { name: '批准' }).click();
    await expect.poll(() => officer.url()).toContain('done=approve');
    // Two reads under it, with a token of its scope, as the housing fund's app sends them.
    const reader = { authorization: `Bearer ${await city.token({ bureau: 'housing-fund', app: 'loan-review', user: 'qian.li@housing-fund', roles: ['developer'], scopes: [`agreement:${id}`], ttl: '1h' })}`, 'x-isthmus-purpose': 'housing-loan-metered' };
    const minute = await awaitWindowRoom('requestsPerMinute', 15_000);
    for (let read = 0; read < 2; read += 1) {
      const reply = await city.graphql('query($id: ID!) { person(idNumber: $id) { socialInsurance { monthlyBase } } }', { id: sampleResident().idNumber }, reader);
      expect(reply.body.errors).toBeUndefined();
    }
    await officer.reload();
    const quota = officer.locator('.terms div', { hasText: '用量配额' });
    expect(await quota.locator('dd').innerText()).toBe('每分钟 3 次请求 · 本分钟已用 2/3');
    expect(quotaWindow('requestsPerMinute', new Date()).start).toEqual(minute.start);
    expect(outside).toEqual([]);
  });
});
