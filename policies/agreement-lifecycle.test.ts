import { describe, expect, it } from 'vitest';
import type { Agreement } from './agreement.ts';
import type { Catalogue, CatalogueField, SharingCategory } from './catalogue.ts';
import type { Principal, Role } from './principal.ts';
import {
  addWorkingDays,
  approveAgreement,
  effectiveStatus,
  expireAgreement,
  isInForce,
  isOverdue,
  rejectAgreement,
  requestAgreement,
  revokeAgreement,
  submitAgreement,
  type AgreementRequestInput,
  type LifecycleResult,
} from './agreement-lifecycle.ts';

function field(coordinate: string, bureau: string, category: SharingCategory): CatalogueField {
  const [typeName = '', fieldName = ''] = coordinate.split('.');
  return { coordinate, typeName, fieldName, bureau, category, sensitivity: 'MEDIUM', isKey: false };
}

function catalogueWith(fields: readonly CatalogueField[]): Catalogue {
  const bureau = (id: string) => ({
    id,
    name: { zh: id, en: id },
    connector: { kind: 'graphql' as const, url: 'http://127.0.0.1:1', timeoutMs: 1000, maxConcurrency: 1, breaker: { failureThreshold: 1, resetAfterMs: 1 } },
    rootFields: [],
  });
  return {
    bureaus: new Map(['public-security', 'market-supervision', 'civil-affairs'].map((id) => [id, bureau(id)])),
    fields: new Map(fields.map((f) => [f.coordinate, f])),
    entities: new Map(),
    rootFields: new Map(),
  };
}

const catalogue = catalogueWith([
  field('Person.name', 'public-security', 'CONDITIONAL'),
  field('Person.address', 'public-security', 'CONDITIONAL'),
  field('Person.householdId', 'public-security', 'NONE'),
  field('Enterprise.registeredCapital', 'market-supervision', 'CONDITIONAL'),
]);

function principal(user: string, bureau: string, roles: readonly Role[]): Principal {
  return { issuer: `https://idp.${bureau}.example`, subject: `sub-${user}`, user, bureau, app: 'console', roles, scopes: [], expiresAt: 4_102_444_800 };
}

const developer = principal('u-wang', 'civil-affairs', ['developer']);
const consumerOfficer = principal('u-zhao', 'civil-affairs', ['data_officer']);
const providerOfficer = principal('u-li', 'public-security', ['data_officer']);
const providerDeveloper = principal('u-chen', 'public-security', ['developer']);

/** Friday 6 March 2026, 10:00 UTC. */
const friday = new Date('2026-03-06T10:00:00Z');

function request(overrides: Partial<AgreementRequestInput> = {}): AgreementRequestInput {
  return {
    id: 'agr-test',
    consumerApp: 'relief-app',
    providerBureau: 'public-security',
    fields: ['Person.name', 'Person.address'],
    masks: { 'Person.address': 'ADDRESS' },
    purpose: 'social-assistance-eligibility',
    legalBasis: '《社会救助暂行办法》第十一条',
    rowScope: 'ANY',
    validFrom: '2026-04-01T00:00:00Z',
    validUntil: '2027-04-01T00:00:00Z',
    ...overrides,
  };
}

function ok(result: LifecycleResult): Extract<LifecycleResult, { ok: true }> {
  if (!result.ok) throw new Error(`expected success, got ${result.code}: ${result.message}`);
  return result;
}

function pending(): Agreement {
  return ok(requestAgreement(developer, request({ submit: true }), friday, catalogue)).agreement;
}

function active(): Agreement {
  return ok(approveAgreement(pending(), providerOfficer, {}, friday, catalogue)).agreement;
}

describe('working days', () => {
  it('skips weekends and keeps the time of day', () => {
    expect(addWorkingDays(friday, 1).toISOString()).toBe('2026-03-09T10:00:00.000Z');
    expect(addWorkingDays(new Date('2026-03-07T10:00:00Z'), 1).toISOString()).toBe('2026-03-09T10:00:00.000Z');
    expect(addWorkingDays(new Date('2026-03-04T10:00:00Z'), 3).toISOString()).toBe('2026-03-09T10:00:00.000Z');
    expect(addWorkingDays(friday, 10).toISOString()).toBe('2026-03-20T10:00:00.000Z');
    expect(addWorkingDays(friday, 0).toISOString()).toBe(friday.toISOString());
  });
});

