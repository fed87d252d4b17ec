import type { DocumentNode, GraphQLSchema } from 'graphql';
import type { Agreement } from './agreement.ts';
import type { Catalogue } from './catalogue.ts';
import type { Principal, RequestPurpose } from './principal.ts';
import { planFields, planOperation, type OperationPlan, type PlanProblemCode, type PlannedField } from './field-plan.ts';
import { logsOwnRead } from './own-reads.ts';
import { DEFAULT_CITIZEN_ENTITY, decideOperation, keepAllowed, type DecisionOutcome, type DenyDecision, type DenyReason, type OperationDecision, type WouldAllow } from './decide.ts';
import { maskResult } from './masks.ts';
import { printPlan } from './print-plan.ts';
import { projectResult } from './project-result.ts';
import { resolvePurpose, type PurposeProblem, type StatedPurpose } from './request-purpose.ts';
import { recordsRead, withSubjectKeys, type RecordsRead, type SubjectKeyedDocument } from './subject-keys.ts';
import type { AccessOutcome, AccessRecord, UpstreamFailure } from './access-record.ts';

/**
 * Enforcement of sharing agreements on one operation: from the facts of a
 * request to the document the gateway executes, the result the client
 * receives, and the record the access log keeps. Pure: no I/O, the clock
 * passed in. The gateway's yoga plugins (`useEnforcement`, `useAccessLog`)
 * and the admin API's `explain` are thin adapters over it, so `explain` can
 * never tell a developer something `/graphql` would not do.
 *
 * The steps, in order (each names the file that holds its rules):
 * 1. **purpose** — token claim, else header; a header that disagrees with the claim, or a malformed value → refused
 *    (`request-purpose.ts`);
 * 2. **plan** — the fields the operation really touches, fragments,
 *    aliases, variables and `@include`/`@skip` resolved; a bad variable →
 *    refused (`field-plan.ts`);
 * 3. **decide** — every field allow, mask or deny, and why: this is where a
 *    field's decision is made (`decide.ts`, rules listed there in order);
 * 4. **refuse or prune** — with `denyWholeOperation`, any denied field
 *    refuses the operation (nothing is fetched); otherwise the document to
 *    execute is printed from the plan without the denied fields, so they are
 *    never fetched, and every entity selection gains its key so the log can
 *    name whose records were read (`print-plan.ts`, `subject-keys.ts`);
 * 5. **present** — the executed result shaped back to what was asked, `null`
 *    at each denied field, one `FORBIDDEN` per topmost denied path naming the
 *    agreement that would allow it, masks applied (`project-result.ts`,
 *    `masks.ts`);
 * 6. **record** — the access log's record of the operation, built here in
 *    {@link accessRecord}: fields asked, returned (with masks) and denied (with
 *    reasons), providers, agreements, subjects, row counts, upstream failures,
 *    outcome, disclosure delay.
 *
 * @example
 * ```ts
 * const enforcer = createEnforcer({ schema, catalogue, denyWholeOperation: false });
 * const enforced = enforcer.enforce({ principal, stated: { purpose: 'business-licensing' }, document, variables, agreements, now: new Date() });
 * if (enforced.kind === 'execute') {
 *   const executed = await execute({ schema, document: enforced.document, variableValues: variables });
 *   const { data, withheld, record } = enforced.present({ data: executed.data, upstreamFailures: [] }, new Date());
 *   // data: as the client asked, masked; withheld: one FORBIDDEN per denied path; record: for the access log
 * }
 * ```
 */

/** What enforcement is configured with, once, at start-up. */
export interface EnforcementSettings {
  /** The schema clients query (the stitched one). */
  readonly schema: GraphQLSchema;
  readonly catalogue: Catalogue;
  /** Refuse the whole operation when any field is denied, instead of a partial result. */
  readonly denyWholeOperation: boolean;
}

/** The agreements in force, as one snapshot: the same one decides the fields and names their disclosure delays. */
export interface AgreementsInForce {
  readonly agreements: readonly Agreement[];
  readonly byId: ReadonlyMap<string, Agreement>;
}

/** Everything enforcement reads about one request; nothing else, the clock included. */
export interface OperationFacts {
  readonly principal: Principal;
  /** The purpose and case id the request states itself (its headers), before the token's claims. */
  readonly stated: StatedPurpose;
  /** The parsed, validated document. */
  readonly document: DocumentNode;
  readonly operationName?: string | null;
  readonly variables?: Readonly<Record<string, unknown>> | null;
  readonly agreements: AgreementsInForce;
  readonly now: Date;
  /**
   * The hash of the document as executed (`sha256:<hex>` of its text), for
   * agreements that pin operations (`agreement-operations.ts`). The gateway
   * passes it only when an agreement in force pins any (`anyPinsOperations`).
   */
  readonly operationHash?: string;
}

