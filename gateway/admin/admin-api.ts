import { randomBytes } from 'node:crypto';
import { explainOperation } from './explain-operation.ts';
import { CASE_ID_HEADER, PURPOSE_HEADER } from '../../policies/request-purpose.ts';
import type { AgreementsInForce, Enforcer } from '../../policies/enforce.ts';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { Agreement } from '../../policies/agreement.ts';
import {
  approveAgreement,
  effectiveStatus,
  isInForce,
  isOverdue,
  rejectAgreement,
  requestAgreement,
  revokeAgreement,
  submitAgreement,
  type LifecycleResult,
  type LifecycleSettings,
} from '../../policies/agreement-lifecycle.ts';
import type { Catalogue } from '../../policies/catalogue.ts';
import type { WorkingCalendar } from '../../policies/working-calendar.ts';
import { maySeeAgreement } from '../../policies/agreement-visibility.ts';
import type { Principal } from '../../policies/principal.ts';
import type { AgreementStore, StoredAgreementEvent } from '../agreements/agreement-store.ts';
import type { Logger } from '../observability/logger.ts';
import { ApiError } from '../errors/api-error.ts';
import { apiRoutes } from '../http/api-routes.ts';
import { authenticateCaller } from '../http/authenticate-caller.ts';
import { AdminApiError } from './admin-error.ts';
import type { QuotaUse } from '../quotas/quota-use.ts';
import type { CatalogueReload } from '../catalogue/catalogue-generations.ts';
import { requestIdOf } from '../errors/request-id.ts';
import { UNDERWAY_STATUSES } from '../../policies/requests-underway.ts';
import { MAX_PAGE_SIZE } from '../agreements/agreement-store.ts';
import type { OperationRegistry } from '../operations/operation-registry.ts';
import { approvalOfRegistered, checkPinnedRegistered, describePinnedOperations } from '../operations/pinned-operations.ts';
import {
  parseAgreementRequest,
  parseAuditQuery,
  parseBody,
  parseExpectedVersion,
  parseListQuery,
  parseNoInput,
  parseReason,
  parseExplainRequest,
  type Body,
} from './admin-input.ts';

/** Largest request body the admin API reads: an agreement request is a few kilobytes. */
export const DEFAULT_ADMIN_MAX_BODY_BYTES = 64 * 1024;
/** Bounds of `workingDaysToReply`: a provider gets at least a day and at most three months. */
const WORKING_DAYS_RANGE = [1, 65] as const;

/** What the admin API needs. */
export interface AdminApiDeps {
  /** Verifies the request's credentials; rejects with an auth error (`TOKEN_MISSING`, `KEYS_UNAVAILABLE`, …) when it cannot. */
  readonly authenticate: (request: Request) => Promise<Principal>;
  readonly agreements: AgreementStore;
  readonly catalogue: Catalogue;
  /** The clock; tests pass a fixed one. */
  readonly now?: () => Date;
  /** Working days a provider has to answer a submitted request. */
  readonly workingDaysToReply: number;
  /** The calendar they are counted in (national holidays, adjusted working days); Monday to Friday when not given. */
  readonly calendar?: WorkingCalendar;
  /** Draws new agreement ids; `agr-` and 12 hex digits by default. */
  readonly newId?: () => string;
  /** Where unexpected errors are logged. */
  readonly log?: Pick<Logger, 'error'>;
  /**
   * Called after every change is stored and before the answer leaves, so the
   * gateway that made a change applies it to its very next request (the
   * gateway refreshes its agreement registry here).
   */
  readonly onChange?: () => Promise<void>;
  /**
   * For `POST /explain` and `GET /catalogue`: the enforcer `/graphql` uses
   * now (read once per request: a catalogue reload replaces it) and the
   * agreements in force now (the gateway's registry).
   */
  readonly explain?: { readonly enforcer: () => Pick<Enforcer, 'settings' | 'decide'>; readonly inForce: () => AgreementsInForce };
  /** The current use of an agreement's quota, for `GET /agreements/:id` (`quotaUse`); absent: not shown. */
  readonly quotaUse?: (agreement: Agreement, now: Date) => Promise<QuotaUse | undefined>;
  /** For `POST /catalogue/reload` (operators): reads the schemas folder again; absent, the route answers 404. */
  readonly reloadCatalogue?: () => Promise<CatalogueReload>;
  /**
   * Registered operations per app: an agreement may pin only documents its consumer app registered
   * (checked when it is requested and submitted), and `GET /agreements/:id` shows each pinned one
   * (`pinnedOperations`). Absent: every pin is refused.
   */
  readonly operations?: Pick<OperationRegistry, 'forApp' | 'documentOf'>;
}

