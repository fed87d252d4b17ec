import type { MaskKind } from './catalogue.ts';
import type { PlannedField } from './field-plan.ts';
import type { MaskedPath } from './masks.ts';
import { compare, indexAgreements, keyedByCitizen, searchAgreements, validMask, type Context, type Verdict } from './agreement-search.ts';
import { DEFAULT_CITIZEN_ENTITY, type AgreementRequest, type DecideInput, type DenyDecision, type FieldDecision, type OperationDecision } from './decision.ts';

export * from './decision.ts';

/**
 * Decides every field of `plan`.
 *
 * Rules, in order, for each field:
 * 1. Introspection (`__typename`, `__schema`, `__type` and below) is allowed.
 * 2. A principal without a bureau is denied everything else (`NO_BUREAU`).
 * 3. Root fields of a query that the catalogue serves are allowed as entry
 *    points: what they return is governed by the fields below them. Others:
 *    `UNKNOWN_FIELD`.
 * 4. **Citizen tokens** (role `citizen` or a `citizen` claim): every root
 *    field must be keyed by the citizen. A root field returning the citizen
 *    entity (`Person`) passes only when it has key arguments (the entity's
 *    key field, `idNumber`, or the argument of one of its merge resolvers,
 *    `idNumbers`, as the catalogue names them), at least one key value, and
 *    every key value, single or in a list, equals `principal.citizen`. Any other root field (another
 *    person, an enterprise lookup, a person without a key) is denied with
 *    `SELF_SCOPE`, its whole subtree with it, so no bureau is called for it.
 * 5. Fields not in the catalogue: `UNKNOWN_FIELD`.
 * 6. A bureau reads its own fields unmasked, with a token that holds a
 *    role; a token without any role reads none of them (`NO_ROLE`).
 * 7. `NONE` fields: `NONE_CATEGORY`.
 * 8. An applicable agreement (see below) releases the field on its terms:
 *    masked with `agreement.masks[coordinate]`, else clear. Where several
 *    apply, the least masked wins, then the smallest id.
 * 9. Merge keys and `OPEN` fields: allowed, masked with the catalogue's mask
 *    if it has one: that mask is the provider's default for unconditional
 *    sharing, an agreement (rule 8) its explicit decision for a consumer.
 * 10. `CONDITIONAL` fields without an applicable agreement are denied with
 *    the reason of the near-miss that got furthest (below).
 * A field inside a denied one is denied too (`PARENT_DENIED`, unless its
 * own rules already deny it with a more telling reason).
 *
 * An agreement applies to a field when, checked in this order (the order
 * ranks near-misses: the agreement that fails latest names the reason):
 * consumer bureau and provider match and it lists the coordinate (else
 * `NO_AGREEMENT`); its app is the token's app (`APP_MISMATCH`); it is
 * `ACTIVE` (`AGREEMENT_NOT_ACTIVE`, `EXPIRED`); `validFrom <= now <
 * validUntil` (`NOT_YET_VALID`, `EXPIRED`); the token carries its scope
 * (`SCOPE_MISSING`); its purpose is the request's, else the token's
 * (`PURPOSE_MISSING`, `PURPOSE_MISMATCH`); for `rowScope: 'SELF'`, the
 * token names a citizen and the field is on the citizen's own record: below
 * a citizen-keyed root with no other citizen entity in between
 * (`SELF_SCOPE`); when it requires a case id, the request names one of its
 * format (`CASE_ID_REQUIRED`, `CASE_ID_FORMAT`); and, when it pins
 * operations, `operationHash` is one of them (`OPERATION_NOT_PINNED`). The agreement's own state comes before the token's, so a
 * near-miss in force that only needs a scope is preferred over an expired
 * one.
 *
 * @example
 * ```ts
 * const decision = decideOperation({ plan, principal, purpose: { purpose: 'business-licensing' }, agreements, catalogue, now: new Date() });
 * for (const denied of decision.denied) console.log(denied.path.join('.'), denied.reason, denied.message);
 * // p1.address SCOPE_MISSING agreement agr-7f3a9c covers Person.address; the token lacks its scope "ps.person.address"
 * const document = printPlan(plan, keepAllowed(decision));
 * ```
 */