describe('request', () => {
  it('saves a draft by a consumer developer, with the default scope and a CREATE event', () => {
    const { agreement, event } = ok(requestAgreement(developer, request(), friday, catalogue));
    expect(agreement).toMatchObject({
      id: 'agr-test',
      version: 1,
      status: 'DRAFT',
      consumerBureau: 'civil-affairs',
      providerBureau: 'public-security',
      requestedBy: 'u-wang',
      scope: 'agreement:agr-test',
      validFrom: '2026-04-01T00:00:00.000Z',
      createdAt: friday.toISOString(),
    });
    expect(agreement.replyBy).toBeUndefined();
    expect(event).toMatchObject({ agreementId: 'agr-test', version: 1, action: 'CREATE', actor: { user: 'u-wang', bureau: 'civil-affairs', roles: ['developer'] } });
    expect(event.agreement).toBe(agreement);
  });

  it('submits straight to PENDING with a reply-by date N working days on', () => {
    const { agreement, event } = ok(requestAgreement(consumerOfficer, request({ submit: true }), friday, catalogue, { workingDaysToReply: 3 }));
    expect(agreement.status).toBe('PENDING');
    expect(agreement.replyBy).toBe('2026-03-11T10:00:00.000Z');
    expect(event.action).toBe('SUBMIT');
  });

  it('defaults to ten working days', () => {
    expect(pending().replyBy).toBe('2026-03-20T10:00:00.000Z');
  });

  it('is refused to citizens, operators and other bureaus', () => {
    expect(requestAgreement(principal('c-1', 'civil-affairs', ['citizen']), request(), friday, catalogue)).toMatchObject({ ok: false, code: 'FORBIDDEN', rule: 'REQUESTER_ROLE' });
    expect(requestAgreement(principal('o-1', 'civil-affairs', ['operator']), request(), friday, catalogue)).toMatchObject({ ok: false, code: 'FORBIDDEN', rule: 'REQUESTER_ROLE' });
    expect(requestAgreement(developer, request({ consumerBureau: 'market-supervision' }), friday, catalogue)).toMatchObject({
      ok: false,
      code: 'FORBIDDEN',
      rule: 'CONSUMER_BUREAU',
    });
  });

  it('refuses a field of category NONE, naming it', () => {
    const result = requestAgreement(developer, request({ fields: ['Person.name', 'Person.householdId'], masks: {}, submit: true }), friday, catalogue);
    expect(result).toMatchObject({ ok: false, code: 'BAD_USER_INPUT', field: 'fields[1]' });
    expect(!result.ok && result.message).toContain('Person.householdId');
    expect(!result.ok && result.message).toContain('NONE');
  });

  it('refuses a field another bureau provides, naming both', () => {
    const result = requestAgreement(developer, request({ fields: ['Person.name', 'Enterprise.registeredCapital'], masks: {} }), friday, catalogue);
    expect(result).toMatchObject({ ok: false, code: 'BAD_USER_INPUT', field: 'fields[1]' });
    expect(!result.ok && result.message).toBe("Enterprise.registeredCapital is provided by 'market-supervision', not by 'public-security'");
  });

  it.each([
    ['fields', { fields: [] }, 'fields'],
    ['unknown field', { fields: ['Person.shoeSize'], masks: {} }, 'fields[0]'],
    ['not a coordinate', { fields: ['name'], masks: {} }, 'fields[0]'],
    ['duplicate field', { fields: ['Person.name', 'Person.name'], masks: {} }, 'fields[1]'],
    ['mask of a field not requested', { masks: { 'Person.birthDate': 'DATE_TO_YEAR' } }, 'masks.Person.birthDate'],
    ['unknown mask kind', { masks: { 'Person.address': 'BLUR' } }, 'masks.Person.address'],
    ['unknown provider', { providerBureau: 'tax' }, 'providerBureau'],
    ['own bureau as provider', { providerBureau: 'civil-affairs' }, 'providerBureau'],
    ['purpose missing', { purpose: '' }, 'purpose'],
    ['purpose as prose', { purpose: 'Because we need it' }, 'purpose'],
    ['legal basis missing', { legalBasis: '   ' }, 'legalBasis'],
    ['legal basis placeholder', { legalBasis: 'not applicable' }, 'legalBasis'],
    ['legal basis too short', { legalBasis: 'law' }, 'legalBasis'],
    ['row scope', { rowScope: 'SOME' }, 'rowScope'],
    ['bad date', { validFrom: 'next monday' }, 'validFrom'],
    ['window backwards', { validFrom: '2027-01-01T00:00:00Z', validUntil: '2026-06-01T00:00:00Z' }, 'validUntil'],
    ['window over three years', { validFrom: '2026-04-01T00:00:00Z', validUntil: '2029-04-03T00:00:00Z' }, 'validUntil'],
    ['window already over', { validFrom: '2025-01-01T00:00:00Z', validUntil: '2026-01-01T00:00:00Z' }, 'validUntil'],
    ['disclosure delay too long', { disclosureDelay: { days: 731, legalReason: '《刑事诉讼法》第一百五十二条' } }, 'disclosureDelay.days'],
    ['disclosure delay without reason', { disclosureDelay: { days: 30, legalReason: '' } }, 'disclosureDelay.legalReason'],
  ] as const)('refuses %s', (_name, overrides, at) => {
    const result = requestAgreement(developer, request(overrides as Partial<AgreementRequestInput>), friday, catalogue);
    expect(result).toMatchObject({ ok: false, code: 'BAD_USER_INPUT', field: at });
  });

  it('keeps a disclosure delay with its legal reason', () => {
    const { agreement } = ok(requestAgreement(developer, request({ disclosureDelay: { days: 90, legalReason: '  《刑事诉讼法》第一百五十二条 ' } }), friday, catalogue));
    expect(agreement.disclosureDelay).toEqual({ days: 90, legalReason: '《刑事诉讼法》第一百五十二条' });
  });
});

