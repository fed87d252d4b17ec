import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './support/launch-chromium.ts';
import { consoleVisitors, type ConsoleVisitors } from './support/console-visitors.ts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoCity } from '../examples/data/generate-city.ts';
import { DEMO_CONSUMERS } from '../examples/demo-agreements.ts';
import { sampleResident } from '../examples/demo-city.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';
import { describeEachStore } from './support/describe-each-store.ts';

/** Debian's Chromium; `.ci/run` installs it. Never a test tool's own browser download. */
const HOUSING_LOAN = 'agr-demo-housing-loan';
const SOCIAL_INSURANCE = 'query($id: ID!) { person(idNumber: $id) { socialInsurance { insuredStatus monthlyBase } } }';

/**
 * The data officer's journey in headless Chromium against the running demo
 * city: sign in through the persona picker, find the housing fund's pending
 * request, approve it with the keyboard, and see the housing fund's next
 * GraphQL query succeed; revoke it with written reasons, and see the next
 * one FORBIDDEN. The housing fund's own data officer cannot approve it. No
 * request leaves the gateway's origin.
 */
// The journeys run against the gateway on each store: PGlite, as `npm start` runs it, and PostgreSQL.
describeEachStore('the console in a real browser, the gateway on $name', (target) => {
  const city = demoCity();
  const me = sampleResident(city);
  const myAccount = city.insuranceAccounts.find((account) => account.idNumber === me.idNumber)!;
  let testCity: TestCity;
  let browser: Browser;
  let housingFund: Record<string, string>;
  let visitors: ConsoleVisitors;

  beforeAll(async () => {
    testCity = await startTestCity({}, { store: target });
    const { housingFund: consumer } = DEMO_CONSUMERS;
    housingFund = {
      authorization: `Bearer ${await testCity.token({ bureau: consumer.bureau, app: consumer.app, user: 'zhao.qiang@housing-fund', roles: ['developer'], scopes: [consumer.scope], ttl: '1h' })}`,
      'x-isthmus-purpose': consumer.purpose,
    };
    // The system's Chromium, else the one npm ci brought; never a download (test/support/launch-chromium.ts).
    browser = (await launchChromium()).browser;
    visitors = consoleVisitors(browser, testCity.gateway.url);
  });
  afterAll(async () => {
    await browser?.close();
    await testCity?.close();
  });

  async function socialInsurance() {
    const reply = await testCity.graphql(SOCIAL_INSURANCE, { id: me.idNumber }, housingFund);
    return { data: reply.body.data, codes: (reply.body.errors ?? []).map((error) => error.extensions.code) };
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: `${process.env.TMPDIR ?? '/tmp'}/isthmus-console-${name}.png`, fullPage: true });

  it('the housing fund’s own data officer sees its request but cannot approve it, and is told the rule', async () => {
    const { context, page } = await visitors.newVisitor();
    await visitors.signIn(page, '钱慧');
    await page.goto(`${testCity.gateway.url}/console/agreements?side=consumed&tab=pending`);
    await page.getByRole('link', { name: HOUSING_LOAN }).click();
    await expect.poll(() => page.locator('h1').innerText()).toContain(HOUSING_LOAN);
    expect(await page.getByRole('button', { name: '批准' }).count()).toBe(0);
    const note = await page.getByRole('note').first().innerText();
    expect(note).toContain('只有提供方部门（市人力资源和社会保障局）的数据专员可以批准、驳回或撤销此协议。');
    expect(note).toContain("only a data officer of the providing bureau 'human-resources-social-security' may approve this agreement");
    await shot(page, 'requester-officer');
    await context.close();
    expect((await testCity.gateway.agreements.get(HOUSING_LOAN))!.agreement.status).toBe('PENDING');
  });

  it('the HRSS data officer approves the housing fund’s request, the next query succeeds; a revocation makes the next one FORBIDDEN', async () => {
    const before = await socialInsurance();
    expect(before.data).toEqual({ person: { socialInsurance: null } });
    expect(before.codes).toContain('FORBIDDEN');

    const { context, page } = await visitors.newVisitor();
    await visitors.signIn(page, '李娜');
    // The persona picker lands a data officer in the inbox.
    expect(new URL(page.url()).pathname).toBe('/console/inbox');
    const request = page.locator('li.request', { has: page.locator(`#request-${HOUSING_LOAN}`) });
    const card = await request.innerText();
    expect(card).toContain('市住房公积金管理中心 · loan-review 的申请');
    expect(card).toContain('SocialInsurance.monthlyBase');
    expect(card).toContain('有条件共享');
    expect(card).toContain('《住房公积金管理条例》第二十六条');
    expect(card).toMatch(/还剩 \d+ 个工作日|今天到期|已逾期/);
    await shot(page, 'inbox-zh');

    await page.getByRole('link', { name: '市住房公积金管理中心 · loan-review 的申请' }).click();
    await expect.poll(() => page.locator('h1').innerText()).toContain(HOUSING_LOAN);
    await shot(page, 'agreement-zh');
    // By keyboard: focus the button and press Enter, as a person without a mouse would.
    await page.getByRole('button', { name: '批准' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('status').innerText()).toContain('已批准');
    expect((await testCity.gateway.agreements.get(HOUSING_LOAN))!.agreement).toMatchObject({ status: 'ACTIVE', approvedBy: 'li.na@hrss' });

    // The very next query of the housing fund reads the fields the agreement names.
    const approved = await socialInsurance();
    expect(approved).toEqual({ data: { person: { socialInsurance: { insuredStatus: myAccount.insuredStatus, monthlyBase: myAccount.monthlyBaseYuan } } }, codes: [] });

    // In English now: the language switch is a button of every page.
    await page.getByRole('button', { name: 'English' }).click();
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('en');
    expect(await page.locator('h1').innerText()).toContain(`Agreement ${HOUSING_LOAN}`);
    const history = await page.locator('table.history').innerText();
    expect(history).toMatch(/Submitted\s+zhao\.qiang@housing-fund/);
    expect(history).toMatch(/Approved\s+li\.na@hrss/);

    const reason = 'The housing fund failed its data security assessment; sharing of contribution bases is suspended.';
    await page.getByLabel('Reasons for revoking (the requester reads them)').fill(reason);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('status').innerText()).toContain('Revoked.');
    await shot(page, 'agreement-revoked-en');
    expect((await testCity.gateway.agreements.get(HOUSING_LOAN))!.agreement).toMatchObject({ status: 'REVOKED', revocationReason: reason });

    const revoked = await socialInsurance();
    expect(revoked.data).toEqual({ person: { socialInsurance: null } });
    expect(revoked.codes).toContain('FORBIDDEN');
    await context.close();
  });

  it('sent no request anywhere but the gateway', () => {
    expect(visitors.outside).toEqual([]);
  });
});
