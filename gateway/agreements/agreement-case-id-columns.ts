import type { Agreement } from '../../policies/agreement.ts';
import type { AgreementsTable } from './agreement-tables.ts';

/**
 * How an agreement's `caseId` term is stored: the two columns of migration
 * 0013. An agreement stored before has `case_id_required = false` and reads
 * back without the term.
 */

/** The columns for `agreement.caseId`. */
export function caseIdColumns(agreement: Agreement): { readonly case_id_required: boolean; readonly case_id_format: string | null } {
  return { case_id_required: agreement.caseId?.required === true, case_id_format: agreement.caseId?.format ?? null };
}

/** The term, from a row's columns: absent unless the row requires a case id. */
export function caseIdOf(row: { readonly case_id_required: boolean; readonly case_id_format: AgreementsTable['case_id_format'] }): Pick<Agreement, 'caseId'> {
  if (row.case_id_required !== true) return {};
  return { caseId: { required: true, ...(row.case_id_format === null ? {} : { format: row.case_id_format }) } };
}
