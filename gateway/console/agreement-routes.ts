import { Hono } from 'hono';
import type { Agreement, AgreementStatus } from '../../policies/agreement.ts';
import {
  approveAgreement,
  effectiveStatus,
  isInForce,
  isOverdue,
  rejectAgreement,
  revokeAgreement,
  type LifecycleResult,
} from '../../policies/agreement-lifecycle.ts';
import { maySeeAgreement } from '../../policies/agreement-visibility.ts';
import type { Catalogue } from '../../policies/catalogue.ts';
import type { Principal, Role } from '../../policies/principal.ts';
import { requestIdOf } from '../errors/request-id.ts';
import { AgreementStoreError } from '../agreements/agreement-store-error.ts';
import { MAX_PAGE_SIZE, type AgreementStore, type Page } from '../agreements/agreement-store.ts';
import type { ConsoleContext, ConsoleEnv, RenderPage } from './console-env.ts';
import type { ConsoleAuditTrail } from './console-audit-trail.ts';
import { DEFAULT_USE_DAYS, type AgreementUseDay } from '../access-log/agreement-use.ts';
import { cityDate } from '../../policies/working-calendar.ts';
import { ConsoleError } from './console-error.ts';
import type { QuotaUse } from '../quotas/quota-use.ts';
import { renderAgreementPage, type AgreementPageData, type Decision, type DecisionOffer } from './views/agreement-page.ts';
import { AGREEMENT_SIDES, AGREEMENT_TABS, renderAgreementsPage, type AgreementSide, type AgreementTab } from './views/agreements-page.ts';
import { renderHomePage } from './views/home-page.ts';
import { renderInboxPage } from './views/inbox-page.ts';
import type { ShownRefusal } from './views/refusal-notice.ts';
import type { OperationRegistry } from '../operations/operation-registry.ts';
import { approvalOfRegistered, describePinnedOperations } from '../operations/pinned-operations.ts';

/** An agreement in force that ends within this many days is listed under "expiring soon". */
export const DEFAULT_EXPIRING_SOON_DAYS = 30;
const DAY_MS = 86_400_000;
/**
 * The reasons handed to reject and revoke when the console only asks whether
 * this person may take the step: they pass the text rule, so any refusal is
 * the rule's answer about the person and the agreement, not about the words.
 */
const PROBE_REASON = 'console: may this person take this step?';

/** What the agreement pages need. */
export interface AgreementRoutesDeps {
  readonly agreements: AgreementStore;
  readonly catalogue: Catalogue;
  readonly now: () => Date;
  readonly render: RenderPage;
  /** Where the console is mounted, for redirects. */
  readonly base: string;
  /** Applies a change to the gateway's next request (the registry refresh), as the admin API's `onChange`. */
  readonly onChange?: () => Promise<void>;
  /** The console's audit trail: every decision, taken or refused, is recorded there. */
  readonly trail?: Pick<ConsoleAuditTrail, 'record'>;
  /** Reads per day and consumer app under an agreement (the access log's `readAgreementUse`); the page charts them when given. */
  readonly use?: AgreementUseReader;
  /** The current use of an agreement's quota (`quotas/quota-use.ts`, as the admin API's `quotaUse`); the page shows it beside each limit when given. */
  readonly quotaUse?: (agreement: Agreement, now: Date) => Promise<QuotaUse | undefined>;
  /** Registered operations: the documents an agreement pins are shown from here, and must still be registered to be approved. */
  readonly operations?: Pick<OperationRegistry, 'forApp' | 'documentOf'>;
}

/** Bound on reading an agreement's use for its page. */
const USE_TIMEOUT_MS = 5_000;

/** Roles that work with agreements, as in the admin API; auditors and citizens have pages of their own. */
const STAFF: readonly Role[] = ['developer', 'data_officer', 'operator'];
const DECISIONS: readonly Decision[] = ['approve', 'reject', 'revoke'];

