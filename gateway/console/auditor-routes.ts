import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import type { Principal, Role } from '../../policies/principal.ts';
import type { AccessOutcome, DataSubject } from '../access-log/access-log-entry.ts';
import { MAX_READ_PAGE_SIZE, type AccessLogFilters, type AuditedAccessLogItem } from '../access-log/access-log-reader.ts';
import { verifyAccessLog, type VerifyAccessLogOptions } from '../access-log/verify-access-log.ts';
import { canonicalJson } from '../access-log/canonical-json.ts';
import { requestIdOf } from '../errors/request-id.ts';
import { accessLogCsvCells, ACCESS_LOG_CSV_COLUMNS, csvLine } from './access-log-csv.ts';
import { neutralizeLayout } from '../../policies/display-safe-text.ts';
import { CONSOLE_AUDIT_ACTIONS, type ConsoleAuditTrail } from './console-audit-trail.ts';
import type { ConsoleContext, ConsoleEnv, RenderPage } from './console-env.ts';
import { ConsoleError } from './console-error.ts';
import type { ReadLogAsLogged } from './console-log-reads.ts';
import { receiptDownload } from './receipt-download.ts';
import type { WitnessNamer } from './witness-names.ts';
import { renderAuditEntryPage } from './views/auditor-entry-page.ts';
import { renderAuditLogPage, type AuditLogQuery } from './views/auditor-log-page.ts';
import { renderAuditTrailPage } from './views/auditor-trail-page.ts';
import { renderAuditVerifyPage } from './views/auditor-verify-page.ts';

/** Most entries one export holds: past it the file ends, and the trail says it was cut (narrow the filters for the rest). */
export const DEFAULT_EXPORT_MAX_ENTRIES = 100_000;
/** Bound on one verification run from the console. */
export const DEFAULT_VERIFY_TIMEOUT_MS = 120_000;
const OUTCOMES: readonly AccessOutcome[] = ['ALLOWED', 'PARTIAL', 'DENIED', 'FAILED'];
const FILTER_NAMES = ['from', 'until', 'consumer', 'provider', 'outcome', 'agreement', 'subjectKind', 'subject'] as const;
/** The console's days are the city's: a date filter is a day in Asia/Shanghai (UTC+8, no daylight saving). */
const SHANGHAI_OFFSET = '+08:00';
const DAY_MS = 86_400_000;

/** What the auditor's pages need. */
export interface AuditorRoutesDeps {
  readonly readLog: ReadLogAsLogged;
  readonly trail: ConsoleAuditTrail;
  readonly db: Parameters<typeof verifyAccessLog>[0];
  /** The witnesses (and quorum) and the log keys pinned outside the database: what a verification run proves against. */
  readonly verifyOptions?: Pick<VerifyAccessLogOptions, 'witnesses' | 'quorum' | 'logKeys' | 'logName'>;
  readonly render: RenderPage;
  readonly base: string;
  readonly exportMaxEntries?: number;
  /** Witnesses as the city calls them, for the receipts' words. Default: their key names. */
  readonly witnessName?: WitnessNamer;
}

/** Who reads the log in the console; the reader's view rules decide which rows (a data officer: their bureau's). */
const LOG_READERS: readonly Role[] = ['auditor', 'data_officer', 'operator'];
/** Verification and the console's own trail are the audit duty's. */
const AUDITORS: readonly Role[] = ['auditor'];

/**
 * The auditor's pages: the access log with filters, paged; one entry; the
 * export of the filtered log (CSV, JSONL); the chains' verification run from
 * here; and the console's own audit trail. Nothing here changes anything but
 * the log and the trail, which record that the auditor looked.
 */