/** A request enforcement cannot even decide: a malformed purpose or case id, or an operation that cannot be planned. */
export interface RequestProblem {
  readonly code: 'BAD_USER_INPUT';
  readonly reason: PurposeProblem['reason'] | PlanProblemCode;
  /** What the client must fix. */
  readonly field: PurposeProblem['field'] | 'query' | 'variables';
  /** Names headers, variables and fields, never their values. */
  readonly message: string;
}

/** A field withheld from the client, as the client is told: one per topmost denied path. */
export interface WithheldField {
  readonly code: 'FORBIDDEN';
  /** Names the missing agreement or what it lacks; never personal data. */
  readonly message: string;
  readonly path: readonly string[];
  /** The field's coordinate, e.g. `['Person.name']`. */
  readonly fields: readonly string[];
  /** The providing bureau, when the field has one. */
  readonly bureau?: string;
  readonly reason: DenyReason;
  readonly wouldAllow?: WouldAllow;
}

/** What was decided about an operation, before anything is fetched. */
export interface DecidedOperation {
  readonly purpose: RequestPurpose;
  readonly plan: OperationPlan;
  readonly decision: OperationDecision;
  /** What the client is told about denied fields: none inside a denied field, whose subtree is withheld with it. */
  readonly withheld: readonly WithheldField[];
  /** The whole operation is refused (`denyWholeOperation` and something was denied). */
  readonly refusedWhole: boolean;
  /** How the operation fares for the client: the decision's outcome, `DENIED` when it is refused whole. */
  readonly outcome: DecisionOutcome;
}

/** The decision on a request, for `explain`: a problem, or what was decided. */
export type RequestDecision =
  | { readonly kind: 'invalid'; readonly problem: RequestProblem }
  | { readonly kind: 'decided'; readonly decided: DecidedOperation };

/** What the executor returned, as enforcement needs it. */
export interface ExecutedOperation {
  /** The executed data, unshaped and unmasked (the subject keys are read from it). */
  readonly data: Readonly<Record<string, unknown>> | null | undefined;
  /** Bureaus that failed to serve their part, one entry each. */
  readonly upstreamFailures: readonly UpstreamFailure[];
}

/** The client's result and the log's record of one executed operation. */
export interface PresentedOperation {
  /** Shaped to what was asked, `null` at each denied field, masked. */
  readonly data: Record<string, unknown> | null;
  readonly withheld: readonly WithheldField[];
  /** Absent when the operation touched only the caller's own bureau: that is not a cross-bureau read. */
  readonly record?: AccessRecord;
}

/** What the gateway does with a request. */
export type Enforcement =
  /** Answer the problem (HTTP 400); nothing is fetched or logged. */
  | { readonly kind: 'invalid'; readonly problem: RequestProblem }
  /** Refused as a whole (HTTP 403): nothing is fetched; the attempt is logged. */
  | { readonly kind: 'refused'; readonly decided: DecidedOperation; readonly withheld: readonly WithheldField[]; readonly record: AccessRecord }
  /** Execute `document` (denied fields pruned, subject keys added), then hand the result to `present`. */
  | {
      readonly kind: 'execute';
      readonly decided: DecidedOperation;
      readonly document: DocumentNode;
      /** `now`: when the read completed, the time the log records. */
      present(executed: ExecutedOperation, now: Date): PresentedOperation;
      /**
       * Refused before execution by a rule outside the decision (`reason`, e.g. a quota's `QUOTA_EXCEEDED`): the
       * log's record, `DENIED`, with each field an agreement would have released denied for that reason.
       */
      refuse(reason: string, now: Date): AccessRecord | undefined;
    };

/** Enforcement with its settings; one per gateway, shared by `/graphql` and `explain`. */
export interface Enforcer {
  readonly settings: EnforcementSettings;
  /** Steps 1–3 and the refusal rule: what `explain` reports. */
  decide(facts: OperationFacts): RequestDecision;
  /** Every step: what `/graphql` does. */
  enforce(facts: OperationFacts): Enforcement;
}

/** Bound on the executable variants kept per client document (one per distinct set of denied fields). */
const MAX_EXECUTABLE_VARIANTS = 32;
const DAY_MS = 86_400_000;

/**
 * An enforcer for one schema and catalogue. It keeps one cache: the
 * document to execute depends only on the client's document and which of
 * its planned fields are kept, so it is built once per such pair (and a
 * stable document lets stitching reuse its delegation plans); the cache
 * holds client documents weakly, as yoga's parse cache hands them out.
 */
