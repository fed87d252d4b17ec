import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import type { Role } from '../../policies/principal.ts';
import { canonicalJson } from '../access-log/canonical-json.ts';
import { requestIdOf } from '../errors/request-id.ts';
import { CLIENT_ADDRESS_FORMAT, SECURITY_EVENT_REASON_FORMAT } from '../observability/security-events-api.ts';
import { MAX_SECURITY_EVENTS_PAGE_SIZE, SECURITY_EVENT_KINDS, type SecurityEventQuery, type SecurityEventStore } from '../observability/security-event-store.ts';
import { csvLine } from './access-log-csv.ts';
import { DEFAULT_EXPORT_MAX_ENTRIES, filterValues, signedInAs } from './auditor-routes.ts';
import type { ConsoleAuditTrail } from './console-audit-trail.ts';
import type { ConsoleContext, ConsoleEnv, RenderPage } from './console-env.ts';
import { ConsoleError } from './console-error.ts';
import { securityEventCsvCells, SECURITY_EVENTS_CSV_COLUMNS } from './security-events-csv.ts';
import { renderSecurityEventsPage, type SecurityEventsQuery } from './views/security-events-page.ts';

/** What the security events page needs. */
export interface SecurityEventsRoutesDeps {
  readonly store: Pick<SecurityEventStore, 'list'>;
  readonly trail: ConsoleAuditTrail;
  readonly render: RenderPage;
  readonly exportMaxEntries?: number;
}

/** Who reads the security events in the console: as the API's `maySeeSecurityEvents`, auditors and operators. */
const READERS: readonly Role[] = ['auditor', 'operator'];
const FILTER_NAMES = ['kind', 'reason', 'from', 'to', 'clientAddress'] as const;
const PAGE_SIZE = 50;
/** What a `datetime-local` field sends (seconds optional), or a bare date: a wall time in the city. */
const LOCAL_TIME = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2})(:\d{2})?)?$/;
/** The console's times are the city's: Asia/Shanghai, UTC+8 with no daylight saving. */
const SHANGHAI_OFFSET = '+08:00';

/**
 * The security events page (`/security-events`, auditors and operators;
 * anyone else gets the 403 page) and its CSV export
 * (`/security-events/export.csv`, the same filters). Each view and each
 * export is first committed to the console's audit trail — who, a hash of
 * the filters (they may name an address), how many rows — and only then
 * shown, as the access log's reads are.
 */
export function createSecurityEventsRoutes(deps: SecurityEventsRoutesDeps): Hono<ConsoleEnv> {
  const { store, trail, render } = deps;
  const exportMax = deps.exportMaxEntries ?? DEFAULT_EXPORT_MAX_ENTRIES;
  const app = new Hono<ConsoleEnv>();

  app.get('/security-events', async (c) => {
    const viewer = signedInAs(c, READERS);
    const query = queryOf(c);
    const cursor = c.req.query('cursor');
    const page = await listPage(store, { ...filtersOf(query), limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) });
    await trail.record(
      { action: 'SECURITY_EVENTS_VIEW', outcome: 'DONE', actor: viewer, detail: { filterHash: filterHash(query), rows: page.items.length, next: cursor !== undefined }, requestId: requestIdOf(c.req.raw) },
      c.req.raw.signal,
    );
    return render(c, c.get('t').t('secevents.title'), (view) => renderSecurityEventsPage(view, query, page.items, page.nextCursor));
  });

  app.get('/security-events/export.csv', async (c) => {
    const viewer = signedInAs(c, READERS);
    const query = queryOf(c);
    const filters = filtersOf(query);
    await trail.record({ action: 'SECURITY_EVENTS_EXPORT', outcome: 'DONE', actor: viewer, target: 'csv', detail: { filterHash: filterHash(query), max: exportMax }, requestId: requestIdOf(c.req.raw) });
    const encoder = new TextEncoder();
    let cursor: string | undefined;
    let sent = 0;
    let started = false;
    // Pulled page by page: memory stays at one page whatever the export's size.
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (!started) {
          started = true;
          controller.enqueue(encoder.encode(csvLine(SECURITY_EVENTS_CSV_COLUMNS)));
        }
        if (sent >= exportMax || (sent > 0 && cursor === undefined)) return controller.close();
        const page = await store.list({ ...filters, limit: Math.min(MAX_SECURITY_EVENTS_PAGE_SIZE, exportMax - sent), ...(cursor ? { cursor } : {}) });
        controller.enqueue(encoder.encode(page.items.map((event) => csvLine(securityEventCsvCells(event))).join('')));
        sent += page.items.length;
        cursor = page.nextCursor;
        if (cursor === undefined) controller.close();
      },
    });
    return c.body(body, 200, {
      // UTF-8 without a byte order mark, as the access log's export (see auditor-routes.ts).
      'content-type': 'text/csv; charset=utf-8; header=present',
      'content-disposition': `attachment; filename="isthmus-security-events-${new Date().toISOString().slice(0, 10)}.csv"`,
      'cache-control': 'no-store',
    });
  });

  return app;
}

/** One page; a cursor this page did not hand out is a BAD_USER_INPUT page. */
async function listPage(store: Pick<SecurityEventStore, 'list'>, query: SecurityEventQuery) {
  try {
    return await store.list(query);
  } catch (error) {
    if (error instanceof RangeError) throw new ConsoleError('BAD_USER_INPUT', 'cursor is not one this page gave out', { cause: error });
    throw error;
  }
}

/** The filters as sent, for the form to show again and the links to carry. */
function queryOf(c: ConsoleContext): SecurityEventsQuery {
  return filterValues(c, FILTER_NAMES);
}

/** The trail keeps the filters' hash, not the filters: an address is close to personal data. */
function filterHash(query: SecurityEventsQuery): string {
  return createHash('sha256').update(canonicalJson({ ...query })).digest('hex');
}

function badInput(name: string): never {
  throw new ConsoleError('BAD_USER_INPUT', `${name} is not one the security events page offers`);
}

/** A wall time in the city as an instant; what the form could not have sent is a BAD_USER_INPUT page. */
function cityTime(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const match = LOCAL_TIME.exec(value);
  const instant = match && new Date(`${match[1]}T${match[2] ?? '00:00'}${match[3] ?? ':00'}${SHANGHAI_OFFSET}`);
  if (!instant || Number.isNaN(instant.getTime())) badInput(name);
  return instant;
}

/** The form's values as the store's filters. */
function filtersOf(query: SecurityEventsQuery): SecurityEventQuery {
  const kind = query.kind === undefined ? undefined : (SECURITY_EVENT_KINDS.find((known) => known === query.kind) ?? badInput('kind'));
  if (query.reason !== undefined && !SECURITY_EVENT_REASON_FORMAT.test(query.reason)) badInput('reason');
  if (query.clientAddress !== undefined && !CLIENT_ADDRESS_FORMAT.test(query.clientAddress)) badInput('clientAddress');
  const from = cityTime(query.from, 'from');
  const to = cityTime(query.to, 'to');
  return {
    ...(kind && { kind }),
    ...(query.reason !== undefined && { reason: query.reason }),
    ...(query.clientAddress !== undefined && { clientAddress: query.clientAddress }),
    ...(from && { from }),
    ...(to && { to }),
  };
}
