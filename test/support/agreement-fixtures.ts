import { fileURLToPath } from 'node:url';
import { loadCatalogue } from '../../gateway/catalogue/load-catalogue.ts';
import type { AgreementStore } from '../../gateway/agreements/agreement-store.ts';
import type { Agreement } from '../../policies/agreement.ts';
import { approveAgreement, requestAgreement, type AgreementRequestInput, type LifecycleResult } from '../../policies/agreement-lifecycle.ts';
import type { Catalogue } from '../../policies/catalogue.ts';
import type { Principal, Role } from '../../policies/principal.ts';

let cached: Catalogue | undefined;

/** The demo city's catalogue, read from `schemas/` once per test file (no bureau is contacted). */
export function demoCatalogue(): Catalogue {
  cached ??= loadCatalogue({ dir: fileURLToPath(new URL('../../schemas/', import.meta.url)), env: {} }).catalogue;
  return cached;
}

/** A principal as `gateway/auth` would map a verified token. */
export function principal(user: string, bureau: string, roles: readonly Role[]): Principal {
  return { issuer: `https://idp.${bureau}.example`, subject: `sub-${user}`, user, bureau, app: 'console', roles, scopes: [], expiresAt: 4_102_444_800 };
}

/** The cast: social security (人社局) asks public security (公安局) for residents' names and addresses. */
export const people = {
  /** Consumer-bureau developer who writes the requests. */
  requester: principal('u-wang', 'human-resources-social-security', ['developer']),
  consumerOfficer: principal('u-zhao', 'human-resources-social-security', ['data_officer']),
  providerOfficer: principal('u-li', 'public-security', ['data_officer']),
  otherProviderOfficer: principal('u-sun', 'public-security', ['data_officer']),
  providerDeveloper: principal('u-chen', 'public-security', ['developer']),
  bystander: principal('u-ma', 'market-supervision', ['data_officer']),
  operator: principal('u-ops', 'isthmus', ['operator']),
  citizen: principal('c-resident-1', 'human-resources-social-security', ['citizen']),
} as const;

/** A sound request of the consumer for the provider's fields. */
export function requestBody(overrides: Partial<AgreementRequestInput> = {}): Omit<AgreementRequestInput, 'id'> {
  return {
    consumerApp: 'pension-service',
    providerBureau: 'public-security',
    fields: ['Person.name', 'Person.address'],
    masks: { 'Person.address': 'ADDRESS' },
    purpose: 'pension-eligibility-check',
    legalBasis: '《社会保险法》第七十三条 and the municipal data sharing regulation, art. 12',
    rowScope: 'ANY',
    validFrom: '2026-03-01T00:00:00.000Z',
    validUntil: '2027-03-01T00:00:00.000Z',
    ...overrides,
  };
}

/**
 * A window may not start before the request is made: where the test did not
 * choose `validFrom` and the default is already past at `now`, the window
 * starts at `now`.
 */
export function fromNow(overrides: Partial<AgreementRequestInput>, now: Date): Pick<AgreementRequestInput, 'validFrom'> | Record<string, never> {
  if (overrides.validFrom !== undefined) return {};
  return Date.parse(requestBody().validFrom) < now.getTime() ? { validFrom: now.toISOString() } : {};
}

function ok(result: LifecycleResult): Extract<LifecycleResult, { ok: true }> {
  if (!result.ok) throw new Error(`fixture step refused: ${result.code} ${result.message}`);
  return result;
}

/** Stores a submitted request, decided at `now`. */
export async function storePending(store: AgreementStore, id: string, now: Date, overrides: Partial<AgreementRequestInput> = {}, catalogue = demoCatalogue()): Promise<Agreement> {
  const created = ok(requestAgreement(people.requester, { ...requestBody(overrides), ...fromNow(overrides, now), id, submit: true }, now, catalogue));
  await store.create(created);
  return created.agreement;
}

/** Stores a request and its approval, decided at `now`. */
export async function storeActive(store: AgreementStore, id: string, now: Date, overrides: Partial<AgreementRequestInput> = {}, catalogue = demoCatalogue()): Promise<Agreement> {
  const pending = await storePending(store, id, now, overrides, catalogue);
  const approved = ok(approveAgreement(pending, people.providerOfficer, {}, now, catalogue));
  await store.transition(approved);
  return approved.agreement;
}
