import { EN_MESSAGES } from './en-messages.ts';
import { ZH_CN_MESSAGES, type MessageKey } from './zh-cn-messages.ts';

export type { MessageKey } from './zh-cn-messages.ts';

/** The console's languages: 简体中文 first, English by choice. */
export type Locale = 'zh-CN' | 'en';
/** Every locale, in the order the language switch offers them. */
export const LOCALES: readonly Locale[] = ['zh-CN', 'en'];
/** Shown when neither the user's choice nor the browser names a language the console has. */
export const DEFAULT_LOCALE: Locale = 'zh-CN';
/** Every date and time the console shows is the city's: China has one time zone, whatever the server's is. */
export const CONSOLE_TIME_ZONE = 'Asia/Shanghai';

/** The message catalogue of each locale: one file per language, the same keys in each (checked by the compiler and a test). */
export const MESSAGE_CATALOGUES: Readonly<Record<Locale, Readonly<Record<MessageKey, string>>>> = { 'zh-CN': ZH_CN_MESSAGES, en: EN_MESSAGES };

/** Values for a message's `{name}` placeholders. */
export type MessageParams = Readonly<Record<string, string | number>>;

/** The words and formats of one language. */
export interface Translator {
  readonly locale: Locale;
  /** The message `key` with its `{name}` placeholders filled in; a placeholder without a value stays as written, so a test can see it. */
  t(key: MessageKey, params?: MessageParams): string;
  /** An instant as date and time in {@link CONSOLE_TIME_ZONE}. */
  dateTime(at: string | Date): string;
  /** An instant's calendar date in {@link CONSOLE_TIME_ZONE}. */
  date(at: string | Date): string;
  /** A count with the locale's digit grouping. */
  number(value: number): string;
}

/**
 * The translator of one locale. Build one per locale at start-up: the date
 * formats are built here, not per request.
 *
 * @example
 * const { t, dateTime } = createTranslator('zh-CN');
 * t('inbox.daysLeft', { count: 3 }); // '还剩 3 个工作日'
 * dateTime('2026-01-01T00:00:00Z');   // '2026年1月1日 08:00'
 */
export function createTranslator(locale: Locale): Translator {
  const messages = MESSAGE_CATALOGUES[locale];
  const dateTimeFormat = new Intl.DateTimeFormat(locale, { timeZone: CONSOLE_TIME_ZONE, dateStyle: 'long', timeStyle: 'short', hourCycle: 'h23' });
  const dateFormat = new Intl.DateTimeFormat(locale, { timeZone: CONSOLE_TIME_ZONE, dateStyle: 'long' });
  const numberFormat = new Intl.NumberFormat(locale);
  const instant = (at: string | Date) => (at instanceof Date ? at : new Date(at));
  return {
    locale,
    t(key, params) {
      const message = messages[key];
      if (!params) return message;
      return message.replace(/\{(\w+)\}/g, (placeholder, name: string) => {
        const value = params[name];
        return value === undefined ? placeholder : typeof value === 'number' ? numberFormat.format(value) : value;
      });
    },
    dateTime: (at) => dateTimeFormat.format(instant(at)),
    date: (at) => dateFormat.format(instant(at)),
    number: (value) => numberFormat.format(value),
  };
}
