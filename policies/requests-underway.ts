import type { Agreement, AgreementStatus } from './agreement.ts';
import type { Principal } from './principal.ts';

/** The statuses of a request that is on its way to being in force: drafted, or waiting for the provider's decision. */
export const UNDERWAY_STATUSES: readonly AgreementStatus[] = ['DRAFT', 'PENDING'];

/**
 * The requests already made for the principal's bureau and app that are not
 * in force yet (`DRAFT`, `PENDING`), in id order. Handed to the decision
 * beside the agreements in force, they change no field's effect (only an
 * `ACTIVE` agreement releases anything) but turn a field's `NO_AGREEMENT`
 * into `AGREEMENT_NOT_ACTIVE` naming the request, so that `explain` points to
 * it instead of suggesting the same request again.
 *
 * @example
 * const underway = requestsUnderway(storedOfMyBureau, principal);
 * decideOperation({ ...input, agreements: [...inForce, ...underway] });
 */
export function requestsUnderway(agreements: readonly Agreement[], principal: Pick<Principal, 'bureau' | 'app'>): readonly Agreement[] {
  return agreements
    .filter((agreement) => UNDERWAY_STATUSES.includes(agreement.status) && agreement.consumerBureau === principal.bureau && agreement.consumerApp === principal.app)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
