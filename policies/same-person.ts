import type { Agreement } from './agreement.ts';
import type { Principal } from './principal.ts';

/**
 * Separation of duties (level-3 protection) needs "the same person" to mean
 * one thing. Two identities are the same person when either
 * - they are the same account at the same identity provider: equal token
 *   `iss` and `sub`, compared exactly (both are stable identifiers, not
 *   display names); or
 * - they map to the same user id (the token's `user` claim, else `sub`) in
 *   canonical form: Unicode NFKC, case-folded, so `ZHAO.QIANG`,
 *   `zhao.qiang` and the full-width `ｚｈａｏ.ｑｉａｎｇ` are one person.
 * Either match makes them the same person; neither alone can be dodged by
 * changing the other (a second account with the same user id, or the same
 * account with a user claim spelt differently). Pure.
 */

/** The stable identity of a requester: the identity provider and its subject. */
export interface StableIdentity {
  readonly issuer: string;
  readonly subject: string;
}

/**
 * A user id in the one form comparisons use: NFKC, then case-folded (upper,
 * then lower, which folds `ß` and `ẞ` to `ss` as full case folding does),
 * then NFKC again because folding can un-normalize.
 *
 * @example
 * canonicalUserId('ZHAO.QIANG') === canonicalUserId('zhao.qiang'); // true
 */
export function canonicalUserId(user: string): string {
  return user.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
}

/** The requester's stable identity as a principal gives it, or `undefined` when the principal lacks one. */
export function stableIdentityOf(principal: Pick<Principal, 'issuer' | 'subject'>): StableIdentity | undefined {
  return typeof principal.issuer === 'string' && principal.issuer !== '' && typeof principal.subject === 'string' && principal.subject !== ''
    ? { issuer: principal.issuer, subject: principal.subject }
    : undefined;
}

/**
 * True when `principal` is the person who requested `agreement`: the same
 * issuer and subject as the requester's (when the agreement kept them), or
 * the same user id in canonical form as `requestedBy`.
 */
export function isRequester(agreement: Pick<Agreement, 'requestedBy' | 'requester'>, principal: Pick<Principal, 'issuer' | 'subject' | 'user'>): boolean {
  const requester = agreement.requester;
  if (requester && requester.issuer === principal.issuer && requester.subject === principal.subject) return true;
  const user = principal.user ?? principal.subject;
  return typeof user === 'string' && typeof agreement.requestedBy === 'string' && canonicalUserId(user) === canonicalUserId(agreement.requestedBy);
}