export function createEnforcer(settings: EnforcementSettings): Enforcer {
  const { schema, catalogue } = settings;
  const executables = new WeakMap<DocumentNode, Map<string, SubjectKeyedDocument>>();
  const executable = (original: DocumentNode, plan: OperationPlan, decision: OperationDecision, keep: (field: PlannedField) => boolean): SubjectKeyedDocument => {
    const signature = decision.denied.length === 0 ? '*' : planFields(plan).filter(keep).map((field) => field.key).join(',');
    let byKept = executables.get(original);
    if (!byKept) executables.set(original, (byKept = new Map()));
    let document = byKept.get(signature);
    if (!document) {
      if (byKept.size >= MAX_EXECUTABLE_VARIANTS) byKept.clear();
      document = withSubjectKeys(decision.denied.length === 0 ? original : printPlan(plan, keep), schema, catalogue);
      byKept.set(signature, document);
    }
    return document;
  };

  const decide = (facts: OperationFacts): RequestDecision => {
    const stated = resolvePurpose(facts.stated, facts.principal);
    if (!stated.ok) return { kind: 'invalid', problem: stated.problem };
    const plan = planOperation(schema, facts.document, facts.operationName, facts.variables);
    if (plan.kind === 'problem') {
      return { kind: 'invalid', problem: { code: 'BAD_USER_INPUT', reason: plan.code, field: plan.code.startsWith('VARIABLE') ? 'variables' : 'query', message: plan.message } };
    }
    const decision = decideOperation({
      plan,
      principal: facts.principal,
      purpose: stated.purpose,
      agreements: facts.agreements.agreements,
      catalogue,
      now: facts.now,
      ...(facts.operationHash === undefined ? {} : { operationHash: facts.operationHash }),
    });
    const withheld = topmostDenials(decision.denied).map(withheldField);
    const refusedWhole = settings.denyWholeOperation && withheld.length > 0;
    return { kind: 'decided', decided: { purpose: stated.purpose, plan, decision, withheld, refusedWhole, outcome: refusedWhole ? 'DENIED' : decision.outcome } };
  };

  const enforce = (facts: OperationFacts): Enforcement => {
    const verdict = decide(facts);
    if (verdict.kind === 'invalid') return verdict;
    const { decided } = verdict;
    const { plan, decision, withheld } = decided;
    const about = { facts, catalogue, decided };
    if (decided.refusedWhole) {
      // A refusal is a cross-bureau attempt by definition (something was denied), so it always has a record.
      const record = accessRecord(about, { refused: true, records: NOTHING_READ, upstreamFailures: [], noData: true }, facts.now)!;
      return { kind: 'refused', decided, withheld, record };
    }
    const keep = keepAllowed(decision);
    const { document, placement } = executable(facts.document, plan, decision, keep);
    const denied = (field: PlannedField) => !keep(field);
    return {
      kind: 'execute',
      decided,
      document,
      present(executed, now) {
        // Subjects are read before shaping and masking: from the keys the gateway added, unmasked.
        const records = recordsRead(executed.data, plan, decision.fields, facts.principal.bureau, catalogue, placement);
        const shaped = projectResult(executed.data, plan.fields, denied);
        const data = decision.masks.length > 0 && shaped ? maskResult(shaped, decision.masks) : shaped;
        const record = accessRecord(about, { refused: false, records, upstreamFailures: executed.upstreamFailures, noData: executed.data == null }, now);
        return { data, withheld, ...(record ? { record } : {}) };
      },
      refuse(reason, now) {
        const record = accessRecord(about, { refused: true, records: NOTHING_READ, upstreamFailures: [], noData: true }, now);
        const refused = [...decision.fields.values()].filter((field) => field.effect !== 'deny' && field.agreementId !== undefined);
        return record && { ...record, denied: [...record.denied, ...refused.map((field) => ({ coordinate: field.coordinate, path: field.path.join('.'), reason }))] };
      },
    };
  };

  return { settings, decide, enforce };
}

/** How an operation's data was delivered, as the record needs it. */
interface Delivery {
  /** Refused before execution: nothing was fetched. */
  readonly refused: boolean;
  readonly records: RecordsRead;
  readonly upstreamFailures: readonly UpstreamFailure[];
  /** The execution returned no data at all. */
  readonly noData: boolean;
}

const NOTHING_READ: RecordsRead = { subjects: [], rowCounts: {} };

