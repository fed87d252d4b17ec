import type { SecurityEventRecord } from '../observability/security-event-store.ts';
import { canonicalJson } from '../access-log/canonical-json.ts';

/**
 * The columns of the security events' CSV export, in order: English
 * identifiers, as the access log's export has (`access-log-csv.ts`, whose
 * `csvLine` writes these cells, formula-safe and neutralized).
 */
export const SECURITY_EVENTS_CSV_COLUMNS = [
  'occurred_at', 'id', 'kind', 'reason', 'outcome', 'route', 'status', 'request_id', 'client_address', 'bureau', 'app', 'user', 'issuer', 'subject', 'key_id', 'detail',
] as const;

/** The cells of one event, in {@link SECURITY_EVENTS_CSV_COLUMNS} order; the instant in UTC ISO 8601, the detail as canonical JSON. */
export function securityEventCsvCells(event: SecurityEventRecord): readonly string[] {
  return [
    event.occurredAt.toISOString(),
    event.id,
    event.kind,
    event.reason,
    event.outcome,
    event.route,
    event.status === undefined ? '' : String(event.status),
    event.requestId ?? '',
    event.clientAddress ?? '',
    event.bureau ?? '',
    event.app ?? '',
    event.user ?? '',
    event.issuer ?? '',
    event.subject ?? '',
    event.keyId ?? '',
    Object.keys(event.detail).length === 0 ? '' : canonicalJson(event.detail),
  ];
}
