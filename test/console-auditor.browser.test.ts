import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoCity } from '../examples/data/generate-city.ts';
import { DEMO_CONSUMERS } from '../examples/demo-agreements.ts';
import { sampleResident } from '../examples/demo-city.ts';
import { approveAgreement, requestAgreement, type LifecycleResult } from '../policies/agreement-lifecycle.ts';
import type { Principal } from '../policies/principal.ts';
import { consoleVisitors, type ConsoleVisitors } from './support/console-visitors.ts';
import { launchChromium } from './support/launch-chromium.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';
import { describeEachStore } from './support/describe-each-store.ts';

const DAY_MS = 86_400_000;
const IDENTITY = 'agr-demo-allowance-identity';
const NAME_AND_GENDER = 'query($id: ID!) { person(idNumber: $id) { name gender } }';
/** The housing fund's fraud review, whose reads the citizen is told of only a day later (an investigation must not alert its subject). */
const DELAYED = { id: 'agr-test-fraud-review', app: 'fraud-review', scope: 'housing-fraud-review', purpose: 'housing-fraud-review', days: 1 } as const;

function staff(bureau: string, user: string, role: 'developer' | 'data_officer'): Principal {
  return { issuer: 'isthmus-dev', subject: user, user, bureau, app: 'isthmus-console', roles: [role], scopes: [], expiresAt: Number.MAX_SAFE_INTEGER };
}

function ok(result: LifecycleResult): Extract<LifecycleResult, { ok: true }> {
  if (!result.ok) throw new Error(`the test's agreement was refused: ${JSON.stringify(result)}`);
  return result;
}

/**
 * The auditor's and the citizen's journeys in headless Chromium against the
 * running demo city: the auditor signs in through the persona picker, lands
 * on the access log, finds a read made through /graphql by its data subject,
 * opens it, runs verification and exports the filtered log as CSV; the
 * citizen lands on "who read my data" and sees that read in plain Chinese,
 * on a phone's width without sideways scrolling, in Chinese and English; a
 * read under a disclosure delay stays hidden until the console's clock (the
 * test city's `clock`, shared with the access log writer) passes its end. No
 * request leaves the gateway's origin.
 */
