import type { Agreement } from './agreement.ts';
import { caseIdMatches } from './agreement-case-id.ts';
import { pinsOperation } from './agreement-operations.ts';
import { MASK_KINDS, type CatalogueField, type MaskKind } from './catalogue.ts';
import type { PlannedField } from './field-plan.ts';
import type { DecideInput, DenyReason, WouldAllow } from './decision.ts';

/**
 * Which agreement releases a field, and if none does, the near-miss that got
 * furthest: the agreement index built once per registry snapshot, the checks
 * in their ranking order, and the citizen's-own-record test they share with
 * the citizen rules. Used only by `decideOperation` (decide.ts), whose rules
 * these are.
 */

/** What every field's decision reads, derived once per operation from its input (decide.ts `createContext`). */
export interface Context {
  readonly input: DecideInput;
  readonly bureau: string | undefined;
  readonly scopes: ReadonlySet<string>;
  readonly statedPurpose: string | undefined;
  /** The request's case id (header, else the token's claim), for agreements that require one. */
  readonly caseId: string | undefined;
  /** The hash of the document as executed, for agreements that pin operations. */
  readonly operationHash: string | undefined;
  readonly isCitizen: boolean;
  /** The token holds at least one role. */
  readonly hasRole: boolean;
  readonly citizen: string | undefined;
  readonly citizenEntity: string;
  readonly now: number;
  /** Sorted by id, so that every choice among agreements is deterministic whatever order they came in; by consumer and provider bureau. */
  readonly agreements: AgreementIndex;
}

/** The agreements, sorted by id (then version) and grouped by consumer and provider bureau, with their windows parsed. */
export interface AgreementIndex {
  /** Consumer bureau → provider bureau → agreements, in id order. */
  readonly between: ReadonlyMap<unknown, ReadonlyMap<unknown, readonly Agreement[]>>;
  readonly window: ReadonlyMap<Agreement, { readonly from: number; readonly until: number }>;
}

/**
 * Indexes of frozen agreement lists (the registry hands out one per
 * snapshot), so that sorting, grouping and date parsing happen once per
 * snapshot, not per request and field. A list that is not frozen could
 * change under the index: it is indexed afresh each time.
 */
const indexes = new WeakMap<readonly Agreement[], AgreementIndex>();

export function indexAgreements(agreements: unknown): AgreementIndex {
  const list = Array.isArray(agreements) ? (agreements as readonly Agreement[]) : [];
  const known = indexes.get(list);
  if (known) return known;
  const sorted = [...list].sort((a, b) => compare(a.id, b.id) || (a.version ?? 0) - (b.version ?? 0));
  const between = new Map<unknown, Map<unknown, Agreement[]>>();
  const window = new Map<Agreement, { from: number; until: number }>();
  for (const agreement of sorted) {
    let byProvider = between.get(agreement.consumerBureau);
    if (!byProvider) between.set(agreement.consumerBureau, (byProvider = new Map()));
    const group = byProvider.get(agreement.providerBureau);
    if (group) group.push(agreement);
    else byProvider.set(agreement.providerBureau, [agreement]);
    window.set(agreement, { from: Date.parse(agreement.validFrom), until: Date.parse(agreement.validUntil) });
  }
  const index = { between, window };
  if (Object.isFrozen(list)) indexes.set(list, index);
  return index;
}

/** A decision before the agreement requests of the whole operation are known. */
export type Verdict =
  | { readonly effect: 'allow'; readonly bureau?: string; readonly agreementId?: string }
  | { readonly effect: 'mask'; readonly bureau?: string; readonly mask: MaskKind; readonly agreementId?: string }
  | {
      readonly effect: 'deny';
      readonly bureau?: string;
      readonly reason: DenyReason;
      readonly message: string;
      readonly wouldAllow?: WouldAllow;
      /** Filled in by {@link summarise}: the request names every field of this provider the operation lacks. */
      readonly requestFrom?: string;
    };