/**
 * The data officer's pages: home, the inbox, the bureau's agreements by
 * status, one agreement with its history, and the decisions. Every decision
 * is the lifecycle's (`policies/agreement-lifecycle.ts`) and is stored by the
 * agreement store, exactly as the admin API does it; the console only shows
 * the outcome, in the reader's language and in the rule's own words.
 */
export function createAgreementRoutes(deps: AgreementRoutesDeps): Hono<ConsoleEnv> {
  const { agreements, catalogue, now, render, base } = deps;
  const app = new Hono<ConsoleEnv>();

  const decide = (decision: Decision, agreement: Agreement, principal: Principal, reason: string, at: Date): LifecycleResult => {
    switch (decision) {
      case 'approve':
        // A pinned document must still be registered: the officer approves text the page can show.
        return approvalOfRegistered(approveAgreement(agreement, principal, {}, at, catalogue), deps.operations);
      case 'reject':
        return rejectAgreement(agreement, principal, { reason }, at);
      case 'revoke':
        return revokeAgreement(agreement, principal, { reason }, at);
    }
  };

  /** The decisions the agreement's state allows, each with the lifecycle's answer for this person. */
  const offersFor = (agreement: Agreement, principal: Principal, at: Date): readonly DecisionOffer[] => {
    const status = effectiveStatus(agreement, at);
    const open: readonly Decision[] = status === 'PENDING' ? ['approve', 'reject'] : status === 'ACTIVE' ? ['revoke'] : [];
    return open.map((decision) => {
      const result = decide(decision, agreement, principal, PROBE_REASON, at);
      return result.ok ? { decision } : { decision, refusal: result };
    });
  };

  const showAgreement = async (c: ConsoleContext, id: string, extra: Pick<AgreementPageData, 'done' | 'problem'>, status = 200) => {
    const principal = signedIn(c, STAFF);
    const found = await agreements.get(id);
    if (!found || !maySeeAgreement(principal, found.agreement)) throw notFound(id);
    const at = now();
    const use = deps.use && !['DRAFT', 'PENDING', 'REJECTED'].includes(found.agreement.status) ? await recentUse(deps.use, found.agreement.id, at) : undefined;
    // Only an agreement in force is metered: for any other the counters say nothing the reader could act on.
    const quotaUse = deps.quotaUse && found.agreement.quota && isInForce(found.agreement, at) ? await deps.quotaUse(found.agreement, at) : undefined;
    const pinned = found.agreement.operations ? describePinnedOperations(found.agreement, deps.operations) : undefined;
    const data: AgreementPageData = { agreement: found.agreement, events: found.events, offers: offersFor(found.agreement, principal, at), ...extra, ...(use ? { use } : {}), ...(quotaUse ? { quotaUse } : {}), ...(pinned ? { pinned } : {}) };
    c.set('here', `${base}/agreements/${encodeURIComponent(found.agreement.id)}`);
    return render(c, c.get('t').t('agreement.title', { id: found.agreement.id }), (page) => renderAgreementPage(page, data, at, catalogue), status);
  };

  app.get('/', async (c) => {
    const principal = signedIn(c);
    const at = now();
    const pending = principal.roles.includes('data_officer') ? (await agreements.list({ provider: principal.bureau, status: 'PENDING', limit: MAX_PAGE_SIZE })).items : [];
    const facts = { pending: pending.length, late: pending.filter((request) => isOverdue(request, at)).length };
    return render(c, c.get('t').t('nav.home'), (page) => renderHomePage(page, facts));
  });

  app.get('/inbox', async (c) => {
    const principal = signedIn(c, ['data_officer']);
    const at = now();
    const page = await agreements.list({ provider: principal.bureau, status: 'PENDING', limit: MAX_PAGE_SIZE, ...cursorOf(c) });
    // Late ones first, then the nearest reply-by date: the order in which they must be answered.
    const requests = [...page.items].sort((a, b) => Number(isOverdue(b, at)) - Number(isOverdue(a, at)) || (a.replyBy ?? '').localeCompare(b.replyBy ?? ''));
    return render(c, c.get('t').t('inbox.title'), (view) => renderInboxPage(view, requests, at, catalogue, page.nextCursor));
  });

  app.get('/agreements', async (c) => {
    const principal = signedIn(c, STAFF);
    const side = oneOf(c.req.query('side'), AGREEMENT_SIDES, principal.roles.includes('data_officer') ? 'provided' : 'consumed', 'side');
    const tab = oneOf(c.req.query('tab'), AGREEMENT_TABS, 'active', 'tab');
    const at = now();
    const page = await listTab(agreements, { side, tab, bureau: principal.bureau, at, ...cursorOf(c) });
    const listing = { side, tab, agreements: page.items, ...(page.nextCursor ? { more: page.nextCursor } : {}) };
    return render(c, c.get('t').t('agreements.title'), (view) => renderAgreementsPage(view, listing, at));
  });

  app.get('/agreements/:id', (c) => {
    const done = c.req.query('done');
    return showAgreement(c, c.req.param('id'), DECISIONS.includes(done as Decision) ? { done: done as Decision } : {});
  });

  app.post('/agreements/:id/:decision', async (c) => {
    const decision = c.req.param('decision') as Decision;
    if (!DECISIONS.includes(decision)) throw new ConsoleError('NOT_FOUND', `no console decision ${JSON.stringify(decision.slice(0, 40))}`);
    const principal = signedIn(c, STAFF);
    const id = c.req.param('id');
    const form = c.get('form');
    const allowed = decision === 'approve' ? ['_csrf', 'version'] : ['_csrf', 'version', 'reason'];
    for (const name of form.keys()) if (!allowed.includes(name)) throw new ConsoleError('BAD_USER_INPUT', `unexpected form field ${JSON.stringify(name.slice(0, 40))}`);
    const version = Number(form.get('version'));
    if (!Number.isSafeInteger(version) || version < 1) throw new ConsoleError('BAD_USER_INPUT', 'the form carries no agreement version');
    const reason = form.get('reason') ?? '';

    const found = await agreements.get(id);
    if (!found || !maySeeAgreement(principal, found.agreement)) throw notFound(id);
    const audit = (outcome: 'DONE' | 'REFUSED', detail: Readonly<Record<string, string>>) =>
      deps.trail?.record({ action: 'DECISION', outcome, actor: principal, target: id, detail: { decision, ...detail }, requestId: requestIdOf(c.req.raw) });
    const refuse = async (refusal: ShownRefusal) => {
      await audit('REFUSED', { code: refusal.code });
      return showAgreement(c, id, { problem: { decision, refusal, ...(decision === 'approve' ? {} : { reason }) } }, refusalStatus(refusal));
    };
    // The person decided on the version they saw; a change since then (by anyone) needs a fresh look, as in the admin API.
    if (found.agreement.version !== version) return refuse(staleVersion(found.agreement, version));
    const result = decide(decision, found.agreement, principal, reason, now());
    if (!result.ok) return refuse(result);
    const conflict = await storeTransition(agreements, result);
    if (conflict) return refuse(conflict);
    await audit('DONE', { version: String(result.agreement.version) });
    await deps.onChange?.();
    return c.redirect(`${base}/agreements/${encodeURIComponent(id)}?done=${decision}`, 303);
  });

  return app;
}

