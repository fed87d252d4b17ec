import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AgreementStatus } from '../policies/agreement.ts';
import type { AgreementAction, LifecycleRule } from '../policies/agreement-lifecycle.ts';
import { MASK_KINDS, SHARING_CATEGORIES, type Sensitivity } from '../policies/catalogue.ts';
import { ROLES } from '../policies/principal.ts';
import { CONSOLE_ERROR_CODES } from '../gateway/console/console-error.ts';
import { pickLocale } from '../gateway/console/i18n/pick-locale.ts';
import { createTranslator, LOCALES, MESSAGE_CATALOGUES, type Locale } from '../gateway/console/i18n/translator.ts';
import { AGREEMENT_SIDES, AGREEMENT_TABS } from '../gateway/console/views/agreements-page.ts';

/**
 * The console's words: one catalogue per language with the same keys and
 * placeholders, a message for every code a page can show, dates in the
 * city's time zone, and no word written into a template instead of a
 * catalogue.
 */

const VIEWS_DIR = new URL('../gateway/console/views/', import.meta.url);

/** Keys one catalogue has and another lacks, and keys whose placeholders differ. */
function compareCatalogues(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(a)) if (!(key in b)) problems.push(`missing in the second: ${key}`);
  for (const key of Object.keys(b)) if (!(key in a)) problems.push(`missing in the first: ${key}`);
  const placeholders = (message: string) => [...message.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
  for (const key of Object.keys(a)) {
    if (key in b && JSON.stringify(placeholders(a[key]!)) !== JSON.stringify(placeholders(b[key]!))) problems.push(`placeholders differ: ${key}`);
  }
  return problems;
}

/** Every value of a union, listed through a record so that a new member without an entry does not compile. */
function all<T extends string>(members: Record<T, true>): readonly T[] {
  return Object.keys(members) as T[];
}

/**
 * The literal parts of every html`…` template in a source text, with each
 * `${…}` replaced by a marker. Expressions may hold strings and templates of
 * their own, nested to any depth.
 */
function htmlTemplates(source: string): string[] {
  const found: string[] = [];
  const skipString = (at: number, quote: string): number => {
    let i = at + 1;
    while (i < source.length && source[i] !== quote) i += source[i] === '\\' ? 2 : 1;
    return i + 1;
  };
  // Reads a template from its opening backtick; returns its literal text and the index after its closing backtick.
  const readTemplate = (at: number): [string, number] => {
    let text = '';
    let i = at + 1;
    while (i < source.length && source[i] !== '`') {
      if (source[i] === '\\') {
        text += source.slice(i, i + 2);
        i += 2;
      } else if (source[i] === '$' && source[i + 1] === '{') {
        i = skipExpression(i + 2);
        text += '\u0000';
      } else text += source[i++];
    }
    return [text, i + 1];
  };
  const skipExpression = (at: number): number => {
    let depth = 1;
    let i = at;
    while (i < source.length && depth > 0) {
      const char = source[i]!;
      if (char === "'" || char === '"') i = skipString(i, char);
      else if (char === '`') {
        const isHtml = source.slice(i - 4, i) === 'html';
        const [text, end] = readTemplate(i);
        if (isHtml) found.push(text);
        i = end;
      } else {
        if (char === '{') depth += 1;
        if (char === '}') depth -= 1;
        i += 1;
      }
    }
    return i;
  };
  for (let i = source.indexOf('html`'); i !== -1; i = source.indexOf('html`', i)) {
    const [text, end] = readTemplate(i + 4);
    found.push(text);
    i = end;
  }
  return found;
}

/** Words a person would read that are written into a template: text between tags, and the attributes browsers read out or show. */
function literalWords(template: string): string[] {
  const words: string[] = [];
  for (const match of template.matchAll(/\s(aria-label|title|placeholder|alt)="([^"]*)"/g)) {
    if (/\p{L}/u.test(match[2]!.replaceAll('\u0000', ''))) words.push(`${match[1]}="${match[2]}"`);
  }
  // Tags go, and so do attributes a fragment adds to a tag around it (html` aria-current="page"`).
  const text = template
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<[^>]*>/g, '\u0000')
    .replace(/(^|\s)[a-z-]+="[^"]*"/g, '\u0000');
  for (const piece of text.split('\u0000')) if (/\p{L}/u.test(piece)) words.push(piece.trim());
  return words;
}