/** Rule 4: a root field that returns the citizen entity and is keyed, every key of it, by the citizen. */
export function keyedByCitizen(context: Context, root: PlannedField): boolean {
  const entity = context.input.catalogue.entities.get(context.citizenEntity);
  const citizen = context.citizen;
  if (!entity || citizen === undefined || root.returnType !== entity.typeName) return false;
  const keyArguments = new Set([entity.keyField, ...entity.resolvers.map((resolver) => resolver.argumentName)]);
  const values = Object.entries(root.args)
    .filter(([name]) => keyArguments.has(name))
    .flatMap(([, value]) => (Array.isArray(value) ? value : [value]));
  // An empty key list names no one, so it is not keyed by the citizen either.
  return values.length > 0 && values.every((value) => value === citizen);
}

/** Whether `field` lies on the record of the signed-in citizen: below a citizen-keyed root, with no other citizen entity on the way. */
function onCitizensOwnRecord(context: Context, ancestors: readonly PlannedField[]): boolean {
  const [root, ...between] = ancestors;
  if (!root || !keyedByCitizen(context, root)) return false;
  return between.every((ancestor) => ancestor.returnType !== context.citizenEntity);
}

/** Checks in the order that ranks near-misses; see {@link decideOperation}. */
const CHECKS = ['app', 'status', 'window', 'scope', 'purpose', 'rows', 'case', 'operation'] as const;

interface Miss {
  readonly rank: number;
  readonly verdict: Verdict & { readonly effect: 'deny' };
}

export function searchAgreements(
  context: Context,
  field: PlannedField,
  entry: CatalogueField,
  ancestors: readonly PlannedField[],
): { readonly applicable?: Agreement; readonly nearMiss?: Verdict } {
  const coordinate = field.coordinate;
  let applicable: Agreement | undefined;
  let best: Miss | undefined;
  for (const agreement of context.agreements.between.get(context.bureau)?.get(entry.bureau) ?? []) {
    if (
      !Array.isArray(agreement.fields) ||
      !agreement.fields.includes(coordinate)
    ) {
      continue;
    }
    const miss = checkAgreement(context, agreement, coordinate, entry.bureau, ancestors);
    if (!miss) {
      // The least masked applicable agreement wins; agreements are sorted by id, so ties go to the first.
      if (!applicable || (validMask(applicable.masks?.[coordinate]) && !validMask(agreement.masks?.[coordinate]))) {
        applicable = agreement;
      }
    } else if (!best || miss.rank > best.rank) {
      best = miss;
    }
  }
  return { ...(applicable ? { applicable } : {}), ...(best ? { nearMiss: best.verdict } : {}) };
}

