import { createHash, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Hono, type Context } from 'hono';
import type { Kysely } from 'kysely';
import type { AccessLogEntryInput, AccessOutcome, DataSubject } from './access-log-entry.ts';
import { AccessLogBadQueryError, AccessLogError, AccessLogForbiddenError } from './access-log-error.ts';
import { readAccessLog, type AccessLogFilters, type AccessLogPageRequest, type AccessLogReadResult } from './access-log-reader.ts';
import type { AccessLogWriter } from './access-log-writer.ts';
import { canonicalJson } from './canonical-json.ts';
import type { Principal } from '../../policies/principal.ts';
import type { StoreSchema } from '../store/store-schema.ts';

/** What the access log API needs from the gateway. */
export interface AccessLogApiDeps {
  /**
   * Verifies the request's token. Resolves to the caller, or to undefined
   * when there is no usable token (401). A rejection whose `code` is
   * `UNAUTHENTICATED` is also a 401; any other rejection is a 500.
   */
  readonly authenticate: (request: Request) => Promise<Principal | undefined>;
  readonly db: Kysely<StoreSchema>;
  /** Where the read of the log is itself recorded, before the answer leaves. */
  readonly writer: Pick<AccessLogWriter, 'append'>;
  readonly now?: () => Date;
}

const QUERY_PARAMETERS: ReadonlySet<string> = new Set(['from', 'until', 'consumer', 'provider', 'purpose', 'subject', 'outcome', 'after', 'limit']);
const OUTCOMES: ReadonlySet<string> = new Set<AccessOutcome>(['ALLOWED', 'PARTIAL', 'DENIED', 'FAILED']);

/**
 * `GET /access-log`, to be mounted under `/admin/api`:
 *
 * `?from=&until=` (ISO instants), `consumer=`, `provider=`, `purpose=`,
 * `subject=person:<id>|enterprise:<id>`, `outcome=`, `limit=` (≤ 500),
 * `after=` (the previous page's `nextCursor`). Unknown parameters are a 400:
 * an auditor's typo must not silently widen the result.
 *
 * The route reads as: authenticate → validate → authorize and load (by
 * role, see `readAccessLog`) → record the read as a `LOG_READ` entry naming
 * the viewer and every data subject shown, and wait for its commit → answer.
 * No log, no data: if the entry cannot be committed the answer is 503.
 * Refusals of an authenticated caller are logged too (`outcome: DENIED`).
 *
 * Answers `{ view, items, nextCursor? }`; errors `{ error: { code, message } }`
 * with `UNAUTHENTICATED` (401), `BAD_USER_INPUT` (400), `FORBIDDEN` (403),
 * `ACCESS_LOG_UNAVAILABLE` (503).
 *
 * @example
 * adminApi.route('/', createAccessLogApi({ authenticate, db: store.db, writer }));
 */
export function createAccessLogApi(deps: AccessLogApiDeps): Hono {
  if (typeof deps.authenticate !== 'function' || !deps.db || typeof deps.writer?.append !== 'function') {
    throw new TypeError('createAccessLogApi: authenticate, db and writer are required');
  }
  const now = deps.now ?? (() => new Date());
  const app = new Hono();

  app.get('/access-log', async (c) => {
    const started = performance.now();
    const at = now();
    const signal = c.req.raw.signal;

    let viewer: Principal | undefined;
    try {
      viewer = await deps.authenticate(c.req.raw);
    } catch (error) {
      if (codeOf(error) !== 'UNAUTHENTICATED') throw error;
    }
    if (!viewer) return problem(c, 401, 'UNAUTHENTICATED', 'a valid bearer token is required');

    const raw = c.req.query();
    let request: { filters: AccessLogFilters; page: AccessLogPageRequest };
    try {
      request = parseQuery(raw);
    } catch (error) {
      if (error instanceof AccessLogBadQueryError) return problem(c, 400, 'BAD_USER_INPUT', error.message);
      throw error;
    }

    const record = (outcome: 'ALLOWED' | 'DENIED', shown: AccessLogReadResult | undefined, reason?: string) =>
      deps.writer.append(
        logReadEntry({
          viewer: viewer!,
          requestId: requestIdOf(c),
          at,
          durationMs: performance.now() - started,
          path: new URL(c.req.url).pathname,
          query: raw,
          outcome,
          shown,
          ...(reason !== undefined && { reason }),
        }),
        signal,
      );

    let result: AccessLogReadResult;
    try {
      result = await readAccessLog(deps.db, viewer, request.filters, request.page, { now: at, signal });
    } catch (error) {
      if (error instanceof AccessLogBadQueryError) return problem(c, 400, 'BAD_USER_INPUT', error.message);
      if (!(error instanceof AccessLogForbiddenError)) throw error;
      try {
        await record('DENIED', undefined, error.message);
      } catch (logError) {
        if (logError instanceof AccessLogError) return problem(c, 503, 'ACCESS_LOG_UNAVAILABLE', 'the access log is unavailable; try again later');
        throw logError;
      }
      return problem(c, 403, 'FORBIDDEN', error.message);
    }

    try {
      await record('ALLOWED', result);
    } catch (error) {
      if (error instanceof AccessLogError) return problem(c, 503, 'ACCESS_LOG_UNAVAILABLE', 'the access log is unavailable; try again later');
      throw error;
    }
    return c.json({ view: result.view, items: result.items, ...(result.nextCursor && { nextCursor: result.nextCursor }) });
  });

  return app;
}