export function createAuditorRoutes(deps: AuditorRoutesDeps): Hono<ConsoleEnv> {
  const { readLog, trail, render, base } = deps;
  const exportMax = deps.exportMaxEntries ?? DEFAULT_EXPORT_MAX_ENTRIES;
  const witnessName = deps.witnessName ?? ((witness: string) => witness);
  const app = new Hono<ConsoleEnv>();

  app.get('/audit/log', async (c) => {
    const viewer = signedInAs(c, LOG_READERS);
    const query = queryOf(c);
    const cursor = c.req.query('cursor');
    // A data officer answers for their bureau's reads: each row shows its receipt. The auditor checks whole chains instead (verify).
    const result = await readLog(c, viewer, filtersOf(query), { limit: 50, ...(cursor ? { cursor } : {}) }, 'GET /audit/log', ownBureauOnly(viewer));
    const items = result.view === 'citizen' ? [] : result.items;
    return render(c, c.get('t').t('auditor.log.title'), (page) => renderAuditLogPage(page, query, items, result.nextCursor));
  });

  app.get('/audit/log/:id{[0-9a-f-]{36}}', async (c) => {
    const viewer = signedInAs(c, LOG_READERS);
    const result = await readLog(c, viewer, { entryId: c.req.param('id') }, { limit: 1 }, 'GET /audit/log/:id', true);
    const item = result.view === 'citizen' ? undefined : result.items[0];
    if (!item) throw new ConsoleError('NOT_FOUND', 'no log entry the person can see');
    const t = c.get('t');
    return render(c, t.t('auditor.entry.title'), (page) => renderAuditEntryPage(page, item, (witness) => witnessName(witness, t.locale)));
  });

  app.get('/audit/log/:id{[0-9a-f-]{36}}/receipt', async (c) => {
    const viewer = signedInAs(c, LOG_READERS);
    const id = c.req.param('id');
    const result = await readLog(c, viewer, { entryId: id }, { limit: 1 }, 'GET /audit/log/:id/receipt', true);
    return receiptDownload(c, id, result.view === 'citizen' ? undefined : result.items[0]);
  });

  app.get('/audit/export/:format{csv|jsonl}', async (c) => {
    const viewer = signedInAs(c, LOG_READERS);
    const format = c.req.param('format') as 'csv' | 'jsonl';
    const query = queryOf(c);
    const filters = filtersOf(query);
    // The filters may hold an ID number: the trail keeps their hash, as LOG_READ entries keep the query's.
    const filterHash = createHash('sha256').update(canonicalJson({ ...query })).digest('hex');
    await trail.record({ action: 'EXPORT', outcome: 'DONE', actor: viewer, target: format, detail: { filterHash, max: exportMax }, requestId: requestIdOf(c.req.raw) });
    const encoder = new TextEncoder();
    let cursor: string | undefined;
    let sent = 0;
    let started = false;
    // JSONL: C1 and bidirectional controls, which JSON.stringify leaves raw, become \uXXXX escapes of the same value.
    const lineOf = (item: AuditedAccessLogItem) => (format === 'csv' ? csvLine(accessLogCsvCells(item)) : `${neutralizeLayout(JSON.stringify(item))}\n`);
    // Pulled page by page: memory stays at one page, and each page is in the log before it leaves (no log, no data).
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (!started) {
          started = true;
          if (format === 'csv') controller.enqueue(encoder.encode(csvLine(ACCESS_LOG_CSV_COLUMNS)));
        }
        if (sent >= exportMax || (sent > 0 && cursor === undefined)) return controller.close();
        const limit = Math.min(MAX_READ_PAGE_SIZE, exportMax - sent);
        const result = await readLog(c, viewer, filters, { limit, ...(cursor ? { cursor } : {}) }, `GET /audit/export/${format}`);
        const items = result.view === 'citizen' ? [] : result.items;
        controller.enqueue(encoder.encode(items.map(lineOf).join('')));
        sent += items.length;
        cursor = result.nextCursor;
        if (cursor === undefined) controller.close();
      },
    });
    const name = `isthmus-access-log-${new Date().toISOString().slice(0, 10)}.${format}`;
    return c.body(body, 200, {
      // UTF-8 without a byte order mark: a BOM breaks every other reader (csv parsers, cat, concatenated files, hashes of the file),
      // and Excel opens the file through Data → From Text/CSV, which detects UTF-8 (65001); JSONL keeps every value exactly.
      'content-type': format === 'csv' ? 'text/csv; charset=utf-8; header=present' : 'application/x-ndjson; charset=utf-8',
      'content-disposition': `attachment; filename="${name}"`,
      'cache-control': 'no-store',
    });
  });

  app.get('/audit/verify', (c) => {
    signedInAs(c, AUDITORS);
    return render(c, c.get('t').t('auditor.verify.title'), (page) => renderAuditVerifyPage(page, undefined));
  });

  app.post('/audit/verify', async (c) => {
    const viewer = signedInAs(c, AUDITORS);
    const result = await verifyAccessLog(deps.db, { ...deps.verifyOptions, signal: AbortSignal.timeout(DEFAULT_VERIFY_TIMEOUT_MS) });
    await trail.record({
      action: 'VERIFY',
      outcome: 'DONE',
      actor: viewer,
      detail: { chains: result.chains, entries: result.entries, checkpoints: result.checkpoints, problems: result.problems.length, keySource: result.keySource, proven: result.proven, uncovered: result.uncoveredEntries },
      requestId: requestIdOf(c.req.raw),
    });
    c.set('here', `${base}/audit/verify`);
    return render(c, c.get('t').t('auditor.verify.title'), (page) => renderAuditVerifyPage(page, result));
  });

  app.get('/audit/trail', async (c) => {
    signedInAs(c, AUDITORS);
    const cursor = c.req.query('cursor');
    const rawAction = c.req.query('action');
    const action = rawAction ? (CONSOLE_AUDIT_ACTIONS.find((known) => known === rawAction) ?? badInput('action')) : undefined;
    let page;
    try {
      page = await trail.list({ ...(cursor ? { cursor } : {}), ...(action ? { action } : {}) }, c.req.raw.signal);
    } catch (error) {
      if (error instanceof RangeError) throw new ConsoleError('BAD_USER_INPUT', error.message, { cause: error });
      throw error;
    }
    return render(c, c.get('t').t('auditor.trail.title'), (view) => renderAuditTrailPage(view, page.items, action, page.nextCursor));
  });

  return app;
}

