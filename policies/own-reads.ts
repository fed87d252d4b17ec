import type { Catalogue, CatalogueField, MaskKind } from './catalogue.ts';

/**
 * A bureau's reads of its own data are not cross-bureau, and need no
 * agreement; but level-3 protection audits every user, so reads of a
 * bureau's own personal or high-sensitivity fields go to the access log like
 * any other read, unless the bureau's manifest says `"logOwnReads": false`.
 * Pure.
 */

/** Masks the catalogue gives only to personal data: a field masked so is about a person wherever it lives. */
export const PERSONAL_DATA_MASKS: readonly MaskKind[] = ['ID_NUMBER', 'NAME', 'PHONE', 'ADDRESS', 'DATE_TO_YEAR'];

/**
 * True for a field whose reading is audited even by its own bureau:
 * sensitivity `HIGH`, a field of the person entity (`personEntity`, the
 * entity citizens are: `Person`), or a field the catalogue masks as personal
 * data (a name, an id number, a phone, an address, a birth date).
 */
export function isPersonalOrHigh(field: CatalogueField, personEntity: string): boolean {
  return field.sensitivity === 'HIGH' || field.typeName === personEntity || (field.mask !== undefined && PERSONAL_DATA_MASKS.includes(field.mask));
}

/**
 * True when an operation of `bureau` released some of the bureau's own
 * fields that {@link isPersonalOrHigh} names, and the bureau logs its own
 * reads (the default).
 */
export function logsOwnRead(
  released: readonly { readonly coordinate: string }[],
  bureau: string,
  catalogue: Catalogue,
  personEntity: string,
): boolean {
  if (catalogue.bureaus.get(bureau)?.logOwnReads === false) return false;
  return released.some((field) => {
    const entry = catalogue.fields.get(field.coordinate);
    return entry !== undefined && entry.bureau === bureau && isPersonalOrHigh(entry, personEntity);
  });
}