function checkAgreement(
  context: Context,
  agreement: Agreement,
  coordinate: string,
  bureau: string,
  ancestors: readonly PlannedField[],
): Miss | undefined {
  const id = agreement.id;
  const deny = (check: (typeof CHECKS)[number], reason: DenyReason, message: string, wouldAllow: WouldAllow | 'request'): Miss => ({
    rank: CHECKS.indexOf(check),
    verdict: {
      effect: 'deny',
      bureau,
      reason,
      message,
      ...(wouldAllow === 'request' ? { requestFrom: bureau } : { wouldAllow }),
    },
  });
  const existing: WouldAllow = {
    agreementId: id,
    scope: agreement.scope,
    purpose: agreement.purpose,
    ...(agreement.caseId ? { caseId: agreement.caseId.format === undefined ? {} : { format: agreement.caseId.format } } : {}),
    ...(agreement.operations ? { operations: agreement.operations } : {}),
  };

  if (agreement.consumerApp !== context.input.principal.app) {
    return deny(
      'app',
      'APP_MISMATCH',
      `agreement ${id} lets ${agreement.consumerBureau}'s app "${agreement.consumerApp}" read ${coordinate}, not the app "${context.input.principal.app}"; request an agreement for this app from ${bureau}`,
      'request',
    );
  }
  if (agreement.status !== 'ACTIVE') {
    if (agreement.status === 'EXPIRED') {
      return deny('status', 'EXPIRED', `agreement ${id} for ${coordinate} has expired; request a new one from ${bureau}`, 'request');
    }
    const waiting = agreement.status === 'DRAFT' || agreement.status === 'PENDING';
    return deny(
      'status',
      'AGREEMENT_NOT_ACTIVE',
      `agreement ${id} for ${coordinate} is ${agreement.status}, not ACTIVE${waiting ? `; it needs ${bureau}'s approval` : `; request a new one from ${bureau}`}`,
      waiting ? existing : 'request',
    );
  }
  const { from, until } = context.agreements.window.get(agreement)!;
  if (!(from <= context.now)) {
    return deny('window', 'NOT_YET_VALID', `agreement ${id} for ${coordinate} is in force only from ${agreement.validFrom}`, existing);
  }
  if (!(context.now < until)) {
    return deny('window', 'EXPIRED', `agreement ${id} for ${coordinate} expired at ${agreement.validUntil}; request a new one from ${bureau}`, 'request');
  }
  if (!context.scopes.has(agreement.scope)) {
    return deny('scope', 'SCOPE_MISSING', `agreement ${id} covers ${coordinate}; the token lacks its scope "${agreement.scope}"`, existing);
  }
  if (context.statedPurpose === undefined) {
    return deny(
      'purpose',
      'PURPOSE_MISSING',
      `agreement ${id} covers ${coordinate} for the purpose "${agreement.purpose}"; the request states no purpose`,
      existing,
    );
  }
  if (context.statedPurpose !== agreement.purpose) {
    return deny(
      'purpose',
      'PURPOSE_MISMATCH',
      `agreement ${id} covers ${coordinate} for the purpose "${agreement.purpose}", not "${context.statedPurpose}"`,
      existing,
    );
  }
  if (agreement.rowScope !== 'ANY' && !(agreement.rowScope === 'SELF' && onCitizensOwnRecord(context, ancestors))) {
    return deny(
      'rows',
      'SELF_SCOPE',
      `agreement ${id} covers ${coordinate} only on the signed-in citizen's own record, with a token that names the citizen`,
      existing,
    );
  }
  // Last: the agreement would allow the read as it stands, given the case file it serves.
  const caseTerm = agreement.caseId;
  if (caseTerm) {
    if (context.caseId === undefined) {
      return deny('case', 'CASE_ID_REQUIRED', `agreement ${id} covers ${coordinate} for reads that name their case file; the request names no case id (x-isthmus-case-id), and this agreement would allow it with one`, existing);
    }
    if (!caseIdMatches(caseTerm.format, context.caseId)) {
      return deny('case', 'CASE_ID_FORMAT', `agreement ${id} covers ${coordinate} for case ids of the format ${caseTerm.format}; the request's case id is not of it, and this agreement would allow it with one that is`, existing);
    }
  }
  // Very last: everything else holds, so the agreement would allow this read from one of the documents it pins.
  if (!pinsOperation(agreement, context.operationHash)) {
    const count = agreement.operations?.length ?? 0;
    return deny(
      'operation',
      'OPERATION_NOT_PINNED',
      `agreement ${id} covers ${coordinate} only for the operations it pins; this document (${context.operationHash ?? 'of unknown hash'}) is not one of them, and this agreement would allow it for one of its ${count} pinned operation${count === 1 ? '' : 's'}`,
      existing,
    );
  }
  return undefined;
}


export function validMask(mask: unknown): MaskKind | undefined {
  if (mask === undefined || mask === null) return undefined;
  // A mask the gateway does not know is still a mask: withhold the value whole.
  return MASK_KINDS.includes(mask as MaskKind) ? (mask as MaskKind) : 'REDACT';
}

/** Code-unit order: the same on every machine, unlike `localeCompare`. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
