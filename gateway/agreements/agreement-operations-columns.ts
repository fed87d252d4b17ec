import type { Agreement } from '../../policies/agreement.ts';
import type { Selectable } from 'kysely';
import type { AgreementsTable } from './agreement-tables.ts';

/**
 * How an agreement's `operations` term is stored: the jsonb column of
 * migration 0014. An agreement stored before, or one that pins no
 * operations, has null there and reads back without the term.
 */

/** The column for `agreement.operations`. */
export function operationsColumns(agreement: Agreement): { readonly operations: string | null } {
  return { operations: agreement.operations === undefined ? null : JSON.stringify(agreement.operations) };
}

/** The term, from a row's column: absent when it is null. */
export function operationsOf(row: Pick<Selectable<AgreementsTable>, 'operations'>): Pick<Agreement, 'operations'> {
  return row.operations === null ? {} : { operations: row.operations };
}
