import type { Agreement } from '../../policies/agreement.ts';
import type { AccessRecord } from '../../policies/access-record.ts';
import type { AgreementsInForce, DecidedOperation } from '../../policies/enforce.ts';

const NONE: readonly Agreement[] = [];

/** The agreements whose terms release data in the operation and that set a quota: the ones it counts against. */
export function agreementsUsed(decided: DecidedOperation, agreements: AgreementsInForce): readonly Agreement[] {
  const ids = decided.decision.agreementIds;
  if (ids.length === 0) return NONE;
  const used: Agreement[] = [];
  for (const id of ids) {
    const agreement = agreements.byId.get(id);
    if (agreement?.quota) used.push(agreement);
  }
  return used;
}

/**
 * Records returned under each agreement (by id): the access record's count
 * for the agreement's provider bureau. Two agreements with one provider in
 * one operation each count its records, as each released data of them.
 */
export function recordsByAgreement(agreements: readonly Agreement[], record: Pick<AccessRecord, 'rowCounts'>): ReadonlyMap<string, number> {
  return new Map(agreements.map((agreement) => [agreement.id, record.rowCounts[agreement.providerBureau] ?? 0]));
}
