import type { LocalName } from './console-persona.ts';
import type { Locale } from './i18n/translator.ts';

/** Names a witness (by its key name, `audit-office.demo-city`) in the reader's language. */
export type WitnessNamer = (witness: string, locale: Locale) => string;

/**
 * A witness as the city calls it (`audit-office.demo-city` → 市审计局 / Municipal
 * Audit Office), from the console's wiring; else its key name, which is
 * what a receipt's verifier will see and can still look up.
 */
export function createWitnessNamer(names: ReadonlyMap<string, LocalName> = new Map()): WitnessNamer {
  return (witness, locale) => {
    const name = names.get(witness);
    if (!name) return witness;
    return locale === 'zh-CN' ? name.zh : name.en;
  };
}
