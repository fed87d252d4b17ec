import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import type { Agreement } from '../../policies/agreement.ts';
import { isInForce, requestAgreement, submitAgreement, type LifecycleSettings } from '../../policies/agreement-lifecycle.ts';
import { maySeeAgreement } from '../../policies/agreement-visibility.ts';
import type { Catalogue, MaskKind } from '../../policies/catalogue.ts';
import type { Role } from '../../policies/principal.ts';
import { cityDate } from '../../policies/working-calendar.ts';
import { MAX_PAGE_SIZE, type AgreementStore } from '../agreements/agreement-store.ts';
import { notFound, refusalStatus, signedIn, staleVersion, storeTransition } from './agreement-routes.ts';
import type { ConsoleContext, ConsoleEnv, RenderPage } from './console-env.ts';
import { ConsoleError } from './console-error.ts';
import type { ConsoleForm } from './console-form.ts';
import { quotaOfForm } from './quota-form.ts';
import { renderCataloguePage } from './views/catalogue-page.ts';
import type { ShownRefusal } from './views/refusal-notice.ts';
import { renderRequestFormPage, type RequestFormValues } from './views/requester-form-page.ts';
import { renderRequestsPage, type RequestsListing } from './views/requester-requests-page.ts';
import type { OperationRegistry } from '../operations/operation-registry.ts';
import { checkPinnedRegistered, registeredOperationsOf } from '../operations/pinned-operations.ts';

/** Who files and submits requests: the lifecycle's own `REQUESTER_ROLE` (it refuses anyone else again). */
const REQUESTERS: readonly Role[] = ['developer', 'data_officer'];
const TEXT_FIELDS = ['_csrf', 'consumerApp', 'purpose', 'legalBasis', 'rowScope', 'validFrom', 'validUntil', 'action', 'caseIdRequired', 'caseIdFormat', 'quotaPerMinute', 'quotaPerDay'];
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DONE = ['saved', 'filed', 'submitted'] as const;

/** What the requesting bureau's routes need. */
export interface RequesterRoutesDeps {
  readonly agreements: AgreementStore;
  readonly catalogue: Catalogue;
  /** The same settings the admin API is given: the reply period and the working calendar. */
  readonly lifecycle?: LifecycleSettings;
  readonly now: () => Date;
  readonly render: RenderPage;
  readonly base: string;
  readonly onChange?: () => Promise<void>;
  /** Draws new agreement ids; `agr-` and 12 hex digits, as the admin API. */
  readonly newId?: () => string;
  /** Registered operations per app: the form offers the bureau's to pin, and a pin must be registered for the request's app. Absent: none offered, every pin refused. */
  readonly operations?: Pick<OperationRegistry, 'forApp' | 'appsOf'>;
}

/**
 * The requesting bureau's pages and the bureau's catalogue:
 * - `GET /requests` — the bureau's requests, drafts with a submit button (explain's drafts among them);
 * - `GET /requests/new`, `POST /requests` — the form, saved as a draft or submitted;
 * - `POST /requests/:id/submit` — a draft to `PENDING`;
 * - `GET /catalogue` — the bureau's types and fields, and the agreements in force that share each.
 *
 * Every step is `requestAgreement` / `submitAgreement` of the lifecycle,
 * stored by the agreement store, exactly as the admin API's `POST /agreements`
 * and `/submit`; a refusal is shown in the reader's language beside the rule's words.
 */
