import { describe, expect, it } from 'vitest';
import { approveAgreement, rejectAgreement, requestAgreement, revokeAgreement } from './agreement-lifecycle.ts';
import { canonicalUserId, isRequester } from './same-person.ts';
import type { Principal } from './principal.ts';
import { demoCatalogue, principal, requestBody } from '../test/support/agreement-fixtures.ts';

const now = new Date('2026-03-06T10:00:00Z');

describe('separation of duties compares stable identities, not display strings', () => {
  it('puts user ids in one canonical form: NFKC and case-folded', () => {
    expect(canonicalUserId('ZHAO.QIANG')).toBe('zhao.qiang');
    expect(canonicalUserId('ｚｈａｏ．ｑｉａｎｇ')).toBe('zhao.qiang');
    expect(canonicalUserId('STRASSE')).toBe(canonicalUserId('straße'));
    expect(canonicalUserId('zhao.qiang')).not.toBe(canonicalUserId('zhao.qiang2'));
  });

  const requester = principal('zhao.qiang', 'human-resources-social-security', ['developer', 'data_officer']);
  const pending = () => {
    const result = requestAgreement(requester, { ...requestBody({ validFrom: now.toISOString() }), id: 'agr-sod', submit: true }, now, demoCatalogue());
    if (!result.ok) throw new Error(result.message);
    return result.agreement;
  };

  it('keeps the requester’s issuer and subject on the agreement', () => {
    expect(pending().requester).toEqual({ issuer: requester.issuer, subject: requester.subject });
  });

  it('refuses ZHAO.QIANG deciding on zhao.qiang’s request, from another issuer and bureau', () => {
    const upper = principal('ZHAO.QIANG', 'public-security', ['data_officer']);
    const fullWidth = principal('ｚｈａｏ.ｑｉａｎｇ', 'public-security', ['data_officer']);
    for (const officer of [upper, fullWidth]) {
      expect(approveAgreement(pending(), officer, {}, now, demoCatalogue())).toMatchObject({ ok: false, code: 'FORBIDDEN', rule: 'SEPARATION_OF_DUTIES' });
      expect(rejectAgreement(pending(), officer, { reason: 'the basis does not cover addresses' }, now)).toMatchObject({ ok: false, rule: 'SEPARATION_OF_DUTIES' });
    }
  });

  it('refuses the same account (issuer and subject) under another user id', () => {
    const sameAccount: Principal = { ...principal('li.officer', 'public-security', ['data_officer']), issuer: requester.issuer, subject: requester.subject };
    expect(isRequester(pending(), sameAccount)).toBe(true);
    expect(approveAgreement(pending(), sameAccount, {}, now, demoCatalogue())).toMatchObject({ ok: false, rule: 'SEPARATION_OF_DUTIES' });
    const approved = approveAgreement(pending(), principal('u-li', 'public-security', ['data_officer']), {}, now, demoCatalogue());
    if (!approved.ok) throw new Error(approved.message);
    expect(revokeAgreement(approved.agreement, sameAccount, { reason: 'the service has been closed down' }, now)).toMatchObject({ ok: false, rule: 'SEPARATION_OF_DUTIES' });
  });

  it('lets another person decide, and falls back to the user id for agreements stored without the identity', () => {
    expect(approveAgreement(pending(), principal('u-li', 'public-security', ['data_officer']), {}, now, demoCatalogue())).toMatchObject({ ok: true });
    const { requester: _dropped, ...legacy } = pending();
    expect(isRequester(legacy, principal('Zhao.Qiang', 'public-security', ['data_officer']))).toBe(true);
    expect(isRequester(legacy, principal('u-li', 'public-security', ['data_officer']))).toBe(false);
  });
});