function parseQuery(query: Readonly<Record<string, string>>): { filters: AccessLogFilters; page: AccessLogPageRequest } {
  for (const name of Object.keys(query)) if (!QUERY_PARAMETERS.has(name)) throw new AccessLogBadQueryError(name, 'is not a parameter of /access-log');
  const instant = (name: string): Date | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    // Date-only or full ISO 8601; `Date` alone would also take "May 5" and friends.
    const date = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? new Date(value) : new Date(Number.NaN);
    if (Number.isNaN(date.getTime())) throw new AccessLogBadQueryError(name, 'must be an ISO 8601 date or instant');
    return date;
  };
  const text = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (value === '') throw new AccessLogBadQueryError(name, 'must not be empty');
    return value;
  };
  let subject: DataSubject | undefined;
  const rawSubject = text('subject');
  if (rawSubject !== undefined) {
    const match = /^(person|enterprise):(.+)$/.exec(rawSubject);
    if (!match) throw new AccessLogBadQueryError('subject', 'must be person:<id> or enterprise:<id>');
    subject = { kind: match[1] as DataSubject['kind'], id: match[2]! };
  }
  const outcome = text('outcome');
  if (outcome !== undefined && !OUTCOMES.has(outcome)) throw new AccessLogBadQueryError('outcome', `must be one of ${[...OUTCOMES].join(', ')}`);
  const rawLimit = text('limit');
  if (rawLimit !== undefined && !/^\d{1,6}$/.test(rawLimit)) throw new AccessLogBadQueryError('limit', 'must be a whole number');

  const from = instant('from');
  const until = instant('until');
  const consumer = text('consumer');
  const provider = text('provider');
  const purpose = text('purpose');
  const after = text('after');
  return {
    filters: {
      ...(from && { from }),
      ...(until && { until }),
      ...(consumer !== undefined && { consumer }),
      ...(provider !== undefined && { provider }),
      ...(purpose !== undefined && { purpose }),
      ...(subject && { subject }),
      ...(outcome !== undefined && { outcome: outcome as AccessOutcome }),
    },
    page: { ...(after !== undefined && { after }), ...(rawLimit !== undefined && { limit: Number(rawLimit) }) },
  };
}

/**
 * The `LOG_READ` entry for one request to the API: the viewer, every data
 * subject the answer disclosed, the provider bureaus of the entries shown
 * (with how many of their entries), and a hash of the query — which may
 * itself hold an ID number, so it is not stored in clear.
 */
function logReadEntry(read: {
  readonly viewer: Principal;
  readonly requestId: string;
  readonly at: Date;
  readonly durationMs: number;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly outcome: 'ALLOWED' | 'DENIED';
  readonly shown: AccessLogReadResult | undefined;
  readonly reason?: string;
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
    operationName: 'GET /access-log',
    outcome: read.outcome,
  };
}

/** The gateway's request id when its listener set one, else a fresh one; bounded, since a client may send the header. */
function requestIdOf(c: Context): string {
  const header = c.req.header('x-request-id');
  return header && /^[\w.:-]{1,128}$/.test(header) ? header : randomUUID();
}

function problem(c: Context, status: 400 | 401 | 403 | 503, code: string, message: string) {
  return c.json({ error: { code, message } }, status);
}

function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'code' in error ? (error as { code: unknown }).code : undefined;
}