describeEachStore('the auditor and the citizen in a real browser, the gateway on $name', (target) => {
  const city = demoCity();
  const me = sampleResident(city);
  /** How far the console's clock runs ahead of the real one; moved by the disclosure test only. */
  let aheadMs = 0;
  let testCity: TestCity;
  let browser: Browser;
  let visitors: ConsoleVisitors;
  const newVisitor = (...args: Parameters<ConsoleVisitors['newVisitor']>) => visitors.newVisitor(...args);
  const signIn = (...args: Parameters<ConsoleVisitors['signIn']>) => visitors.signIn(...args);

  beforeAll(async () => {
    testCity = await startTestCity({}, { store: target, clock: () => new Date(Date.now() + aheadMs) });
    browser = (await launchChromium()).browser;
    visitors = consoleVisitors(browser, testCity.gateway.url);
    // The read everyone looks for: civil affairs' allowance reviewer reads the resident's identity through /graphql.
    const read = await testCity.graphql(NAME_AND_GENDER, { id: me.idNumber });
    expect(read.body.errors, JSON.stringify(read.body.errors)).toBeUndefined();
    expect(read.body.data.person.name).toBe(me.name);
  });
  afterAll(async () => {
    await browser?.close();
    await testCity?.close();
  });

  const citizenCards = (page: Page) => page.locator('li.read').allInnerTexts();

  it('the auditor lands on the access log, finds the /graphql read by its subject, opens it, verifies the chains and exports the CSV', async () => {
    const { context, page } = await newVisitor();
    await signIn(page, '徐平');
    expect(new URL(page.url()).pathname).toBe('/console/audit/log');

    await page.getByLabel('数据主体（身份证号或统一社会信用代码）').fill(me.idNumber);
    await page.getByRole('button', { name: '筛选' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('subject')).toBe(me.idNumber);
    const read = page.locator('table.log tbody tr', { hasText: '市民政局' }).filter({ hasNotText: '查看日志' });
    expect(await read.count()).toBe(1);
    await read.getByRole('link', { name: '查看详情' }).click();
    await expect.poll(() => page.locator('h1').innerText()).toBe('访问日志记录');
    const entry = await page.locator('dl.terms').innerText();
    expect(entry).toContain(IDENTITY);
    expect(entry).toContain(`person:${me.idNumber}`);
    expect(entry).toContain('Person.name');
    expect(entry).toContain('minimum-living-allowance-review');

    await page.getByRole('link', { name: '日志校验' }).click();
    await page.getByRole('button', { name: '立即校验' }).click();
    await expect.poll(() => page.getByRole('status').innerText()).toContain('校验通过');

    await page.goto(`${testCity.gateway.url}/console/audit/log?subjectKind=person&subject=${me.idNumber}&consumer=${DEMO_CONSUMERS.civilAffairs.bureau}`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: '导出 CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^isthmus-access-log-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = await readFile((await download.path())!, 'utf8');
    const [header, ...rows] = csv.trimEnd().split('\r\n');
    expect(header!.split(',')).toEqual(expect.arrayContaining(['occurred_at', 'consumer_bureau', 'agreement_ids', 'subjects']));
    expect(csv.charCodeAt(0)).not.toBe(0xfeff);
    const reads = rows.filter((row) => row.includes(',READ,'));
    expect(reads).toHaveLength(1);
    expect(reads[0]).toContain(IDENTITY);
    expect(reads[0]).toContain(`person:${me.idNumber}`);
    await context.close();
  });

  it('the citizen lands on who read their data and sees the read in plain Chinese, with its legal basis', async () => {
    const { context, page } = await newVisitor();
    await signIn(page, me.name);
    expect(new URL(page.url()).pathname).toBe('/console/citizen/reads');
    const legalBasis = (await testCity.gateway.agreements.get(IDENTITY))!.agreement.legalBasis;
    const cards = await citizenCards(page);
    const read = cards.filter((card) => card.includes('市民政局查看了您的信息'));
    expect(read).toHaveLength(1);
    expect(read[0]).toContain('市公安局');
    expect(read[0]).toContain('姓名');
    expect(read[0]).toContain(legalBasis);
    // The purpose in words, not its code.
    expect(read[0]).toContain('最低生活保障资格审核');
    expect(read[0]).not.toMatch(/Person\.|idNumber|minimum-living-allowance-review/);
    await context.close();
  });

  for (const locale of ['zh-CN', 'en']) {
    it(`the citizen's page fits a phone (390×844) without sideways scrolling in ${locale}`, async () => {
      const { context, page } = await newVisitor(locale, { width: 390, height: 844 });
      await signIn(page, me.name);
      expect(new URL(page.url()).pathname).toBe('/console/citizen/reads');
      expect(await page.locator('html').getAttribute('lang')).toBe(locale);
      expect((await citizenCards(page)).length).toBeGreaterThan(0);
      expect(await page.evaluate(() => document.scrollingElement!.scrollWidth)).toBeLessThanOrEqual(390);
      await context.close();
    });
  }

  it('a read under a disclosure delay stays hidden from the citizen until the delay ends', async () => {
    const { gateway } = testCity;
    const requested = ok(
      requestAgreement(
        staff(DEMO_CONSUMERS.housingFund.bureau, 'zhao.qiang@housing-fund', 'developer'),
        {
          id: DELAYED.id,
          consumerApp: DELAYED.app,
          providerBureau: 'public-security',
          fields: ['Person.idNumber', 'Person.name'],
          masks: {},
          purpose: DELAYED.purpose,
          legalBasis: '《住房公积金管理条例》第三十七条：核查骗提住房公积金行为',
          rowScope: 'ANY',
          scope: DELAYED.scope,
          validFrom: new Date().toISOString(),
          validUntil: new Date(Date.now() + 30 * DAY_MS).toISOString(),
          disclosureDelay: { days: DELAYED.days, legalReason: '调查期间告知本人将妨碍调查' },
          submit: true,
        },
        new Date(),
        gateway.catalogue,
      ),
    );
    await gateway.agreements.create(requested);
    await gateway.agreements.transition(ok(approveAgreement(requested.agreement, staff('public-security', 'wang.lei@public-security', 'data_officer'), {}, new Date(), gateway.catalogue)));
    await gateway.agreementRegistry.refresh();
    const investigator = {
      authorization: `Bearer ${await testCity.token({ bureau: DEMO_CONSUMERS.housingFund.bureau, app: DELAYED.app, user: 'qian.hui@housing-fund', roles: ['developer'], scopes: [DELAYED.scope], ttl: '1h' })}`,
      'x-isthmus-purpose': DELAYED.purpose,
    };
    const read = await testCity.graphql('query($id: ID!) { person(idNumber: $id) { name } }', { id: me.idNumber }, investigator);
    expect(read.body.errors, JSON.stringify(read.body.errors)).toBeUndefined();

    const fraudReview = (cards: readonly string[]) => cards.filter((card) => card.includes('市住房公积金管理中心查看了您的信息'));
    const { context, page } = await newVisitor();
    await signIn(page, me.name);
    expect((await citizenCards(page)).length).toBeGreaterThan(0);
    expect(fraudReview(await citizenCards(page))).toEqual([]);

    // A day and an hour on, by the console's clock, the delay has ended: the same page, reloaded, shows the read.
    aheadMs = DELAYED.days * DAY_MS + 3_600_000;
    try {
      await page.reload();
      expect(new URL(page.url()).pathname).toBe('/console/citizen/reads');
      const shown = fraudReview(await citizenCards(page));
      expect(shown).toHaveLength(1);
      expect(shown[0]).toContain('《住房公积金管理条例》第三十七条');
      expect(shown[0]).toContain('姓名');
    } finally {
      aheadMs = 0;
      await context.close();
    }
  });

  it('sent no request anywhere but the gateway', () => {
    expect(visitors.outside).toEqual([]);
  });
});