/**
 * The access log's record of one operation, or `undefined` when the
 * operation touched only the caller's own bureau (nothing denied, no other
 * provider) and released none of its personal or `HIGH` fields, or the
 * bureau turned the logging of its own reads off (`own-reads.ts`): that is
 * not a cross-bureau read, and is not logged.
 *
 * - `fieldsReturned`: released by the decision and actually delivered — a
 *   failed bureau's fields came back `null`; nothing when refused whole.
 * - `agreementIds`: agreements whose terms released data; none when refused whole.
 * - `providerBureaus`: those released from and those refused, so that a
 *   refused attempt is audited by the bureau it targeted.
 * - `disclosure`: the longest delay among the agreements used, from `now`.
 * - `outcome`: {@link accessOutcome}.
 */
function accessRecord(
  about: { readonly facts: Pick<OperationFacts, 'principal' | 'agreements'>; readonly catalogue: Catalogue; readonly decided: DecidedOperation },
  delivery: Delivery,
  now: Date,
): AccessRecord | undefined {
  const { principal, agreements } = about.facts;
  const { decision, purpose, plan } = about.decided;
  const crossBureau = decision.denied.length > 0 || decision.providerBureaus.some((bureau) => bureau !== principal.bureau);
  if (!crossBureau && !logsOwnRead(decision.released, principal.bureau, about.catalogue, DEFAULT_CITIZEN_ENTITY)) return undefined;
  const failed = new Set(delivery.upstreamFailures.map((failure) => failure.bureau));
  const agreementIds = delivery.refused ? [] : decision.agreementIds;
  const longest = agreementIds
    .flatMap((id) => agreements.byId.get(id)?.disclosureDelay ?? [])
    .sort((a, b) => b.days - a.days)[0];
  return {
    occurredAt: now,
    consumerBureau: principal.bureau,
    clientApp: principal.app,
    ...(principal.user ? { user: principal.user } : {}),
    roles: principal.roles,
    ...(principal.citizen ? { citizen: principal.citizen } : {}),
    ...(purpose.purpose ? { purpose: purpose.purpose } : {}),
    ...(purpose.caseId ? { caseId: purpose.caseId } : {}),
    agreementIds,
    ...agreementsUsed(agreementIds, agreements.byId),
    providerBureaus: [...new Set([...decision.providerBureaus, ...decision.denied.flatMap((denial) => (denial.bureau ? [denial.bureau] : []))])].sort(),
    fieldsRequested: decision.requested,
    fieldsReturned: delivery.refused ? [] : decision.released.filter((field) => !failed.has(about.catalogue.fields.get(field.coordinate)?.bureau ?? '')),
    denied: decision.denied.map((denial) => ({ coordinate: denial.coordinate, path: denial.path.join('.'), reason: denial.reason })),
    subjects: delivery.records.subjects,
    rowCounts: delivery.records.rowCounts,
    upstreamErrors: delivery.upstreamFailures,
    ...(plan.operationName ? { operationName: plan.operationName } : {}),
    outcome: accessOutcome(decision.outcome, delivery),
    ...(longest ? { disclosure: { hiddenUntil: new Date(now.getTime() + longest.days * DAY_MS), legalReason: longest.legalReason } } : {}),
  };
}

/** Each agreement used with its legal basis and purpose, for the log; nothing when none was used. */
function agreementsUsed(ids: readonly string[], byId: ReadonlyMap<string, Agreement>): Pick<AccessRecord, 'agreements'> {
  if (ids.length === 0) return {};
  return {
    agreements: ids.map((id) => {
      const agreement = byId.get(id);
      return { id, legalBasis: agreement?.legalBasis ?? '', purpose: agreement?.purpose ?? '' };
    }),
  };
}

/**
 * How the operation ended, for the log: refused before execution →
 * `DENIED`; executed, but no data came back because bureaus failed →
 * `FAILED`; otherwise what the decision released (`ALLOWED`, `PARTIAL`, or
 * `DENIED` when every data field was withheld).
 */
function accessOutcome(decided: DecisionOutcome, delivery: Pick<Delivery, 'refused' | 'upstreamFailures' | 'noData'>): AccessOutcome {
  if (delivery.refused) return 'DENIED';
  if (delivery.upstreamFailures.length > 0 && delivery.noData) return 'FAILED';
  return decided;
}

/**
 * One report per denied path, and none inside a denied field: what lies under
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

function withheldField(denial: DenyDecision): WithheldField {
  return {
    code: 'FORBIDDEN',
    message: denial.message,
    path: denial.path,
    fields: [denial.coordinate],
    ...(denial.bureau ? { bureau: denial.bureau } : {}),
    reason: denial.reason,
    ...(denial.wouldAllow ? { wouldAllow: denial.wouldAllow } : {}),
  };
}
