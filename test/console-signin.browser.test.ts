import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCity } from '../examples/data/generate-city.ts';
import { sampleResident } from '../examples/demo-city.ts';
import { demoConsole } from '../examples/demo-console.ts';
import { warnWithoutCjkFont } from './support/cjk-font-check.ts';
import { launchChromium } from './support/launch-chromium.ts';
import { consoleVisitors, type ConsoleVisitors } from './support/console-visitors.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';

/**
 * Every console page, for everyone who can sign in, in both languages, in
 * headless Chromium against the running demo city: pages are found by
 * following the console's own links (so pages added later are crawled too),
 * axe-core finds no serious or critical violation on any of them, nothing
 * is wider than the viewport or clipped at 1280×800 and 390×844, and the
 * keyboard alone reaches and works every control. Screenshots of each page
 * kind go to `test-output/console/` (git-ignored) for a person to look at.
 */

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SHOTS = join(import.meta.dirname, '..', 'test-output', 'console');
const LOCALES = ['zh-CN', 'en'] as const;
const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
/** Pages of one kind (the same path with other ids) are alike: two of each show what the kind does. */
const PER_KIND = 2;
/** A bound on one crawl, whatever the console grows to. */
const MAX_PAGES = 40;
/** One crawl's bound in time: up to MAX_PAGES pages, each checked by axe at two sizes (about 1 s each on a busy 2-core machine). */
const CRAWL_TIMEOUT_MS = 180_000;

interface Finding {
  readonly page: string;
  readonly who: string;
  readonly what: string;
}

