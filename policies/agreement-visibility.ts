import type { Agreement } from './agreement.ts';
import type { Principal } from './principal.ts';

/**
 * Whether `principal` may see `agreement` at all: people of its consumer and
 * provider bureaus do, operators see every agreement. The admin API and the
 * console both ask this, so the two can never disagree on who sees what;
 * callers answer "not found" either way, so that ids of other bureaus'
 * agreements cannot be probed.
 *
 * @example
 * if (!found || !maySeeAgreement(principal, found.agreement)) throw notFound();
 */
export function maySeeAgreement(principal: Principal, agreement: Agreement): boolean {
  return principal.roles.includes('operator') || principal.bureau === agreement.consumerBureau || principal.bureau === agreement.providerBureau;
}
