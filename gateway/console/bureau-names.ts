import type { Catalogue } from '../../policies/catalogue.ts';
import type { LocalName } from './console-persona.ts';
import type { Locale } from './i18n/translator.ts';

/** Names bureaus in the reader's language. */
export type BureauNamer = (bureau: string, locale: Locale) => string;

/**
 * A bureau's name from the catalogue (the providing bureaus), else from
 * `others` (consumer bureaus the catalogue does not list, such as 民政局),
 * else its id: an id is still an answer a person can act on.
 */
export function createBureauNamer(catalogue: Pick<Catalogue, 'bureaus'>, others: ReadonlyMap<string, LocalName> = new Map()): BureauNamer {
  return (bureau, locale) => {
    const name = catalogue.bureaus.get(bureau)?.name ?? others.get(bureau);
    if (!name) return bureau;
    return locale === 'zh-CN' ? name.zh : name.en;
  };
}
