import { performance } from 'node:perf_hooks';
import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import type { AccessOutcome, DataSubject } from './access-log-entry.ts';
import type { AccessLogFilters, AccessLogPageRequest } from './access-log-reader.ts';
import type { AccessLogWriter } from './access-log-writer.ts';
import { readAccessLogRecorded } from './read-access-log-recorded.ts';
import type { ReceiptSource } from './receipt-source.ts';
import { ApiError } from '../errors/api-error.ts';
import { requestIdOf } from '../errors/request-id.ts';
import { apiRoutes } from '../http/api-routes.ts';
import { authenticateCaller, type Authenticate } from '../http/authenticate-caller.ts';
import { onlyKnownNames } from '../http/only-known-names.ts';
import { parseInstant } from '../http/parse-instant.ts';
import type { Logger } from '../observability/logger.ts';
import type { StoreSchema } from '../store/store-schema.ts';

/** What the access log API needs from the gateway. */
export interface AccessLogApiDeps {
  /**
   * Verifies the request's token. Resolves to the caller, or to undefined
   * when there is no usable token (401); rejects with an auth error, which
   * keeps its code (401, or 503 when the issuer's keys are away).
   */
  readonly authenticate: Authenticate;
  readonly db: Kysely<StoreSchema>;
  /** Where the read of the log is itself recorded, before the answer leaves. */
  readonly writer: Pick<AccessLogWriter, 'append'>;
  /** The receipts citizens and data officers get with each entry; without it, items carry none. */
  readonly receipts?: ReceiptSource;
  readonly now?: () => Date;
  /** Where failures of ours (5xx) are logged. */
  readonly log?: Pick<Logger, 'error'>;
}

const QUERY_PARAMETERS: readonly string[] = ['from', 'until', 'consumer', 'provider', 'purpose', 'agreement', 'subject', 'outcome', 'cursor', 'limit'];
const OUTCOMES: ReadonlySet<string> = new Set<AccessOutcome>(['ALLOWED', 'PARTIAL', 'DENIED', 'FAILED']);
/** The API has no request bodies; anything sent is refused before it is read. */
const MAX_BODY_BYTES = 1;

/**
 * `GET /access-log`, to be mounted under `/admin/api` (beside the admin API,
 * in either order: each owns only its own paths):
 *
 * `?from=&until=` (ISO 8601 dates or instants), `consumer=`, `provider=`,
 * `purpose=`, `agreement=`, `subject=person:<id>|enterprise:<id>`, `outcome=`,
 * `limit=` (≤ 500), `cursor=` (the previous page's `nextCursor`). Unknown
 * parameters are a 400: an auditor's typo must not silently widen the result.
 *
 * The route reads as: authenticate → validate → authorize and load (by
 * role, see `readAccessLog`) → record the read as a `LOG_READ` entry naming
 * the viewer and every data subject shown, and wait for its commit → answer.
 * No log, no data: if the entry cannot be committed the answer is 503 with
 * `retry-after`. Refusals of an authenticated caller are logged too
 * (`outcome: DENIED`).
 *
 * Answers `{ view, items, nextCursor? }`. In the citizen's and the data
 * officer's views each item carries its `receipt` (issue 12: leaf index,
 * tree size, entry hash, inclusion proof, the cosigned checkpoint, its
 * witnesses and origin — `verifyReceipt` of `@isthmus/log-proofs` checks it
 * against the keys of `/.well-known/isthmus-log-keys`), or `receipt: null`
 * and `receiptCheckAfter` while no cosigned checkpoint covers it yet. Errors in the shape of GraphQL
 * errors, `{ errors: [{ message, extensions: { code, requestId, reason?, field? } }] }`:
 * `UNAUTHENTICATED` (401), `BAD_USER_INPUT` (400, naming the parameter;
 * 405 for another method), `FORBIDDEN` (403), `INTERNAL` with reason
 * `ACCESS_LOG_UNAVAILABLE` (503).
 *
 * @example
 * app.route('/admin/api', createAccessLogApi({ authenticate, db: store.db, writer }));
 */
export function createAccessLogApi(deps: AccessLogApiDeps): Hono {
  if (typeof deps.authenticate !== 'function' || !deps.db || typeof deps.writer?.append !== 'function') {
    throw new TypeError('createAccessLogApi: authenticate, db and writer are required');
  }
  const now = deps.now ?? (() => new Date());
  const app = new Hono();
  const routes = apiRoutes(app, { maxBodyBytes: MAX_BODY_BYTES, ...(deps.log ? { log: deps.log } : {}) });

  routes.on('GET', '/access-log', async (c) => {
    const started = performance.now();
    const at = now();
    const signal = c.req.raw.signal;
    const viewer = await authenticateCaller(deps.authenticate, c.req.raw);
    const raw = c.req.query();
    const request = parseQuery(raw);

    const result = await readAccessLogRecorded(deps, {
      viewer,
      filters: request.filters,
      page: request.page,
      at,
      started,
      requestId: requestIdOf(c.req.raw),
      path: new URL(c.req.url).pathname,
      query: raw,
      signal,
      withReceipts: receiptViews,
    });
    return c.json({ view: result.view, items: result.items, ...(result.nextCursor && { nextCursor: result.nextCursor }) });
  });

  return app;
}

/** Whose entries come with receipts: the people the entries are about, and the bureau that must answer for its reads (issue 12, point 5). */
function receiptViews(view: string): boolean {
  return view === 'citizen' || view === 'data_officer';
}

function parseQuery(query: Readonly<Record<string, string>>): { filters: AccessLogFilters; page: AccessLogPageRequest } {
  onlyKnownNames(query, QUERY_PARAMETERS, { top: 'query' });
  const instant = (name: string): Date | undefined => (query[name] === undefined ? undefined : parseInstant(query[name], name));
  const text = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (value === '') throw bad(name, `${name} must not be empty`);
    return value;
  };
  let subject: DataSubject | undefined;
  const rawSubject = text('subject');
  if (rawSubject !== undefined) {
    const match = /^(person|enterprise):(.+)$/.exec(rawSubject);
    if (!match) throw bad('subject', 'subject must be person:<id> or enterprise:<id>');
    subject = { kind: match[1] as DataSubject['kind'], id: match[2]! };
  }
  const outcome = text('outcome');
  if (outcome !== undefined && !OUTCOMES.has(outcome)) throw bad('outcome', `outcome must be one of ${[...OUTCOMES].join(', ')}`);
  const rawLimit = text('limit');
  if (rawLimit !== undefined && !/^\d{1,6}$/.test(rawLimit)) throw bad('limit', 'limit must be a whole number');

  const from = instant('from');
  const until = instant('until');
  const consumer = text('consumer');
  const provider = text('provider');
  const purpose = text('purpose');
  const agreement = text('agreement');
  const cursor = text('cursor');
  return {
    filters: {
      ...(from && { from }),
      ...(until && { until }),
      ...(consumer !== undefined && { consumer }),
      ...(provider !== undefined && { provider }),
      ...(purpose !== undefined && { purpose }),
      ...(agreement !== undefined && { agreement }),
      ...(subject && { subject }),
      ...(outcome !== undefined && { outcome: outcome as AccessOutcome }),
    },
    page: { ...(cursor !== undefined && { cursor }), ...(rawLimit !== undefined && { limit: Number(rawLimit) }) },
  };
}

function bad(field: string, message: string): ApiError {
  return new ApiError('BAD_USER_INPUT', message, { field });
}