type AdminEnv = { Variables: { principal: Principal } };

/** Drafts made by `explain` ask for a year unless the developer says otherwise. */
export const DEFAULT_DRAFT_VALIDITY_MS = 365 * 24 * 60 * 60 * 1_000;

/**
 * The admin API for sharing agreements, a hono app the gateway mounts at
 * `/admin/api`. JSON in and out; every refusal is in the shape of GraphQL
 * errors, `{ errors: [{ message, extensions: { code, requestId, reason?, field?, rule? } }] }`,
 * with the status of the gateway's error table: 400, 401, 403, 404, 405
 * (with `Allow`), 409, 411, 413, 503 (with `retry-after`).
 *
 * - `GET /agreements?status&provider&consumer&overdue&limit&cursor`
 * - `GET /agreements/:id` — with its history, and each operation it pins with its names and document
 * - `POST /agreements` — a request; `submit: true` sends it straight to `PENDING`; the documents it pins
 *   (`operations`) must be registered for its consumer app
 * - `POST /agreements/:id/submit | approve | reject | revoke` — `reason` for the last two; `version` to act only on the version you saw
 * - `GET /audit?actor&agreement&bureau&from&until&limit&cursor` — who did what
 * - `POST /explain` — `{ query, variables?, operationName?, purpose?, draft? }`: what the caller's token
 *   would get for each field and which agreements are missing; with `draft: { legalBasis, validUntil? }`
 *   the missing ones are saved as `DRAFT` requests; a draft or pending request of the caller's app that
 *   covers a field is named (`underway`) instead of being filed again, and an agreement in force whose
 *   scope the token lacks is named too (`scopeMissing`)
 * - `GET /catalogue?bureau` — every field with its category, sensitivity, mask and the agreements in
 *   force (that the caller may see) which share it
 * - `POST /catalogue/reload` — operators: read the schemas folder again; a valid one is served from
 *   the next request on, an invalid one is refused (400) with one error per problem
 *
 * People see the agreements their bureau consumes or provides; operators see all.
 * Each route reads auth → validate → load → authorize → act → present.
 *
 * @example
 * app.route('/admin/api', createAdminApi({ authenticate, agreements, catalogue, workingDaysToReply: 10 }));
 */
