import { createHash } from 'node:crypto';
import type { AccessLogEntryInput } from './access-log-entry.ts';
import type { AccessLogReadResult } from './access-log-reader.ts';
import { canonicalJson } from './canonical-json.ts';
import type { Principal } from '../../policies/principal.ts';

/**
 * The `LOG_READ` entry for one read of the log (a request to the access log
 * API, a page or an export of the console): the viewer, every data
 * subject the answer disclosed, the provider bureaus of the entries shown
 * (with how many of their entries), and a hash of the query — which may
 * itself hold an ID number, so it is not stored in clear.
 */
export function logReadEntry(read: {
  readonly viewer: Principal;
  readonly requestId: string;
  readonly at: Date;
  readonly durationMs: number;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly outcome: 'ALLOWED' | 'DENIED';
  readonly shown: AccessLogReadResult | undefined;
  readonly reason?: string;
  /** What read it, for the entry's `operationName`. Default `GET /access-log` (the API). */
  readonly operationName?: string;
}): AccessLogEntryInput {
  const { viewer, shown } = read;
  const rowCounts: Record<string, number> = {};
  if (shown) {
    for (const item of shown.items) for (const provider of new Set(item.providerBureaus)) rowCounts[provider] = (rowCounts[provider] ?? 0) + 1;
  }
  return {
    requestId: read.requestId,
    occurredAt: read.at,
    action: 'LOG_READ',
    consumerBureau: viewer.bureau,
    clientApp: viewer.app,
    ...(viewer.user !== undefined && { user: viewer.user }),
    roles: viewer.roles,
    ...(viewer.citizen !== undefined && { citizen: viewer.citizen }),
    ...(viewer.purpose !== undefined && { purpose: viewer.purpose }),
    ...(viewer.caseId !== undefined && { caseId: viewer.caseId }),
    agreementIds: [],
    providerBureaus: shown?.providersShown ?? [],
    fieldsRequested: [],
    fieldsReturned: [],
    denied: read.outcome === 'DENIED' ? [{ coordinate: 'AccessLog', path: read.path, reason: read.reason ?? 'refused' }] : [],
    subjects: shown?.subjectsShown ?? [],
    rowCounts,
    upstreamErrors: [],
    durationMs: read.durationMs,
    operationHash: createHash('sha256').update(canonicalJson({ method: 'GET', path: read.path, query: read.query })).digest('hex'),
    operationName: read.operationName ?? 'GET /access-log',
    outcome: read.outcome,
  };
}