export function createRequesterRoutes(deps: RequesterRoutesDeps): Hono<ConsoleEnv> {
  const { agreements, catalogue, now, render, base } = deps;
  const newId = deps.newId ?? (() => `agr-${randomBytes(6).toString('hex')}`);
  const app = new Hono<ConsoleEnv>();

  const showList = async (c: ConsoleContext, extra: Pick<RequestsListing, 'done' | 'problem'>, status = 200) => {
    const principal = signedIn(c, REQUESTERS);
    const cursor = c.req.query('cursor');
    const page = await agreements.list({ consumer: principal.bureau, limit: MAX_PAGE_SIZE, ...(cursor ? { cursor } : {}) });
    c.set('here', `${base}/requests`);
    const listing: RequestsListing = { requests: page.items, ...(page.nextCursor ? { more: page.nextCursor } : {}), ...extra };
    return render(c, c.get('t').t('requester.title'), (view) => renderRequestsPage(view, listing, now()), status);
  };

  app.get('/requests', (c) => {
    const done = c.req.query('done');
    return showList(c, DONE.includes(done as (typeof DONE)[number]) ? { done: done as (typeof DONE)[number] } : {});
  });

  const registered = (bureau: string) => (deps.operations ? registeredOperationsOf(bureau, deps.operations) : []);

  app.get('/requests/new', (c) => {
    const principal = signedIn(c, REQUESTERS);
    const today = cityDate(now());
    const values: RequestFormValues = { consumerApp: '', fields: [], masks: {}, purpose: '', legalBasis: '', rowScope: 'ANY', validFrom: today, validUntil: `${Number(today.slice(0, 4)) + 1}${today.slice(4)}` };
    return render(c, c.get('t').t('requester.form.title'), (view) => renderRequestFormPage(view, catalogue, values, undefined, registered(principal.bureau)));
  });

  app.post('/requests', async (c) => {
    const principal = signedIn(c, REQUESTERS);
    const values = readRequestForm(c.get('form'));
    const submit = c.get('form').get('action') === 'submit';
    const provider = values.fields.map((coordinate) => catalogue.fields.get(coordinate)?.bureau).find((bureau) => bureau !== undefined) ?? '';
    const at = now();
    const result = requestAgreement(
      principal,
      {
        id: newId(),
        consumerApp: values.consumerApp.trim(),
        providerBureau: provider,
        fields: values.fields,
        masks: values.masks,
        purpose: values.purpose.trim(),
        legalBasis: values.legalBasis,
        rowScope: values.rowScope as Agreement['rowScope'],
        // "From today" is from now: a window may not start before the request is made (agreement-terms.ts).
        validFrom: values.validFrom === cityDate(at) ? at.toISOString() : instantOf(values.validFrom),
        validUntil: instantOf(values.validUntil),
        ...(values.caseIdRequired ? { caseId: { required: true, ...(values.caseIdFormat?.trim() ? { format: values.caseIdFormat.trim() } : {}) } } : {}),
        ...quotaOfForm(values),
        ...(values.operations && values.operations.length > 0 ? { operations: values.operations } : {}),
        submit,
      },
      at,
      catalogue,
      deps.lifecycle,
    );
    const refusedPin = result.ok ? checkPinnedRegistered(result.agreement, deps.operations) : undefined;
    if (!result.ok || refusedPin) {
      // The refusal's words name bureaus by the two sides of the would-be agreement; nothing else of it is read.
      const sides = { consumerBureau: principal.bureau, providerBureau: provider } as Agreement;
      const refusal: ShownRefusal = refusedPin ?? (result as ShownRefusal);
      c.set('here', `${base}/requests/new`);
      return render(c, c.get('t').t('requester.form.title'), (view) => renderRequestFormPage(view, catalogue, values, { refusal, agreement: sides }, registered(principal.bureau)), refusal.code === 'FORBIDDEN' ? 403 : 400);
    }
    await agreements.create(result);
    await deps.onChange?.();
    return c.redirect(`${base}/requests?done=${submit ? 'filed' : 'saved'}`, 303);
  });

  app.post('/requests/:id/submit', async (c) => {
    const principal = signedIn(c, REQUESTERS);
    const form = c.get('form');
    for (const name of form.keys()) if (name !== '_csrf' && name !== 'version') throw new ConsoleError('BAD_USER_INPUT', `unexpected form field ${JSON.stringify(name.slice(0, 40))}`);
    const version = Number(form.get('version'));
    if (!Number.isSafeInteger(version) || version < 1) throw new ConsoleError('BAD_USER_INPUT', 'the form carries no agreement version');
    const id = c.req.param('id');
    const found = await agreements.get(id);
    if (!found || !maySeeAgreement(principal, found.agreement)) throw notFound(id);
    const refuse = (refusal: ShownRefusal) => showList(c, { problem: { agreement: found.agreement, refusal } }, refusalStatus(refusal));
    if (found.agreement.version !== version) return refuse(staleVersion(found.agreement, version));
    const result = submitAgreement(found.agreement, principal, {}, now(), catalogue, deps.lifecycle);
    if (!result.ok) return refuse(result);
    // A draft's pins are checked again: the app's manifest may have changed since it was saved.
    const refusedPin = checkPinnedRegistered(result.agreement, deps.operations);
    if (refusedPin) return refuse(refusedPin);
    const conflict = await storeTransition(agreements, result);
    if (conflict) return refuse(conflict);
    await deps.onChange?.();
    return c.redirect(`${base}/requests?done=submitted`, 303);
  });

  app.get('/catalogue', async (c) => {
    const principal = signedIn(c, REQUESTERS);
    const at = now();
    const active = await agreements.list({ provider: principal.bureau, status: 'ACTIVE', limit: MAX_PAGE_SIZE });
    const inForce = active.items.filter((agreement) => isInForce(agreement, at));
    return render(c, c.get('t').t('nav.catalogue'), (view) => renderCataloguePage(view, catalogue, inForce));
  });

  return app;
}

/** The form's values as typed: `field:<coordinate>` and `operation:<hash>` checkboxes and `mask:<coordinate>` choices beside the text fields; any other name is refused. */
function readRequestForm(form: ConsoleForm): RequestFormValues {
  const fields: string[] = [];
  const masks: Record<string, MaskKind> = {};
  const operations: string[] = [];
  for (const [name, value] of form) {
    if (name.startsWith('field:')) {
      if (value === 'on') fields.push(name.slice('field:'.length));
    } else if (name.startsWith('operation:')) {
      // A hash the app has not registered goes on as typed, to be refused naming operations[i].
      if (value === 'on') operations.push(name.slice('operation:'.length));
    } else if (name.startsWith('mask:')) {
      if (value === '') continue;
      // An unknown kind goes to the lifecycle as typed, which refuses it in its own words.
      masks[name.slice('mask:'.length)] = value as MaskKind;
    } else if (!TEXT_FIELDS.includes(name)) {
      throw new ConsoleError('BAD_USER_INPUT', `unexpected form field ${JSON.stringify(name.slice(0, 40))}`);
    }
  }
  const text = (name: string) => form.get(name) ?? '';
  return { consumerApp: text('consumerApp'), fields, masks, purpose: text('purpose'), legalBasis: text('legalBasis'), rowScope: text('rowScope'), validFrom: text('validFrom'), validUntil: text('validUntil'), caseIdRequired: text('caseIdRequired') === 'on', caseIdFormat: text('caseIdFormat'), quotaPerMinute: text('quotaPerMinute'), quotaPerDay: text('quotaPerDay'), operations };
}

/** A date of the form is midnight in the city; anything else goes to the lifecycle as typed, to be refused in its words. */
function instantOf(day: string): string {
  return DAY.test(day) ? `${day}T00:00:00+08:00` : day;
}
