import type { Catalogue } from '../../policies/catalogue.ts';

/**
 * A {@link Catalogue} that always reads the one `current()` returns, for the
 * parts of the gateway that check input against the catalogue (agreement
 * requests, the console) and so must see a reloaded one without being
 * rebuilt. Each property is read afresh: a caller that needs one consistent
 * catalogue across several reads takes `current()` itself.
 */
export function liveCatalogue(current: () => Catalogue): Catalogue {
  return {
    get bureaus() {
      return current().bureaus;
    },
    get fields() {
      return current().fields;
    },
    get entities() {
      return current().entities;
    },
    get rootFields() {
      return current().rootFields;
    },
  };
}
