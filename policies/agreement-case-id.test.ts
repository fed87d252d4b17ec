import { describe, expect, it } from 'vitest';
import { NOW, OTHER_PERSON, agreement, demoCatalogue, planOf, principal } from '../test/support/policy-fixtures.ts';
import { MAX_CASE_ID_FORMAT_LENGTH, caseIdMatches, checkCaseIdTerm } from './agreement-case-id.ts';
import type { Agreement } from './agreement.ts';
import { checkTerms } from './agreement-terms.ts';
import { decideOperation, type OperationDecision } from './decide.ts';
import type { Principal, RequestPurpose } from './principal.ts';

const PERSON_NAME = `{ person(idNumber: "${OTHER_PERSON}") { name } }`;
const scopes = ['ps.person.basic'];
const FORMAT = '^GA-\\d{4}-\\d{6}$';

function decide(terms: Partial<Agreement>, purpose: RequestPurpose, who: Partial<Principal> = {}): OperationDecision {
  return decideOperation({
    plan: planOf(PERSON_NAME, {}),
    principal: principal({ scopes, ...who }),
    purpose,
    agreements: [agreement(terms)],
    catalogue: demoCatalogue(),
    now: NOW,
  });
}

describe('the caseId term', () => {
  it.each([
    [{ required: true }],
    [{ required: true, format: FORMAT }],
    [{ required: true, format: '^(?:GA|MZ)-[0-9]{4}-\\d{1,6}$' }],
    [{ required: true, format: '^JX/\\d+:[A-Z]?\\d*$' }],
  ])('accepts %j', (term) => {
    expect(checkCaseIdTerm(term)).toBeUndefined();
  });

  it.each<[unknown, string, RegExp]>([
    ['yes', 'caseId', /must be \{ required: true/],
    [{ required: false }, 'caseId.required', /must be true/],
    [{ required: true, format: 42 }, 'caseId.format', /must be a pattern/],
    [{ required: true, format: 'GA-\\d+' }, 'caseId.format', /anchored/],
    [{ required: true, format: '^GA-\\d+' }, 'caseId.format', /anchored/],
    [{ required: true, format: '^GA|MZ$' }, 'caseId.format', /only inside a group/],
    [{ required: true, format: '^(\\d+)+$' }, 'caseId.format', /nested quantifiers/],
    [{ required: true, format: '^(?:a|aa)*$' }, 'caseId.format', /nested quantifiers/],
    [{ required: true, format: '^(a)\\1$' }, 'caseId.format', /escapes/],
    [{ required: true, format: '^(?=a)a$' }, 'caseId.format', /look-arounds/],
    [{ required: true, format: '^a**$' }, 'caseId.format', /nothing to repeat/],
    [{ required: true, format: '^a{2,999}$' }, 'caseId.format', /at most 64 times/],
    [{ required: true, format: '^a b$' }, 'caseId.format', /may not hold the character " "/],
    [{ required: true, format: `^${'a'.repeat(MAX_CASE_ID_FORMAT_LENGTH)}$` }, 'caseId.format', /at most 128 characters/],
  ])('refuses %j, naming %s', (term, field, message) => {
    expect(checkCaseIdTerm(term)).toMatchObject({ ok: false, code: 'BAD_USER_INPUT', field, message: expect.stringMatching(message) });
  });

  it('is checked with the other terms at submission', () => {
    const refused = checkTerms(agreement({ caseId: { required: true, format: '^(x+)+$' } }), NOW, demoCatalogue());
    expect(refused).toMatchObject({ code: 'BAD_USER_INPUT', field: 'caseId.format' });
    expect(checkTerms(agreement({ caseId: { required: true, format: FORMAT }, validFrom: NOW.toISOString(), createdAt: NOW.toISOString() }), NOW, demoCatalogue())).toBeUndefined();
  });

  it('matches case ids against the format, and a format outside the safe grammar matches nothing', () => {
    expect(caseIdMatches(FORMAT, 'GA-2026-000123')).toBe(true);
    expect(caseIdMatches(FORMAT, 'GA-2026-00012')).toBe(false);
    expect(caseIdMatches(FORMAT, 'xGA-2026-000123')).toBe(false);
    expect(caseIdMatches(undefined, 'anything')).toBe(true);
    expect(caseIdMatches('^(a+)+$', 'aaa')).toBe(false);
  });
});

describe('decideOperation with a caseId term', () => {
  const required: Partial<Agreement> = { caseId: { required: true, format: FORMAT } };

  it('denies CASE_ID_REQUIRED without a case id, saying the agreement would allow it with one', () => {
    const decision = decide(required, { purpose: 'business-licensing' });
    expect(decision.outcome).toBe('DENIED');
    expect(decision.denied[0]).toMatchObject({
      reason: 'CASE_ID_REQUIRED',
      message: expect.stringMatching(/^agreement agr-ps-ms-1 covers Person\.name for reads that name their case file; .*would allow it with one$/),
      wouldAllow: { agreementId: 'agr-ps-ms-1', scope: 'ps.person.basic', purpose: 'business-licensing', caseId: { format: FORMAT } },
    });
  });

  it('denies CASE_ID_FORMAT for a case id of another format', () => {
    const decision = decide(required, { purpose: 'business-licensing', caseId: 'MZ-2026-00123' });
    expect(decision.denied[0]).toMatchObject({ reason: 'CASE_ID_FORMAT', message: expect.stringContaining('agreement agr-ps-ms-1') });
    expect(decision.denied[0]?.message).not.toContain('MZ-2026-00123');
  });

  it('allows a matching case id, from the request or from the token claim', () => {
    expect(decide(required, { purpose: 'business-licensing', caseId: 'GA-2026-000123' })).toMatchObject({ outcome: 'ALLOWED', agreementIds: ['agr-ps-ms-1'] });
    expect(decide(required, { purpose: 'business-licensing' }, { caseId: 'GA-2026-000123' })).toMatchObject({ outcome: 'ALLOWED' });
    expect(decide({ caseId: { required: true } }, { purpose: 'business-licensing', caseId: 'any-file-1' })).toMatchObject({ outcome: 'ALLOWED' });
  });

  it('agreements without the term need no case id, and an earlier miss outranks the case id', () => {
    expect(decide({}, { purpose: 'business-licensing' })).toMatchObject({ outcome: 'ALLOWED' });
    expect(decide(required, {}).denied[0]).toMatchObject({ reason: 'PURPOSE_MISSING' });
  });
});
