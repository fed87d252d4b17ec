import { createHash } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { AccessLogEntryInput, AccessOutcome, DataSubject } from './access-log-entry.ts';
import type { AccessLogTable } from './access-log-tables.ts';
import { canonicalJson, type JsonValue } from './canonical-json.ts';
import type { Role } from '../../policies/principal.ts';
import type { MaskKind } from '../../policies/catalogue.ts';

/** `prev_hash` of the first entry of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** Version of the hashed layout, inside every hash so a later layout cannot be confused with this one. */
const HASH_LAYOUT = 1;

/** An entry as committed: its place in its chain and its hash. */
export interface AccessLogRecord {
  readonly id: string;
  readonly chainId: string;
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
  readonly entry: AccessLogEntryInput;
}

/**
 * The entry's hash: hex SHA-256 of the canonical JSON of its content, its
 * id, its place (chain, seq) and the previous entry's hash. Binding the place
 * means an entry cannot be moved to another chain or renumbered unnoticed.
 *
 * Lists are hashed exactly as stored (the writer normalises them before), so
 * the verifier hashes jsonb read back from the database without reshaping it:
 * a key added to a stored object changes the hash.
 */
export function hashAccessLogRecord(record: Omit<AccessLogRecord, 'hash'>): string {
  const content = canonicalJson({
    layout: HASH_LAYOUT,
    id: record.id,
    chainId: record.chainId,
    seq: record.seq,
    prevHash: record.prevHash,
    entry: entryJson(record.entry),
  });
  return createHash('sha256').update(content, 'utf8').digest('hex');
}

/** The entry as JSON: dates as ISO strings, absent optional fields left out. */
export function entryJson(entry: AccessLogEntryInput): { readonly [key: string]: JsonValue | undefined } {
  return {
    requestId: entry.requestId,
    occurredAt: entry.occurredAt.toISOString(),
    action: entry.action,
    consumerBureau: entry.consumerBureau,
    clientApp: entry.clientApp,
    user: entry.user,
    roles: json(entry.roles),
    citizen: entry.citizen,
    purpose: entry.purpose,
    caseId: entry.caseId,
    agreementIds: json(entry.agreementIds),
    // Absent on entries written before 0013, so their hash is what it was.
    agreements: entry.agreements && json(entry.agreements),
    providerBureaus: json(entry.providerBureaus),
    fieldsRequested: json(entry.fieldsRequested),
    fieldsReturned: json(entry.fieldsReturned),
    denied: json(entry.denied),
    subjects: json(entry.subjects),
    rowCounts: json(entry.rowCounts),
    upstreamErrors: json(entry.upstreamErrors),
    durationMs: entry.durationMs,
    operationHash: entry.operationHash,
    operationName: entry.operationName,
    outcome: entry.outcome,
    disclosure: entry.disclosure && { hiddenUntil: entry.disclosure.hiddenUntil.toISOString(), legalReason: entry.disclosure.legalReason },
  };
}

/** Lists and maps of the entry are JSON already (the writer normalised them); this only tells the compiler. */
function json(value: unknown): JsonValue {
  return value as JsonValue;
}

/** One record as a JSON line of `isthmus log export`. */
export function accessLogRecordJson(record: AccessLogRecord): string {
  return JSON.stringify({ id: record.id, chainId: record.chainId, seq: record.seq, prevHash: record.prevHash, hash: record.hash, ...entryJson(record.entry) });
}

/**
 * The record's columns as one object of the JSON array the writer hands to
 * `access_log_append` (migration 0004), whose `jsonb_to_recordset` column
 * list names these keys: one parameter per batch, whatever its size.
 */
export function rowJson(record: AccessLogRecord): { readonly [column: string]: JsonValue | undefined } {
  const { entry } = record;
  return {
    id: record.id,
    occurred_at: entry.occurredAt.toISOString(),
    chain_id: record.chainId,
    seq: record.seq,
    prev_hash: record.prevHash,
    hash: record.hash,
    request_id: entry.requestId,
    action: entry.action,
    consumer_bureau: entry.consumerBureau,
    client_app: entry.clientApp,
    user_id: entry.user ?? null,
    roles: json(entry.roles),
    citizen: entry.citizen ?? null,
    purpose: entry.purpose ?? null,
    case_id: entry.caseId ?? null,
    agreement_ids: json(entry.agreementIds),
    agreements_used: entry.agreements ? json(entry.agreements) : null,
    provider_bureaus: json(entry.providerBureaus),
    fields_requested: json(entry.fieldsRequested),
    fields_returned: json(entry.fieldsReturned),
    denied: json(entry.denied),
    subjects: json(entry.subjects),
    row_counts: json(entry.rowCounts),
    upstream_errors: json(entry.upstreamErrors),
    duration_ms: entry.durationMs,
    operation_hash: entry.operationHash,
    operation_name: entry.operationName ?? null,
    outcome: entry.outcome,
    hidden_until: entry.disclosure?.hiddenUntil.toISOString() ?? null,
    hidden_reason: entry.disclosure?.legalReason ?? null,
  };
}

/**
 * A stored row back as a record, values untouched (jsonb as parsed), so
 * that hashing it again tells whether anything was changed.
 */
export function recordFromRow(row: Selectable<AccessLogTable>): AccessLogRecord {
  return {
    id: row.id,
    chainId: row.chain_id,
    seq: Number(row.seq),
    prevHash: row.prev_hash,
    hash: row.hash,
    entry: {
      requestId: row.request_id,
      occurredAt: row.occurred_at,
      action: row.action as AccessLogEntryInput['action'],
      consumerBureau: row.consumer_bureau,
      clientApp: row.client_app,
      ...(row.user_id !== null && { user: row.user_id }),
      roles: row.roles as readonly Role[],
      ...(row.citizen !== null && { citizen: row.citizen }),
      ...(row.purpose !== null && { purpose: row.purpose }),
      ...(row.case_id !== null && { caseId: row.case_id }),
      agreementIds: row.agreement_ids,
      ...(row.agreements_used != null && { agreements: row.agreements_used }),
      providerBureaus: row.provider_bureaus,
      fieldsRequested: row.fields_requested,
      fieldsReturned: row.fields_returned as AccessLogEntryInput['fieldsReturned'] & readonly { mask?: MaskKind }[],
      denied: row.denied,
      subjects: row.subjects as readonly DataSubject[],
      rowCounts: row.row_counts,
      upstreamErrors: row.upstream_errors,
      durationMs: row.duration_ms,
      operationHash: row.operation_hash,
      ...(row.operation_name !== null && { operationName: row.operation_name }),
      outcome: row.outcome as AccessOutcome,
      ...(row.hidden_until !== null && { disclosure: { hiddenUntil: row.hidden_until, legalReason: row.hidden_reason ?? '' } }),
    },
  };
}