describe('submit', () => {
  it('moves a draft to PENDING and leaves the draft as it was', () => {
    const draft = ok(requestAgreement(developer, request(), friday, catalogue)).agreement;
    const { agreement, event } = ok(submitAgreement(draft, consumerOfficer, {}, friday, catalogue, { workingDaysToReply: 1 }));
    expect(agreement).toMatchObject({ status: 'PENDING', version: 2, replyBy: '2026-03-09T10:00:00.000Z' });
    expect(event).toMatchObject({ action: 'SUBMIT', version: 2 });
    expect(draft).toMatchObject({ status: 'DRAFT', version: 1 });
  });

  it('checks the terms against the catalogue of the day: a field now NONE is refused by name', () => {
    const draft = ok(requestAgreement(developer, request(), friday, catalogue)).agreement;
    const tightened = catalogueWith([field('Person.name', 'public-security', 'CONDITIONAL'), field('Person.address', 'public-security', 'NONE')]);
    const result = submitAgreement(draft, developer, {}, friday, tightened);
    expect(result).toMatchObject({ ok: false, code: 'BAD_USER_INPUT', field: 'fields[1]' });
    expect(!result.ok && result.message).toContain('Person.address');
  });

  it('is for the consumer bureau, and only from DRAFT', () => {
    const draft = ok(requestAgreement(developer, request(), friday, catalogue)).agreement;
    expect(submitAgreement(draft, providerOfficer, {}, friday, catalogue)).toMatchObject({ ok: false, code: 'FORBIDDEN', rule: 'CONSUMER_BUREAU' });
    expect(submitAgreement(pending(), developer, {}, friday, catalogue)).toMatchObject({ ok: false, code: 'CONFLICT' });
  });
});

describe('approve', () => {
  it('lets a provider data officer approve', () => {
    const { agreement, event } = ok(approveAgreement(pending(), providerOfficer, {}, friday, catalogue));
    expect(agreement).toMatchObject({ status: 'ACTIVE', approvedBy: 'u-li', version: 2 });
    expect(event).toMatchObject({ action: 'APPROVE', actor: { user: 'u-li', bureau: 'public-security' } });
  });

  it('separates duties: the requester never approves, even holding the provider role', () => {
    const requester = principal('u-wang', 'public-security', ['data_officer']);
    expect(approveAgreement(pending(), requester, {}, friday, catalogue)).toMatchObject({ ok: false, code: 'FORBIDDEN', rule: 'SEPARATION_OF_DUTIES' });
  });

  it('is refused to a consumer-bureau officer and to a provider developer', () => {
    expect(approveAgreement(pending(), consumerOfficer, {}, friday, catalogue)).toMatchObject({ ok: false, code: 'FORBIDDEN', rule: 'PROVIDER_DATA_OFFICER' });
    expect(approveAgreement(pending(), providerDeveloper, {}, friday, catalogue)).toMatchObject({ ok: false, code: 'FORBIDDEN', rule: 'PROVIDER_DATA_OFFICER' });
  });

  it('is refused when the request is not pending or no longer holds', () => {
    expect(approveAgreement(active(), providerOfficer, {}, friday, catalogue)).toMatchObject({ ok: false, code: 'CONFLICT' });
    const later = new Date('2027-05-01T00:00:00Z');
    expect(approveAgreement(pending(), providerOfficer, {}, later, catalogue)).toMatchObject({ ok: false, code: 'CONFLICT' });
  });
});