describe('every console page, for every persona, in both languages', () => {
  const me = sampleResident(demoCity());
  const personas = demoConsole(me).personas;
  let testCity: TestCity;
  let browser: Browser;
  let origin: string;
  let visitors: ConsoleVisitors;

  beforeAll(async () => {
    await warnWithoutCjkFont();
    mkdirSync(SHOTS, { recursive: true });
    testCity = await startTestCity();
    origin = new URL(testCity.gateway.url).origin;
    browser = (await launchChromium()).browser;
    visitors = consoleVisitors(browser, testCity.gateway.url);
  });
  afterAll(async () => {
    await browser?.close();
    await testCity?.close();
  });

  /** A profile of its own, the CSP bypassed so that the test can inject axe-core. */
  const visitor = (locale: string, viewport: { width: number; height: number }) => visitors.newVisitor(locale, viewport, { bypassCSP: true });

  async function signIn(page: Page, persona: string | undefined): Promise<void> {
    await page.goto(`${origin}/console/sign-in`);
    if (persona === undefined) return;
    await page.locator(`form:has(input[name="persona"][value="${persona}"]) button`).click();
    await page.waitForLoadState('domcontentloaded');
    expect(page.url()).not.toContain('/sign-in');
  }

  /** The kind of a page: its path with ids folded, and its query's names with values that are not ids. */
  function kind(href: string): string {
    const url = new URL(href);
    const path = url.pathname.split('/').map((segment) => (/\d/.test(segment) ? ':id' : segment)).join('/');
    const query = [...url.searchParams].map(([name, value]) => `${name}=${/\d/.test(value) ? ':id' : value}`).sort().join('&');
    return `${path}?${query}`;
  }

  /** Follows the console's links from the start page, breadth first, and yields each page once loaded. */
  async function* crawl(page: Page, start: string): AsyncGenerator<string> {
    const queue = [start];
    const seen = new Set<string>([start]);
    const kinds = new Map<string, number>();
    let visited = 0;
    while (queue.length > 0 && visited < MAX_PAGES) {
      const href = queue.shift()!;
      const response = await page.goto(href);
      visited += 1;
      expect(response?.status(), href).toBeLessThan(500);
      yield page.url();
      // A link marked `download` is a file (the auditor's exports), not a page.
      const links = await page.$$eval('a[href]:not([download])', (anchors) => anchors.map((anchor) => (anchor as HTMLAnchorElement).href));
      for (const link of links) {
        const url = new URL(link);
        url.hash = '';
        if (url.origin !== origin || !url.pathname.startsWith('/console') || url.pathname.startsWith('/console/assets/') || url.pathname.startsWith('/console/sign-in/')) continue;
        // Exports are files, not pages.
        if (/\.(csv|jsonl|json)$/.test(url.pathname) || url.searchParams.has('format')) continue;
        const k = kind(url.href);
        if (seen.has(url.href) || (kinds.get(k) ?? 0) >= PER_KIND) continue;
        seen.add(url.href);
        kinds.set(k, (kinds.get(k) ?? 0) + 1);
        queue.push(url.href);
      }
    }
  }

  async function axe(page: Page): Promise<string[]> {
    await page.addScriptTag({ content: AXE });
    const violations = await page.evaluate(async () => {
      const result = await (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe.run(document, { resultTypes: ['violations'] });
      return result.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical').map((violation) => `${violation.impact} ${violation.id}: ${violation.help} at ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
    });
    return violations;
  }

  /** What is wider than the viewport, or text cut off by its box (outside a scrolling container, which is there to scroll). */
  async function overflow(page: Page): Promise<string[]> {
    return page.evaluate(() => {
      const found: string[] = [];
      const width = document.documentElement.clientWidth;
      if (document.documentElement.scrollWidth > width + 1) found.push(`the page scrolls sideways (${document.documentElement.scrollWidth} > ${width})`);
      const scrolls = (element: Element | null): boolean => {
        for (let at = element; at; at = at.parentElement) if (['auto', 'scroll'].includes(getComputedStyle(at).overflowX)) return true;
        return false;
      };
      const name = (element: Element) => `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}${element.className && typeof element.className === 'string' ? `.${element.className.split(' ').join('.')}` : ''} "${(element.textContent ?? '').trim().slice(0, 40)}"`;
      for (const element of document.body.querySelectorAll('*')) {
        const box = element.getBoundingClientRect();
        if (box.width === 0 || box.height === 0 || element.closest('.visually-hidden, .skip')) continue;
        if (box.right > width + 1 && !scrolls(element.parentElement)) found.push(`${name(element)} reaches ${Math.round(box.right)}px`);
        const style = getComputedStyle(element);
        if (['hidden', 'clip'].includes(style.overflowX) && element.scrollWidth > element.clientWidth + 1) found.push(`${name(element)} is clipped`);
      }
      return [...new Set(found)].slice(0, 10);
    });
  }

  const slug = (href: string) => {
    const url = new URL(href);
    return (`${url.pathname.replace(/^\/console\/?/, '') || 'home'}${url.search}`).replace(/[^a-z0-9-]+/gi, '_').slice(0, 80);
  };

  for (const locale of LOCALES) {
    for (const who of [undefined, ...personas.map((persona) => persona.id)]) {
      it(`${who ?? 'signed out'} (${locale}): every page axe-clean, nothing overlapping, shot at both sizes`, async () => {
        const findings: Finding[] = [];
        const pages: string[] = [];
        const desktop = await visitor(locale, VIEWPORTS.desktop);
        try {
          await signIn(desktop.page, who);
          for await (const href of crawl(desktop.page, who === undefined ? `${origin}/console/sign-in` : desktop.page.url())) {
            pages.push(href);
            for (const what of await axe(desktop.page)) findings.push({ page: href, who: who ?? 'signed out', what });
            for (const what of await overflow(desktop.page)) findings.push({ page: href, who: who ?? 'signed out', what: `1280: ${what}` });
            await desktop.page.screenshot({ path: join(SHOTS, `${locale}-${who ?? 'signed-out'}-1280-${slug(href)}.png`), fullPage: true });
          }
        } finally {
          await desktop.context.close();
        }
        const phone = await visitor(locale, VIEWPORTS.phone);
        try {
          await signIn(phone.page, who);
          for (const href of pages) {
            await phone.page.goto(href);
            for (const what of await axe(phone.page)) findings.push({ page: href, who: who ?? 'signed out', what: `390: ${what}` });
            for (const what of await overflow(phone.page)) findings.push({ page: href, who: who ?? 'signed out', what: `390: ${what}` });
            await phone.page.screenshot({ path: join(SHOTS, `${locale}-${who ?? 'signed-out'}-390-${slug(href)}.png`), fullPage: true });
          }
        } finally {
          await phone.context.close();
        }
        expect(pages.length).toBeGreaterThan(0);
        expect(findings).toEqual([]);
        expect(visitors.outside).toEqual([]);
      }, CRAWL_TIMEOUT_MS);
    }
  }

  it('works with the keyboard alone: skip link first, every control reachable with a visible focus, a persona picked with Enter', async () => {
    const { context, page } = await visitor('zh-CN', VIEWPORTS.desktop);
    try {
      await page.goto(`${origin}/console/sign-in`);
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.className)).toBe('skip');
      await page.keyboard.press('Enter');
      expect(await page.evaluate(() => location.hash)).toBe('#main');
      const reached: string[] = [];
      const target = personas.find((persona) => persona.claims.roles?.includes('data_officer'))!;
      for (let step = 0; step < 40; step += 1) {
        await page.keyboard.press('Tab');
        const focused = await page.evaluate(() => {
          const element = document.activeElement as HTMLElement | null;
          if (!element || element === document.body) return undefined;
          const style = getComputedStyle(element);
          const form = element.closest('form');
          return { tag: element.tagName, visible: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2, persona: (form?.querySelector('input[name="persona"]') as HTMLInputElement | null)?.value };
        });
        if (!focused) break;
        reached.push(focused.tag);
        expect(focused.visible, `focus on ${focused.tag} is visible`).toBe(true);
        if (focused.persona === target.id) {
          await page.keyboard.press('Enter');
          await page.waitForURL((url) => !url.pathname.includes('/sign-in'));
          break;
        }
      }
      expect(reached).toContain('BUTTON');
      expect(page.url()).not.toContain('/sign-in');
      // Signed in: the keyboard reaches the navigation and the sign-out button.
      const controls: string[] = [];
      for (let step = 0; step < 30; step += 1) {
        await page.keyboard.press('Tab');
        controls.push(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.innerText?.trim() ?? ''));
      }
      expect(controls).toContain('退出登录');
    } finally {
      await context.close();
    }
  });
});