export function decideOperation(input: DecideInput): OperationDecision {
  const context = createContext(input);
  const provisional: Provisional[] = [];
  const walk = (fields: readonly PlannedField[], ancestors: readonly PlannedField[], parentDenied: boolean): void => {
    for (const field of fields) {
      let verdict = decideOwn(context, field, ancestors);
      if (parentDenied && verdict.effect !== 'deny') {
        verdict = {
          effect: 'deny',
          reason: 'PARENT_DENIED',
          message: `${field.coordinate} is not read: the field it is selected in was denied`,
          ...(verdict.bureau === undefined ? {} : { bureau: verdict.bureau }),
        };
      }
      const parent = ancestors[ancestors.length - 1];
      provisional.push({ field, verdict, belowAbstract: parent?.returnKind === 'ABSTRACT', data: ancestors.length > 0 && !field.introspection });
      walk(field.children, [...ancestors, field], verdict.effect === 'deny');
    }
  };
  walk(input.plan.fields, [], false);
  return summarise(context, provisional);
}

/** The `keep` predicate for `printPlan`: a field is printed, and so fetched, only if it was not denied. */
export function keepAllowed(decision: OperationDecision): (field: PlannedField) => boolean {
  return (field) => {
    const verdict = decision.fields.get(field.key);
    return verdict !== undefined && verdict.effect !== 'deny';
  };
}

interface Provisional {
  readonly field: PlannedField;
  readonly verdict: Verdict;
  readonly belowAbstract: boolean;
  /** A data field: neither a root entry point nor introspection. */
  readonly data: boolean;
}

function createContext(input: DecideInput): Context {
  const { principal } = input;
  const roles: readonly unknown[] = Array.isArray(principal.roles) ? principal.roles : [];
  const citizen = nonEmpty(principal.citizen);
  return {
    input,
    bureau: nonEmpty(principal.bureau),
    scopes: new Set(Array.isArray(principal.scopes) ? principal.scopes : []),
    statedPurpose: nonEmpty(input.purpose?.purpose) ?? nonEmpty(principal.purpose),
    caseId: nonEmpty(input.purpose?.caseId) ?? nonEmpty(principal.caseId),
    operationHash: nonEmpty(input.operationHash),
    isCitizen: roles.includes('citizen') || citizen !== undefined,
    hasRole: roles.length > 0,
    citizen,
    citizenEntity: input.citizenEntity ?? DEFAULT_CITIZEN_ENTITY,
    now: input.now instanceof Date ? input.now.getTime() : Number.NaN,
    agreements: indexAgreements(input.agreements),
  };
}

function decideOwn(context: Context, field: PlannedField, ancestors: readonly PlannedField[]): Verdict {
  if (field.introspection) return { effect: 'allow' };
  const consumer = context.bureau;
  if (consumer === undefined) {
    return { effect: 'deny', reason: 'NO_BUREAU', message: 'the token names no consumer bureau, so it may read no bureau data' };
  }
  if (ancestors.length === 0) return decideRoot(context, field);

  const entry = context.input.catalogue.fields.get(field.coordinate);
  if (!entry) return unknownField(field);
  const bureau = entry.bureau;
  if (bureau === consumer) {
    return context.hasRole
      ? { effect: 'allow', bureau }
      : { effect: 'deny', bureau, reason: 'NO_ROLE', message: `the token holds no role, so it reads none of ${bureau}'s own data: its issuer must name the user's role` };
  }
  if (entry.category === 'NONE') {
    return { effect: 'deny', bureau, reason: 'NONE_CATEGORY', message: `${field.coordinate} is never shared outside ${bureau} (不予共享)` };
  }
  if (entry.category !== 'OPEN' && entry.category !== 'CONDITIONAL') return unknownField(field);

  const { applicable, nearMiss } = searchAgreements(context, field, entry, ancestors);
  if (applicable) {
    const mask = validMask(applicable.masks?.[field.coordinate]);
    return mask ? { effect: 'mask', bureau, mask, agreementId: applicable.id } : { effect: 'allow', bureau, agreementId: applicable.id };
  }
  if (entry.isKey || entry.category === 'OPEN') {
    const mask = validMask(entry.mask);
    return mask ? { effect: 'mask', bureau, mask } : { effect: 'allow', bureau };
  }
  return nearMiss ?? noAgreement(context, field.coordinate, bureau, consumer);
}

function decideRoot(context: Context, field: PlannedField): Verdict {
  const bureau = context.input.catalogue.rootFields.get(field.fieldName);
  if (context.input.plan.operation !== 'query' || bureau === undefined) return unknownField(field);
  if (context.isCitizen && !keyedByCitizen(context, field)) {
    return {
      effect: 'deny',
      bureau,
      reason: 'SELF_SCOPE',
      message: `a citizen's token reads only the citizen's own record; ${field.coordinate} here is not keyed by the signed-in citizen`,
    };
  }
  return { effect: 'allow', bureau };
}

