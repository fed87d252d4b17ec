import { GraphQLError, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Catalogue } from '../../policies/catalogue.ts';
import type { Agreement } from '../../policies/agreement.ts';
import type { Principal, RequestPurpose } from '../../policies/principal.ts';
import { planFields, planOperation, type OperationPlan, type PlannedField } from '../../policies/field-plan.ts';
import { decideOperation, keepAllowed, type DenyDecision, type OperationDecision } from '../../policies/decide.ts';
import { maskResult } from '../../policies/masks.ts';
import { printPlan } from '../../policies/print-plan.ts';
import type { Enforcement, GatewayContext } from './gateway-context.ts';
import { projectResult } from './project-result.ts';
import { recordsRead, withSubjectKeys, type SubjectKeyedDocument } from './subject-keys.ts';

/** What enforcement reads on every request. */
export interface EnforcementOptions {
  /** The schema clients query (the stitched one). */
  readonly schema: GraphQLSchema;
  readonly catalogue: Catalogue;
  /** The agreements in force now; read synchronously on every request, refreshed elsewhere. */
  readonly agreements: () => { readonly agreements: readonly Agreement[] };
  /** Refuse the whole operation (HTTP 403) when any field is denied, instead of a partial result. */
  readonly denyWholeOperation: boolean;
  readonly now?: () => Date;
}

/** Bound on the executable variants kept per client document (one per distinct set of denied fields). */
const MAX_EXECUTABLE_VARIANTS = 32;

/** Headers a request may use to state why it reads data. */
export const PURPOSE_HEADER = 'x-isthmus-purpose';
export const CASE_ID_HEADER = 'x-isthmus-case-id';
const PURPOSE_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const CASE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;

/**
 * Enforces sharing agreements on every operation, before any bureau is called:
 *
 * 1. plan the fields the operation really touches (fragments, aliases,
 *    variables and `@include`/`@skip` resolved — `policies/field-plan.ts`);
 * 2. decide each field — allow, mask or deny — from the principal, the
 *    request's purpose, the active agreements and the catalogue
 *    (`policies/decide.ts`, pure);
 * 3. execute a document printed from the plan with the denied fields left
 *    out, so they are never fetched from their bureau;
 * 4. shape the result to what was asked, `null` at each denied field with one
 *    `FORBIDDEN` error per denied path naming the fields, the providing bureau
 *    and the agreement that would allow them; then mask.
 *
 * The decision is kept in the context for the access log and for the
 * consumer identity sent to bureaus.
 */