describe('the console’s message catalogues', () => {
  it('have the same keys and the same placeholders in every language, and no empty message', () => {
    const [first, ...others] = LOCALES.map((locale) => MESSAGE_CATALOGUES[locale]);
    for (const other of others) expect(compareCatalogues(first!, other)).toEqual([]);
    for (const locale of LOCALES) {
      const empty = Object.entries(MESSAGE_CATALOGUES[locale]).filter(([, message]) => message.trim() === '');
      expect(empty, locale).toEqual([]);
    }
  });

  it('the comparison fails on a key missing in either language or a placeholder of one', () => {
    const zh = MESSAGE_CATALOGUES['zh-CN'];
    const { ['nav.inbox']: _dropped, ...withoutInbox } = MESSAGE_CATALOGUES.en;
    expect(compareCatalogues(zh, withoutInbox)).toEqual(['missing in the second: nav.inbox']);
    expect(compareCatalogues(withoutInbox, zh)).toEqual(['missing in the first: nav.inbox']);
    expect(compareCatalogues(zh, { ...MESSAGE_CATALOGUES.en, 'reply.daysLeft': 'working days left' })).toEqual(['placeholders differ: reply.daysLeft']);
  });

  it('have words for every status, step, role, category, sensitivity, mask, rule, tab and error a page can show', () => {
    const statuses = all<AgreementStatus>({ DRAFT: true, PENDING: true, ACTIVE: true, REVOKED: true, EXPIRED: true, REJECTED: true });
    const actions = all<AgreementAction>({ CREATE: true, SUBMIT: true, APPROVE: true, REJECT: true, REVOKE: true, EXPIRE: true });
    const rules = all<LifecycleRule>({ REQUESTER_ROLE: true, CONSUMER_BUREAU: true, PROVIDER_DATA_OFFICER: true, SEPARATION_OF_DUTIES: true });
    const sensitivities = all<Sensitivity>({ LOW: true, MEDIUM: true, HIGH: true });
    const keys = [
      ...statuses.map((status) => `status.${status}`),
      ...actions.map((action) => `action.${action}`),
      ...rules.map((rule) => `refusal.${rule}`),
      ...ROLES.map((role) => `role.${role}`),
      ...SHARING_CATEGORIES.map((category) => `category.${category}`),
      ...sensitivities.map((sensitivity) => `sensitivity.${sensitivity}`),
      ...MASK_KINDS.map((mask) => `mask.${mask}`),
      ...['ANY', 'SELF'].map((scope) => `rowScope.${scope}`),
      ...AGREEMENT_TABS.map((tab) => `agreements.tab.${tab}`),
      ...AGREEMENT_SIDES.map((side) => `agreements.side.${side}`),
      ...LOCALES.map((locale) => `language.${locale}`),
      ...CONSOLE_ERROR_CODES.flatMap((code) => [`error.${code}`, `error.${code}.title`]),
    ];
    for (const locale of LOCALES) {
      const missing = keys.filter((key) => !(key in MESSAGE_CATALOGUES[locale]));
      expect(missing, locale).toEqual([]);
    }
  });
});

describe('the console’s templates', () => {
  const views = readdirSync(VIEWS_DIR).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'));

  it('write no word of their own: every word a person reads comes from a catalogue', () => {
    expect(views.length).toBeGreaterThan(5);
    const found: Record<string, string[]> = {};
    for (const name of views) {
      const words = htmlTemplates(readFileSync(new URL(name, VIEWS_DIR), 'utf8')).flatMap(literalWords);
      if (words.length > 0) found[name] = words;
    }
    expect(found).toEqual({});
  });

  it('hold no script and no inline style, which the console’s CSP would block', () => {
    for (const name of views) {
      const templates = htmlTemplates(readFileSync(new URL(name, VIEWS_DIR), 'utf8')).join('\n');
      expect(templates, name).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
    }
  });

  it('the scan finds a literal word, in text and in a label, and looks into nested templates', () => {
    const source = 'const a = html`<p>${t.t("x")}</p>${ok ? html`<button aria-label="Close">${icon}</button>` : html`<b>审批</b>`}`;';
    expect(htmlTemplates(source).flatMap(literalWords)).toEqual(['aria-label="Close"', '审批']);
    expect(htmlTemplates('html`<p>${t.t(`a.${b}`)} – ${c}</p>`').flatMap(literalWords)).toEqual([]);
  });
});

describe('the console’s language', () => {
  it.each<[string | undefined, string | undefined, Locale]>([
    [undefined, undefined, 'zh-CN'],
    [undefined, 'en-US,en;q=0.9', 'en'],
    [undefined, 'fr-FR, en;q=0.5, zh-CN;q=0.8', 'zh-CN'],
    [undefined, 'de, en-GB;q=0.3', 'en'],
    [undefined, 'zh-TW', 'zh-CN'],
    [undefined, 'en;q=0, zh;q=0.1', 'zh-CN'],
    [undefined, 'fr, de', 'zh-CN'],
    [undefined, 'en;q=0.5, zh-CN;q=0.5', 'en'],
    ['en', 'zh-CN', 'en'],
    ['zh-CN', 'en', 'zh-CN'],
    ['klingon', 'en', 'en'],
  ])('choice %s with Accept-Language %s → %s', (choice, acceptLanguage, locale) => {
    expect(pickLocale(choice, acceptLanguage)).toBe(locale);
  });

  it('shows dates and times in Asia/Shanghai, whatever the server’s time zone', () => {
    const zh = createTranslator('zh-CN');
    const en = createTranslator('en');
    // 16:30 UTC on the last day of the year is half past midnight on New Year's Day in Shanghai.
    expect(zh.dateTime('2026-12-31T16:30:00Z')).toBe('2027年1月1日 00:30');
    expect(en.dateTime('2026-12-31T16:30:00Z')).toBe('January 1, 2027 at 00:30');
    expect(zh.date('2026-12-31T16:30:00Z')).toBe('2027年1月1日');
    expect(en.date(new Date('2026-12-31T15:59:00Z'))).toBe('December 31, 2026');
  });

  it('fills placeholders, formats numbers, and leaves a placeholder without a value as written', () => {
    const zh = createTranslator('zh-CN');
    expect(zh.t('reply.daysLeft', { count: 3 })).toBe('还剩 3 个工作日');
    expect(createTranslator('en').t('error.LIMIT_EXCEEDED', { max: 32768 })).toContain('32,768 bytes');
    expect(zh.t('reply.daysLeft')).toBe('还剩 {count} 个工作日');
  });
});
