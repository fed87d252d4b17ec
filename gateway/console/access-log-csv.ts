import type { AuditedAccessLogItem } from '../access-log/access-log-reader.ts';
import { neutralizeText } from '../../policies/display-safe-text.ts';

/**
 * The columns of the console's CSV export, in order. English column names:
 * they are identifiers a spreadsheet formula or a script refers to, the same
 * in every language of the console.
 */
export const ACCESS_LOG_CSV_COLUMNS = [
  'occurred_at', 'id', 'chain_id', 'seq', 'action', 'outcome', 'consumer_bureau', 'client_app', 'user', 'roles', 'citizen', 'purpose',
  'case_id', 'agreement_ids', 'provider_bureaus', 'fields_returned', 'denied', 'subjects', 'hidden_until', 'hidden_reason', 'request_id', 'duration_ms',
  // Last, so that scripts reading the columns before it by position still work.
  'legal_bases',
] as const;

/** Cells that a spreadsheet would read as a formula (CSV injection, OWASP): `=`, `+`, `-`, `@`, a tab or a carriage return first. */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One cell, quoted as RFC 4180 says: in double quotes when it holds a comma,
 * a quote, a CR or an LF, with quotes doubled. A cell that would start a
 * formula gets a leading `'` inside its quotes, so Excel shows the text
 * rather than running it; the JSONL export keeps every value exactly.
 * Control characters, line breaks and bidirectional controls in a value are
 * written as `\uXXXX` first: a stored value cannot forge a row or steer the
 * terminal or spreadsheet that shows it.
 */
export function csvCell(raw: string): string {
  const value = neutralizeText(raw);
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) || safe !== value ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** A line of cells, ended by CRLF (RFC 4180). */
export function csvLine(cells: readonly string[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** Lists in one cell are joined with a space: ids and coordinates never hold one. */
const list = (values: readonly string[]) => values.join(' ');

/** The cells of one entry, in {@link ACCESS_LOG_CSV_COLUMNS} order. Instants in UTC ISO 8601, which every spreadsheet and script reads the same. */
export function accessLogCsvCells(item: AuditedAccessLogItem): readonly string[] {
  return [
    item.occurredAt.toISOString(),
    item.id,
    item.chainId,
    String(item.seq),
    item.action,
    item.outcome,
    item.consumerBureau,
    item.clientApp,
    item.user ?? '',
    list(item.roles),
    item.citizen ?? '',
    item.purpose ?? '',
    item.caseId ?? '',
    list(item.agreementIds),
    list(item.providerBureaus),
    list(item.fieldsReturned.map((field) => (field.mask ? `${field.coordinate}(${field.mask})` : field.coordinate))),
    list(item.denied.map((denial) => denial.coordinate)),
    list(item.subjects.map((subject) => `${subject.kind}:${subject.id}`)),
    item.disclosure ? item.disclosure.hiddenUntil.toISOString() : '',
    item.disclosure?.legalReason ?? '',
    item.requestId,
    String(item.durationMs),
    list((item.agreements ?? []).map((used) => `${used.id}: ${used.legalBasis}`)),
  ];
}