describe('reject and revoke', () => {
  it('requires written reasons, and keeps them for the requester', () => {
    expect(rejectAgreement(pending(), providerOfficer, { reason: '' }, friday)).toMatchObject({ ok: false, code: 'BAD_USER_INPUT', field: 'reason' });
    expect(rejectAgreement(pending(), providerOfficer, { reason: 'n/a' }, friday)).toMatchObject({ ok: false, code: 'BAD_USER_INPUT', field: 'reason' });
    const reason = 'Addresses are not needed to assess eligibility; request Person.name only.';
    const { agreement, event } = ok(rejectAgreement(pending(), providerOfficer, { reason }, friday));
    expect(agreement).toMatchObject({ status: 'REJECTED', rejectionReason: reason });
    expect(event).toMatchObject({ action: 'REJECT', reason });
  });

  it('rejects only pending requests, by provider officers other than the requester', () => {
    const reason = 'Outside the statute cited for this purpose.';
    expect(rejectAgreement(active(), providerOfficer, { reason }, friday)).toMatchObject({ ok: false, code: 'CONFLICT' });
    expect(rejectAgreement(pending(), consumerOfficer, { reason }, friday)).toMatchObject({ ok: false, code: 'FORBIDDEN', rule: 'PROVIDER_DATA_OFFICER' });
  });

  it('revokes an active agreement with reasons', () => {
    const reason = 'The relief programme ended on 1 May; the data is no longer needed.';
    expect(revokeAgreement(active(), providerOfficer, { reason: ' ' }, friday)).toMatchObject({ ok: false, code: 'BAD_USER_INPUT', field: 'reason' });
    expect(revokeAgreement(active(), providerDeveloper, { reason }, friday)).toMatchObject({ ok: false, code: 'FORBIDDEN', rule: 'PROVIDER_DATA_OFFICER' });
    const { agreement, event } = ok(revokeAgreement(active(), principal('u-sun', 'public-security', ['data_officer']), { reason }, friday));
    expect(agreement).toMatchObject({ status: 'REVOKED', revocationReason: reason, version: 3 });
    expect(event).toMatchObject({ action: 'REVOKE', reason, actor: { user: 'u-sun' } });
  });

  it('does not revoke what is not in force any more', () => {
    const reason = 'The relief programme ended on 1 May; the data is no longer needed.';
    expect(revokeAgreement(pending(), providerOfficer, { reason }, friday)).toMatchObject({ ok: false, code: 'CONFLICT' });
    expect(revokeAgreement(active(), providerOfficer, { reason }, new Date('2027-04-01T00:00:00Z'))).toMatchObject({ ok: false, code: 'CONFLICT' });
  });
});

describe('time', () => {
  it('reports a pending request overdue only after its reply-by date', () => {
    const request = pending();
    expect(isOverdue(request, new Date('2026-03-20T09:59:59Z'))).toBe(false);
    expect(isOverdue(request, new Date('2026-03-20T10:00:01Z'))).toBe(true);
    expect(isOverdue(active(), new Date('2026-03-30T00:00:00Z'))).toBe(false);
  });

  it('treats an active agreement outside its window as not in force, and past it as expired', () => {
    const agreement = active();
    expect(isInForce(agreement, friday)).toBe(false);
    expect(isInForce(agreement, new Date('2026-04-01T00:00:00Z'))).toBe(true);
    expect(isInForce(agreement, new Date('2027-04-01T00:00:00Z'))).toBe(false);
    expect(effectiveStatus(agreement, new Date('2027-03-31T23:59:59Z'))).toBe('ACTIVE');
    expect(effectiveStatus(agreement, new Date('2027-04-01T00:00:00Z'))).toBe('EXPIRED');
  });

  it('expires only an active agreement whose window has ended, as the system', () => {
    expect(expireAgreement(active(), new Date('2027-03-31T00:00:00Z'))).toMatchObject({ ok: false, code: 'CONFLICT' });
    const { agreement, event } = ok(expireAgreement(active(), new Date('2027-04-01T00:00:00Z')));
    expect(agreement.status).toBe('EXPIRED');
    expect(event).toMatchObject({ action: 'EXPIRE', actor: { user: 'system:isthmus' } });
  });
});