/** A data officer (and no broader role): the reader shows them their bureau's rows only. */
function ownBureauOnly(viewer: Principal): boolean {
  return viewer.roles.includes('data_officer') && !viewer.roles.includes('auditor') && !viewer.roles.includes('operator');
}

function badInput(name: string): never {
  throw new ConsoleError('BAD_USER_INPUT', `${name} is not one the console offers`);
}

/** The signed-in principal, if their roles open the page. */
export function signedInAs(c: ConsoleContext, roles: readonly Role[]): Principal {
  const session = c.get('session');
  if (!session) throw c.get('lapsed') ? new ConsoleError('SESSION_EXPIRED', 'the session has ended') : new ConsoleError('UNAUTHENTICATED', 'not signed in');
  if (!session.principal.roles.some((role) => roles.includes(role))) throw new ConsoleError('FORBIDDEN', `the page is for ${roles.join(', ')}`);
  return session.principal;
}

/** The access log filter form's values as sent. */
function queryOf(c: ConsoleContext): AuditLogQuery {
  return filterValues(c, FILTER_NAMES);
}

/** A filter form's values as sent (trimmed, at most 200 characters, empty ones dropped), for the form to show them again and the links to carry them. */
export function filterValues<N extends string>(c: ConsoleContext, names: readonly N[]): Partial<Record<N, string>> {
  const query: Partial<Record<N, string>> = {};
  for (const name of names) {
    const value = c.req.query(name)?.trim();
    if (value) query[name] = value.slice(0, 200);
  }
  return query;
}

/** The form's values as the reader's filters; what the form could not have sent is a BAD_USER_INPUT page. */
function filtersOf(query: AuditLogQuery): AccessLogFilters {
  const day = (name: 'from' | 'until'): Date | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00${SHANGHAI_OFFSET}`))) badInput(name);
    return new Date(`${value}T00:00:00${SHANGHAI_OFFSET}`);
  };
  const from = day('from');
  const untilDay = day('until');
  // The form's "until" is the last day shown, the reader's is exclusive: the next midnight.
  const until = untilDay && new Date(untilDay.getTime() + DAY_MS);
  const outcome = query.outcome === undefined ? undefined : (OUTCOMES.find((known) => known === query.outcome) ?? badInput('outcome'));
  const kind = query.subjectKind ?? 'person';
  if (kind !== 'person' && kind !== 'enterprise') badInput('subjectKind');
  const subject: DataSubject | undefined = query.subject === undefined ? undefined : { kind, id: query.subject };
  return {
    ...(from && { from }),
    ...(until && { until }),
    ...(query.consumer !== undefined && { consumer: query.consumer }),
    ...(query.provider !== undefined && { provider: query.provider }),
    ...(query.agreement !== undefined && { agreement: query.agreement }),
    ...(outcome && { outcome }),
    ...(subject && { subject }),
  };
}