function noAgreement(context: Context, coordinate: string, bureau: string, consumer: string): Verdict {
  return {
    effect: 'deny',
    bureau,
    reason: 'NO_AGREEMENT',
    message: `${coordinate} is shared only under an agreement, and ${bureau} has none with ${consumer} (app "${context.input.principal.app}") that covers it; request one from ${bureau}`,
    requestFrom: bureau,
  };
}

function unknownField(field: PlannedField): Verdict {
  return { effect: 'deny', reason: 'UNKNOWN_FIELD', message: `${field.coordinate} is not in the catalogue: unknown fields are denied` };
}

function summarise(context: Context, provisional: readonly Provisional[]): OperationDecision {
  // One request per provider, naming every field of it the operation lacks.
  const requested = new Map<string, Set<string>>();
  for (const { field, verdict } of provisional) {
    if (verdict.effect === 'deny' && verdict.requestFrom !== undefined) {
      const fields = requested.get(verdict.requestFrom) ?? new Set<string>();
      fields.add(field.coordinate);
      requested.set(verdict.requestFrom, fields);
    }
  }
  const requests = new Map<string, AgreementRequest>();
  for (const [providerBureau, fields] of requested) {
    const sorted = [...fields].sort(compare);
    const suggestedMasks: Record<string, MaskKind> = {};
    for (const coordinate of sorted) {
      const mask = validMask(context.input.catalogue.fields.get(coordinate)?.mask);
      if (mask) suggestedMasks[coordinate] = mask;
    }
    requests.set(providerBureau, {
      consumerBureau: context.bureau ?? '',
      consumerApp: String(context.input.principal.app ?? ''),
      providerBureau,
      fields: sorted,
      suggestedMasks,
      ...(context.statedPurpose === undefined ? {} : { purpose: context.statedPurpose }),
      rowScope: context.isCitizen ? 'SELF' : 'ANY',
    });
  }

  const fields = new Map<string, FieldDecision>();
  const denied: DenyDecision[] = [];
  const masks: MaskedPath[] = [];
  const agreementIds = new Set<string>();
  const providerBureaus = new Set<string>();
  const asked = new Set<string>();
  const released = new Map<string, { readonly coordinate: string; readonly mask?: MaskKind }>();
  for (const { field, verdict, belowAbstract, data } of provisional) {
    const base = {
      key: field.key,
      path: field.path,
      coordinate: field.coordinate,
      ...(verdict.bureau === undefined ? {} : { bureau: verdict.bureau }),
    };
    if (data) asked.add(field.coordinate);
    let decision: FieldDecision;
    if (verdict.effect === 'deny') {
      const request = verdict.requestFrom === undefined ? undefined : requests.get(verdict.requestFrom);
      const wouldAllow = request ? { request } : verdict.wouldAllow;
      const message = request ? `${verdict.message} (${request.fields.join(', ')})` : verdict.message;
      decision = { ...base, effect: 'deny', reason: verdict.reason, message, ...(wouldAllow ? { wouldAllow } : {}) };
      denied.push(decision);
    } else {
      if (verdict.agreementId !== undefined) agreementIds.add(verdict.agreementId);
      if (verdict.bureau !== undefined) providerBureaus.add(verdict.bureau);
      if (verdict.effect === 'mask') {
        decision = { ...base, effect: 'mask', mask: verdict.mask, ...(verdict.agreementId === undefined ? {} : { agreementId: verdict.agreementId }) };
        masks.push({ path: field.path, mask: verdict.mask, ...(belowAbstract ? { typeName: field.parentType } : {}) });
      } else {
        decision = { ...base, effect: 'allow', ...(verdict.agreementId === undefined ? {} : { agreementId: verdict.agreementId }) };
      }
      if (data) {
        const mask = verdict.effect === 'mask' ? verdict.mask : undefined;
        released.set(`${field.coordinate}|${mask ?? ''}`, { coordinate: field.coordinate, ...(mask ? { mask } : {}) });
      }
    }
    fields.set(field.key, decision);
  }

  return {
    fields,
    denied,
    masks,
    agreementIds: [...agreementIds].sort(compare),
    providerBureaus: [...providerBureaus].sort(compare),
    requested: [...asked].sort(compare),
    released: [...released.keys()].sort(compare).map((key) => released.get(key)!),
    outcome: denied.length === 0 ? 'ALLOWED' : released.size > 0 ? 'PARTIAL' : 'DENIED',
  };
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