/** The signed-in principal, if their roles open the page; otherwise the refusal the error page shows. */
export function signedIn(c: ConsoleContext, roles?: readonly Role[]): Principal {
  const session = c.get('session');
  if (!session) throw c.get('lapsed') ? new ConsoleError('SESSION_EXPIRED', 'the session has ended') : new ConsoleError('UNAUTHENTICATED', 'not signed in');
  if (roles && !session.principal.roles.some((role) => roles.includes(role))) {
    throw new ConsoleError('FORBIDDEN', `the page is for ${roles.join(', ')}`);
  }
  return session.principal;
}

/** An agreement the person may not see is answered as one that does not exist. */
export function notFound(id: string): ConsoleError {
  return new ConsoleError('NOT_FOUND', `no agreement ${JSON.stringify(id.slice(0, 80))} that the person can see`);
}

/** The person acted on a version that is no longer the agreement's: they must look again. */
export function staleVersion(agreement: Agreement, seen: number): ShownRefusal {
  return { code: 'CONFLICT', message: `agreement ${agreement.id} is at version ${agreement.version}, not ${seen}; reload it and act again` };
}

/**
 * Stores a change the lifecycle allowed; a change that lost the race to
 * another one (the store's `CONFLICT`) is a refusal to show, anything else is thrown.
 */