export function createAdminApi(deps: AdminApiDeps): Hono<AdminEnv> {
  const { agreements, catalogue, authenticate } = deps;
  const now = deps.now ?? (() => new Date());
  const newId = deps.newId ?? (() => `agr-${randomBytes(6).toString('hex')}`);
  if (!Number.isInteger(deps.workingDaysToReply) || deps.workingDaysToReply < WORKING_DAYS_RANGE[0] || deps.workingDaysToReply > WORKING_DAYS_RANGE[1]) {
    throw new TypeError(`workingDaysToReply must be a whole number from ${WORKING_DAYS_RANGE[0]} to ${WORKING_DAYS_RANGE[1]}`);
  }
  const settings: LifecycleSettings = { workingDaysToReply: deps.workingDaysToReply, ...(deps.calendar ? { calendar: deps.calendar } : {}) };

  const app = new Hono<AdminEnv>();

  // auth: every route needs a principal of the staff (not a citizen app). Only on this API's own paths:
  // the access-log API, mounted at the same prefix, serves citizens too.
  const staffOnly: MiddlewareHandler<AdminEnv> = async (c, next) => {
    const principal = await authenticateCaller(authenticate, c.req.raw);
    // Set before the role check: the security events name who was refused.
    c.set('principal', principal);
    if (!principal.roles.some((role) => role === 'developer' || role === 'data_officer' || role === 'operator')) {
      throw new ApiError('FORBIDDEN', 'the admin API is for developers, data officers and operators', { rule: 'STAFF_ONLY' });
    }
    await next();
  };
  const routes = apiRoutes(app, { maxBodyBytes: DEFAULT_ADMIN_MAX_BODY_BYTES, guard: staffOnly, ...(deps.log ? { log: deps.log } : {}) });

  routes.on('GET', '/agreements', async (c) => {
    const principal = c.get('principal');
    const filter = parseListQuery(c.req.query());
    const at = now();
    const page = await agreements.list({ ...filter, now: at, ...(isOperator(principal) ? {} : { involving: principal.bureau }) });
    return c.json({ agreements: page.items.map((agreement) => present(agreement, at)), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) });
  });

  routes.on('GET', '/agreements/:id', async (c) => {
    const principal = c.get('principal');
    const found = await agreements.get(c.req.param('id') ?? '');
    if (!found || !canSee(principal, found.agreement)) throw notFound();
    const at = now();
    const quotaUse = await deps.quotaUse?.(found.agreement, at);
    const pinnedOperations = found.agreement.operations ? describePinnedOperations(found.agreement, deps.operations) : undefined;
    return c.json({ agreement: present(found.agreement, at), ...(quotaUse && { quotaUse }), ...(pinnedOperations && { pinnedOperations }), events: found.events.map(presentEvent) });
  });

  routes.on('POST', '/agreements', async (c) => {
    const principal = c.get('principal');
    const input = parseAgreementRequest(parseBody(await c.req.text()));
    const at = now();
    const result = requestAgreement(principal, { ...input, id: newId() }, at, catalogue, settings);
    if (!result.ok) throw refused(result);
    const unregistered = checkPinnedRegistered(result.agreement, deps.operations);
    if (unregistered) throw refused(unregistered);
    const event = await agreements.create(result);
    await deps.onChange?.();
    c.header('location', `${new URL(c.req.url).pathname.replace(/\/$/, '')}/${encodeURIComponent(result.agreement.id)}`);
    return c.json({ agreement: present(result.agreement, at), event: presentEvent(event) }, 201);
  });

  const transition =
    <Input>(parse: (body: Body) => Input, decide: (agreement: Agreement, principal: Principal, input: Input, at: Date) => LifecycleResult) =>
    async (c: Context<AdminEnv>) => {
      const principal = c.get('principal');
      const body = parseBody(await c.req.text());
      const input = parse(body);
      const expected = parseExpectedVersion(body);
      const id = c.req.param('id') ?? '';
      const found = await agreements.get(id);
      if (!found || !canSee(principal, found.agreement)) throw notFound();
      if (expected !== undefined && expected !== found.agreement.version) {
        throw new ApiError('CONFLICT', `agreement ${found.agreement.id} is at version ${found.agreement.version}, not the version you gave; reload it and decide again`);
      }
      const at = now();
      const result = decide(found.agreement, principal, input, at);
      if (!result.ok) throw refused(result);
      const event = await agreements.transition(result);
      await deps.onChange?.();
      return c.json({ agreement: present(result.agreement, at), event: presentEvent(event) });
    };
  // A draft's pins are checked again: the app's manifest may have changed since it was saved.
  routes.on(
    'POST',
    '/agreements/:id/submit',
    transition(parseNoInput, (agreement, principal, input, at) => {
      const result = submitAgreement(agreement, principal, input, at, catalogue, settings);
      return (result.ok && checkPinnedRegistered(result.agreement, deps.operations)) || result;
    }),
  );
  routes.on('POST', '/agreements/:id/approve', transition(parseNoInput, (agreement, principal, input, at) => approvalOfRegistered(approveAgreement(agreement, principal, input, at, catalogue), deps.operations)));
  routes.on('POST', '/agreements/:id/reject', transition(parseReason, rejectAgreement));
  routes.on('POST', '/agreements/:id/revoke', transition(parseReason, revokeAgreement));

  routes.on('GET', '/audit', async (c) => {
    const principal = c.get('principal');
    const filter = parseAuditQuery(c.req.query());
    if (!isOperator(principal) && !principal.roles.includes('data_officer')) {
      throw new ApiError('FORBIDDEN', 'the audit is for data officers and operators', { rule: 'AUDIT_ROLE' });
    }
    if (!isOperator(principal) && filter.bureau !== undefined && filter.bureau !== principal.bureau) {
      throw new ApiError('FORBIDDEN', `you may audit only agreements of your bureau '${principal.bureau}'`, { rule: 'OWN_BUREAU' });
    }
    const page = await agreements.audit({ ...filter, ...(isOperator(principal) ? {} : { bureau: principal.bureau }) });
    return c.json({ events: page.items.map(presentEvent), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) });
  });

  routes.on('POST', '/explain', async (c) => {
    if (!deps.explain) throw new AdminApiError('NOT_FOUND', 'explain is not available on this server');
    const principal = c.get('principal');
    const input = parseExplainRequest(parseBody(await c.req.text()));
    const at = now();
    // Drafts and pending requests of the caller's bureau, so that what is already asked for is named, not asked for again.
    const requested = (
      await Promise.all(UNDERWAY_STATUSES.map((status) => agreements.list({ consumer: principal.bureau, status, limit: MAX_PAGE_SIZE })))
    ).flatMap((page) => page.items);
    const report = explainOperation({
      enforcer: deps.explain.enforcer(),
      principal,
      requested,
      // The body's purpose stands where /graphql reads the header; from there on the rules are /graphql's own.
      stated: { purpose: input.purpose ?? c.req.header(PURPOSE_HEADER), caseId: c.req.header(CASE_ID_HEADER) },
      agreements: deps.explain.inForce(),
      now: at,
      query: input.query,
      ...(input.variables ? { variables: input.variables } : {}),
      ...(input.operationName ? { operationName: input.operationName } : {}),
    });
    if (!input.draft) return c.json({ explain: report });
    // Nothing new to file: what is missing is already drafted or pending (named in `underway`).
    if (report.missing.length === 0) return c.json({ explain: report, drafts: [] });
    const purpose = report.purpose;
    if (purpose === undefined) throw new AdminApiError('BAD_USER_INPUT', 'a draft needs the purpose it is for: give purpose or the x-isthmus-purpose header', { field: 'purpose' });
    const drafts = [];
    for (const missing of report.missing) {
      const result = requestAgreement(
        principal,
        {
          id: newId(),
          consumerApp: missing.consumerApp,
          providerBureau: missing.providerBureau,
          fields: missing.fields,
          masks: missing.suggestedMasks,
          purpose,
          legalBasis: input.draft.legalBasis,
          rowScope: missing.rowScope,
          validFrom: at.toISOString(),
          validUntil: input.draft.validUntil ?? new Date(at.getTime() + DEFAULT_DRAFT_VALIDITY_MS).toISOString(),
        },
        at,
        catalogue,
        settings,
      );
      if (!result.ok) throw refused(result);
      await agreements.create(result);
      drafts.push(present(result.agreement, at));
    }
    return c.json({ explain: report, drafts }, 201);
  });

  routes.on('GET', '/catalogue', async (c) => {
    if (!deps.explain) throw new AdminApiError('NOT_FOUND', 'the catalogue is not available on this server');
    const principal = c.get('principal');
    const bureau = c.req.query('bureau');
    // One generation's catalogue for the whole answer, even if a reload lands meanwhile.
    const current = deps.explain.enforcer().settings.catalogue;
    if (bureau !== undefined && !current.bureaus.has(bureau)) {
      throw new AdminApiError('BAD_USER_INPUT', `bureau must be a bureau of the catalogue (${[...current.bureaus.keys()].join(', ')})`, { field: 'bureau' });
    }
    const inForce = deps.explain.inForce().agreements.filter((agreement) => canSee(principal, agreement));
    const fields = [...current.fields.values()]
      .filter((field) => bureau === undefined || field.bureau === bureau)
      .sort((a, b) => (a.coordinate < b.coordinate ? -1 : a.coordinate > b.coordinate ? 1 : 0))
      .map((field) => ({
        coordinate: field.coordinate,
        bureau: field.bureau,
        category: field.category,
        sensitivity: field.sensitivity,
        ...(field.mask ? { mask: field.mask } : {}),
        ...(field.isKey ? { key: true } : {}),
        ...(field.description ? { description: field.description } : {}),
        agreements: inForce
          .filter((agreement) => agreement.providerBureau === field.bureau && agreement.fields.includes(field.coordinate))
          .map((agreement) => ({
            id: agreement.id,
            consumerBureau: agreement.consumerBureau,
            consumerApp: agreement.consumerApp,
            purpose: agreement.purpose,
            ...(agreement.masks[field.coordinate] ? { mask: agreement.masks[field.coordinate] } : {}),
            validUntil: agreement.validUntil,
          })),
      }));
    const bureaus = [...current.bureaus.values()]
      .filter((entry) => bureau === undefined || entry.id === bureau)
      .map((entry) => ({ id: entry.id, name: entry.name, connector: entry.connector.kind, rootFields: entry.rootFields }));
    return c.json({ bureaus, fields });
  });

  routes.on('POST', '/catalogue/reload', async (c) => {
    const principal = c.get('principal');
    parseNoInput(parseBody(await c.req.text()));
    if (!isOperator(principal)) throw new ApiError('FORBIDDEN', 'reloading the catalogue is for operators', { rule: 'OPERATOR_ONLY' });
    if (!deps.reloadCatalogue) throw new AdminApiError('NOT_FOUND', 'catalogue reload is not available on this server');
    const result = await deps.reloadCatalogue();
    if (result.ok) return c.json({ reload: result });
    // One error per problem, in the shape of every refusal, so a script sees them all at once.
    const requestId = requestIdOf(c.req.raw);
    return c.json(
      {
        errors: result.problems.map((problem) => ({
          message: `${problem.file}${problem.at ? ` ${problem.at}` : ''}: ${problem.message}`,
          extensions: { code: 'BAD_USER_INPUT', reason: 'CATALOGUE_INVALID', field: problem.at ? `${problem.file}:${problem.at}` : problem.file, requestId },
        })),
        generation: result.generation,
      },
      400,
    );
  });

  return app;
}

