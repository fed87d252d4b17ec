import { DEFAULT_LOCALE, LOCALES, type Locale } from './translator.ts';

/** Longest `Accept-Language` value read; browsers send a few dozen bytes, anything longer is not a browser's. */
const MAX_ACCEPT_LANGUAGE_LENGTH = 512;

/** `value` as a console locale, if it is one exactly (`zh-CN`, `en`). */
export function asLocale(value: string | undefined): Locale | undefined {
  return LOCALES.find((locale) => locale === value);
}

/**
 * The language a page is shown in: the user's own choice (the language
 * switch's cookie) first, then the browser's `Accept-Language` by its
 * weights, then 简体中文. Any Chinese tag (`zh`, `zh-Hans`, `zh-TW`) picks
 * zh-CN and any English one (`en-GB`) picks en: the console has one catalogue
 * of each, and a reader of Traditional Chinese reads Simplified better than
 * English.
 *
 * @example
 * pickLocale(undefined, 'en-US,en;q=0.9,zh-CN;q=0.8'); // 'en'
 * pickLocale('zh-CN', 'en-US');                         // 'zh-CN'
 */
export function pickLocale(choice: string | undefined, acceptLanguage: string | undefined): Locale {
  const chosen = asLocale(choice);
  if (chosen) return chosen;
  if (!acceptLanguage || acceptLanguage.length > MAX_ACCEPT_LANGUAGE_LENGTH) return DEFAULT_LOCALE;
  const ranges = acceptLanguage
    .split(',')
    .map((part, index) => {
      const [tag = '', ...parameters] = part.trim().split(';');
      const q = parameters.map((parameter) => /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(parameter)?.[1]).find((value) => value !== undefined);
      return { tag: tag.trim().toLowerCase(), weight: q === undefined ? 1 : Number(q), index };
    })
    .filter((range) => range.tag !== '' && range.weight > 0)
    // Stable on ties: among equal weights the browser's own order stands.
    .sort((a, b) => b.weight - a.weight || a.index - b.index);
  for (const { tag } of ranges) {
    if (tag === '*') return DEFAULT_LOCALE;
    if (tag === 'zh' || tag.startsWith('zh-')) return 'zh-CN';
    if (tag === 'en' || tag.startsWith('en-')) return 'en';
  }
  return DEFAULT_LOCALE;
}