export async function storeTransition(agreements: Pick<AgreementStore, 'transition'>, change: Parameters<AgreementStore['transition']>[0]): Promise<ShownRefusal | undefined> {
  try {
    await agreements.transition(change);
    return undefined;
  } catch (error) {
    if (error instanceof AgreementStoreError && error.code === 'CONFLICT') return { code: 'CONFLICT', message: error.message };
    throw error;
  }
}

/** The status of a page that shows a refusal. */
export function refusalStatus(refusal: ShownRefusal): number {
  return refusal.code === 'FORBIDDEN' ? 403 : refusal.code === 'CONFLICT' ? 409 : 400;
}

function cursorOf(c: ConsoleContext): { cursor?: string } {
  const cursor = c.req.query('cursor');
  return cursor ? { cursor } : {};
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T, name: string): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new ConsoleError('BAD_USER_INPUT', `${name} must be one of ${allowed.join(', ')}`);
  return value as T;
}

/** The stored status each tab reads; `expiring` and `active` split the agreements in force by how soon they end. */
const TAB_STATUS: Readonly<Record<AgreementTab, AgreementStatus>> = {
  active: 'ACTIVE',
  expiring: 'ACTIVE',
  pending: 'PENDING',
  expired: 'EXPIRED',
  revoked: 'REVOKED',
  rejected: 'REJECTED',
  draft: 'DRAFT',
};

/**
 * One page of a tab. The store filters by status; `active` and `expiring`
 * are then told apart by the lifecycle's `isInForce` and the end of the
 * window, so a page of those two tabs may hold fewer rows than the store's.
 */
async function listTab(
  agreements: AgreementStore,
  query: { side: AgreementSide; tab: AgreementTab; bureau: string; at: Date; cursor?: string },
): Promise<Page<Agreement>> {
  const { side, tab, bureau, at } = query;
  const page = await agreements.list({
    status: TAB_STATUS[tab],
    ...(side === 'provided' ? { provider: bureau } : { consumer: bureau }),
    limit: MAX_PAGE_SIZE,
    ...(query.cursor ? { cursor: query.cursor } : {}),
  });
  if (tab !== 'active' && tab !== 'expiring') return page;
  const soon = at.getTime() + DEFAULT_EXPIRING_SOON_DAYS * DAY_MS;
  const expiring = (agreement: Agreement) => isInForce(agreement, at) && Date.parse(agreement.validUntil) <= soon;
  const items = page.items.filter((agreement) => (tab === 'expiring' ? expiring(agreement) : !expiring(agreement)));
  return page.nextCursor ? { items, nextCursor: page.nextCursor } : { items };
}

/** Reads an agreement's use in `[from, until)`. */
export type AgreementUseReader = (agreementId: string, range: { readonly from: Date; readonly until: Date }, signal: AbortSignal) => Promise<readonly AgreementUseDay[]>;

/** The last {@link DEFAULT_USE_DAYS} days of the city's calendar up to today, and the reads in them. */
async function recentUse(read: AgreementUseReader, id: string, at: Date): Promise<NonNullable<AgreementPageData['use']>> {
  const lastDay = cityDate(at);
  const until = new Date(Date.parse(`${lastDay}T00:00:00+08:00`) + DAY_MS);
  const from = new Date(until.getTime() - DEFAULT_USE_DAYS * DAY_MS);
  return { rows: await read(id, { from, until }, AbortSignal.timeout(USE_TIMEOUT_MS)), lastDay, days: DEFAULT_USE_DAYS };
}