/** An agreement as the API shows it: as stored, plus what the clock says about it. */
export interface AgreementView extends Agreement {
  /** `EXPIRED` for an `ACTIVE` agreement whose window has ended, else `status`. */
  readonly effectiveStatus: Agreement['status'];
  /** `ACTIVE` and inside its window now. */
  readonly inForce: boolean;
  /** `PENDING` past its reply-by date. */
  readonly overdue: boolean;
}

function present(agreement: Agreement, now: Date): AgreementView {
  return { ...agreement, effectiveStatus: effectiveStatus(agreement, now), inForce: isInForce(agreement, now), overdue: isOverdue(agreement, now) };
}

/** Events are shown as stored: numbered, with the actor and the agreement as it stood after the step. */
function presentEvent(event: StoredAgreementEvent): StoredAgreementEvent {
  return event;
}


function isOperator(principal: Principal): boolean {
  return principal.roles.includes('operator');
}

/** People of the consumer and provider bureaus see an agreement; operators see all. */
function canSee(principal: Principal, agreement: Agreement): boolean {
  return maySeeAgreement(principal, agreement);
}

/**
 * Hidden and missing agreements look the same, so ids of other bureaus' agreements cannot be probed;
 * the id is not quoted back (a caller may have put anything in it).
 */
function notFound(): ApiError {
  return new ApiError('NOT_FOUND', 'no agreement with this id that you can see');
}

function refused(result: Extract<LifecycleResult, { ok: false }>): ApiError {
  return new ApiError(result.code, result.message, { ...(result.field ? { field: result.field } : {}), ...(result.rule ? { rule: result.rule } : {}) });
}
