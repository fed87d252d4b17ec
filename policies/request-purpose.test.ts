import { describe, expect, it } from 'vitest';
import { CASE_ID_HEADER, PURPOSE_HEADER, resolvePurpose } from './request-purpose.ts';

describe('resolvePurpose: the one rule /graphql and explain follow', () => {
  it('takes the token’s claims, and what the request states where the token says nothing, each on its own', () => {
    expect(resolvePurpose({ purpose: 'business-licensing', caseId: 'SC-2026/17:a' }, {})).toEqual({ ok: true, purpose: { purpose: 'business-licensing', caseId: 'SC-2026/17:a' } });
    // Headers that are absent come as null from `Headers.get`.
    expect(resolvePurpose({ purpose: null, caseId: null }, { purpose: 'tax-review', caseId: 'T-1' })).toEqual({ ok: true, purpose: { purpose: 'tax-review', caseId: 'T-1' } });
    expect(resolvePurpose({ caseId: 'T-2' }, { purpose: 'tax-review' })).toEqual({ ok: true, purpose: { purpose: 'tax-review', caseId: 'T-2' } });
    expect(resolvePurpose({ purpose: 'tax-review', caseId: 'T-1' }, { purpose: 'tax-review', caseId: 'T-1' })).toEqual({ ok: true, purpose: { purpose: 'tax-review', caseId: 'T-1' } });
    expect(resolvePurpose({}, {})).toEqual({ ok: true, purpose: {} });
  });

  it('refuses a header that disagrees with the issuer’s claim: the claim wins, naming the header, never the values', () => {
    const purpose = resolvePurpose({ purpose: 'business-licensing' }, { purpose: 'tax-review' });
    expect(purpose).toEqual({ ok: false, problem: { code: 'BAD_USER_INPUT', reason: 'PURPOSE_CONFLICT', field: 'purpose', message: expect.stringContaining(PURPOSE_HEADER) } });
    const caseId = resolvePurpose({ caseId: 'SC-2026-0042' }, { purpose: 'tax-review', caseId: 'T-1' });
    expect(caseId).toEqual({ ok: false, problem: { code: 'BAD_USER_INPUT', reason: 'CASE_ID_CONFLICT', field: 'caseId', message: expect.stringContaining(CASE_ID_HEADER) } });
    for (const refused of [purpose, caseId]) {
      if (refused.ok) throw new Error('expected a refusal');
      for (const value of ['business-licensing', 'tax-review', 'SC-2026-0042', 'T-1']) expect(refused.problem.message).not.toContain(value);
    }
    // An empty header is a stated value too, and not the token's.
    expect(resolvePurpose({ caseId: '' }, { caseId: 'T-1' })).toMatchObject({ ok: false, problem: { reason: 'CASE_ID_CONFLICT' } });
  });

  it('refuses a purpose that is not a code, wherever it came from: the header, or the token', () => {
    for (const purpose of ['Minimum Living Allowance', 'x'.repeat(65), '-leading-dash', '', '低保审核']) {
      const stated = resolvePurpose({ purpose }, {});
      expect(stated).toEqual({ ok: false, problem: { code: 'BAD_USER_INPUT', reason: 'PURPOSE_INVALID', field: 'purpose', message: expect.stringContaining(PURPOSE_HEADER) } });
      expect(resolvePurpose({}, { purpose })).toMatchObject({ ok: false, problem: { reason: 'PURPOSE_INVALID' } });
    }
    expect(resolvePurpose({ purpose: 'x'.repeat(64) }, {})).toMatchObject({ ok: true });
    expect(resolvePurpose({ purpose: 'social.assistance_2026-review' }, {})).toMatchObject({ ok: true });
  });

  it('refuses a case id that is not a file number, naming the header and not the value', () => {
    for (const caseId of ['case 17', '/leading-slash', 'x'.repeat(65), 'A\u0000B']) {
      const stated = resolvePurpose({ caseId }, {});
      expect(stated).toEqual({ ok: false, problem: { code: 'BAD_USER_INPUT', reason: 'CASE_ID_INVALID', field: 'caseId', message: expect.stringContaining(CASE_ID_HEADER) } });
      if (!stated.ok && caseId !== '') expect(stated.problem.message).not.toContain(caseId);
    }
  });
});