export function useEnforcement(options: EnforcementOptions): Plugin<GatewayContext> {
  const now = options.now ?? (() => new Date());
  // The document to execute depends only on the client's document and which
  // planned fields are kept, so it is built once per such pair: a stable
  // document also lets stitching reuse its delegation plans.
  const executable = new WeakMap<DocumentNode, Map<string, SubjectKeyedDocument>>();
  const executableDocument = (original: DocumentNode, plan: OperationPlan, decision: OperationDecision, keep: (field: PlannedField) => boolean): SubjectKeyedDocument => {
    const signature = decision.denied.length === 0 ? '*' : planFields(plan).filter(keep).map((field) => field.key).join(',');
    let byKept = executable.get(original);
    if (!byKept) executable.set(original, (byKept = new Map()));
    let document = byKept.get(signature);
    if (!document) {
      if (byKept.size >= MAX_EXECUTABLE_VARIANTS) byKept.clear();
      document = withSubjectKeys(decision.denied.length === 0 ? original : printPlan(plan, keep), options.schema, options.catalogue);
      byKept.set(signature, document);
    }
    return document;
  };
  return {
    onExecute({ args, executeFn, setExecuteFn, setResultAndStopExecution }) {
      const context = args.contextValue as GatewayContext & { request?: Request };
      const principal = context.principal;
      if (!principal) {
        // Authentication runs first and refuses requests without a principal; this is the backstop.
        setResultAndStopExecution({ errors: [forbidden('The request has no verified identity.', {})] });
        return;
      }
      const purpose = purposeOf(context.request, principal);
      const plan = planOperation(args.schema, args.document, args.operationName ?? undefined, (args.variableValues ?? {}) as Record<string, unknown>);
      if (plan.kind === 'problem') {
        setResultAndStopExecution({ errors: [new GraphQLError(plan.message, { extensions: { code: 'BAD_USER_INPUT', reason: plan.code, http: { status: 400 } } })] });
        return;
      }
      const { agreements } = options.agreements();
      const decision = decideOperation({ plan, principal, purpose, agreements, catalogue: options.catalogue, now: now() });
      const enforcement: Enforcement = { plan, decision, purpose };
      context.enforcement = enforcement;

      const reported = topmostDenials(decision.denied);
      if (reported.length > 0 && options.denyWholeOperation) {
        setResultAndStopExecution({ data: null, errors: reported.map((denial) => denialError(denial, 403)) });
        return;
      }
      const keep = keepAllowed(decision);
      const { document, placement } = executableDocument(args.document, plan, decision, keep);
      const denied = (field: PlannedField) => !keep(field);
      const fields = plan.fields;
      const masks = decision.masks;
      setExecuteFn(async (executionArgs: ExecutionArgs) => {
        // Yoga's own executor (the one it would have run), on the pruned document.
        const result = (await executeFn({ ...executionArgs, document })) as ExecutionResult;
        // Subjects are read before shaping and masking: from the keys the gateway added, unmasked.
        enforcement.records = recordsRead(result.data, plan, decision.fields, principal.bureau, options.catalogue, placement);
        const shaped = projectResult(result.data, fields, denied);
        const data = masks.length > 0 && shaped ? maskResult(shaped, masks) : shaped;
        const errors = [...reported.map((denial) => denialError(denial)), ...(result.errors ?? [])];
        return { ...result, data: data ?? null, ...(errors.length > 0 ? { errors } : {}) };
      });
    },
  };
}

/** The request's purpose and case id: headers first, then the token's claims. A malformed header is the client's error. */
function purposeOf(request: Request | undefined, principal: Principal): RequestPurpose {
  const purpose = request?.headers.get(PURPOSE_HEADER) ?? principal.purpose;
  const caseId = request?.headers.get(CASE_ID_HEADER) ?? principal.caseId;
  if (purpose !== undefined && !PURPOSE_PATTERN.test(purpose)) {
    throw new GraphQLError(`${PURPOSE_HEADER} must be a purpose code: lower-case letters, digits, '.', '_' or '-', at most 64.`, {
      extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
    });
  }
  if (caseId !== undefined && !CASE_ID_PATTERN.test(caseId)) {
    throw new GraphQLError(`${CASE_ID_HEADER} must be a case file number of at most 64 letters, digits and . _ : / -.`, {
      extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
    });
  }
  return { ...(purpose !== undefined ? { purpose } : {}), ...(caseId !== undefined ? { caseId } : {}) };
}

/**
 * One error per denied path, and none inside a denied field: what lies under
 * a withheld field is withheld with it (its own suggestion, if another
 * bureau provides it, is one `explain` call away).
 */
function topmostDenials(denied: readonly DenyDecision[]): readonly DenyDecision[] {
  const keys = new Set(denied.map((denial) => denial.key));
  return denied.filter((denial) => {
    const parts = denial.key.split('.');
    for (let length = parts.length - 1; length > 0; length -= 1) if (keys.has(parts.slice(0, length).join('.'))) return false;
    return true;
  });
}

function denialError(denial: DenyDecision, status?: number): GraphQLError {
  return forbidden(denial.message, {
    fields: [denial.coordinate],
    ...(denial.bureau ? { bureau: denial.bureau } : {}),
    reason: denial.reason,
    ...(denial.wouldAllow ? { wouldAllow: denial.wouldAllow } : {}),
    ...(status ? { http: { status } } : {}),
  }, denial.path);
}

function forbidden(message: string, extensions: Record<string, unknown>, path?: readonly string[]): GraphQLError {
  return new GraphQLError(message, { ...(path ? { path } : {}), extensions: { code: 'FORBIDDEN', ...extensions } });
}
