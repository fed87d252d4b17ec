import { describe, expect, it } from 'vitest';
import { requestAgreement, rejectAgreement, approveAgreement, submitAgreement, type AgreementRequestInput } from './agreement-lifecycle.ts';
import { MAX_BACKDATE_MS, MAX_START_AHEAD_DAYS, checkText } from './agreement-terms.ts';
import { demoCatalogue, people, requestBody } from '../test/support/agreement-fixtures.ts';

const now = new Date('2026-03-06T10:00:00Z');
const DAY_MS = 86_400_000;
const sound = (overrides: Partial<AgreementRequestInput> = {}): AgreementRequestInput => ({
  ...requestBody({ validFrom: now.toISOString(), validUntil: '2027-03-01T00:00:00.000Z' }),
  id: 'agr-terms',
  ...overrides,
});
const request = (overrides: Partial<AgreementRequestInput> = {}, at = now) => requestAgreement(people.requester, sound(overrides), at, demoCatalogue());

describe('agreement terms: control characters are refused in every text, naming the field', () => {
  const hostile = ['\u001b[8m', '\n', '\t', '\u0000', '\u007f', '\u009b', '\u0085', '\u202e', '\u2066', '\u2028'];

  it('in the legal basis, with the code point and its place, never the text', () => {
    for (const bad of hostile) {
      const refused = request({ legalBasis: `《社会保险法》第七十三条${bad}Person.gender` });
      expect(refused, JSON.stringify(bad)).toMatchObject({ ok: false, code: 'BAD_USER_INPUT', field: 'legalBasis', message: expect.stringContaining('control character') });
      if (!refused.ok) expect(refused.message).not.toContain('社会保险法');
    }
    expect(request({ legalBasis: '《社会保险法》第七十三条\u001b[8m' })).toMatchObject({ message: expect.stringContaining('U+001B at character 13') });
  });

  it('in every other text term, each refusal naming its own field', () => {
    const cases: [Partial<AgreementRequestInput>, string][] = [
      [{ consumerApp: 'pension\u001b[8m' }, 'consumerApp'],
      [{ providerBureau: 'public-security\u202e' }, 'providerBureau'],
      [{ purpose: 'pension-check\u0085' }, 'purpose'],
      [{ fields: ['Person.name', 'Person.address\u001b[8m'] }, 'fields[1]'],
      [{ masks: { 'Person.address\u001b': 'ADDRESS' } }, 'masks'],
      [{ masks: { 'Person.address': 'ADDRESS\u202e' as never } }, 'masks.Person.address'],
      [{ scope: 'ps.person\u2066' }, 'scope'],
      [{ validFrom: `${now.toISOString()}\u001b` }, 'validFrom'],
      [{ validUntil: '2027-03-01T00:00:00Z\n' }, 'validUntil'],
      [{ disclosureDelay: { days: 30, legalReason: 'an investigation under way\u001b[8m per art. 5' } }, 'disclosureDelay.legalReason'],
    ];
    for (const [overrides, field] of cases) {
      expect(request(overrides), field).toMatchObject({ ok: false, code: 'BAD_USER_INPUT', field, message: expect.stringContaining('control character') });
    }
  });

  it('in the reasons of a rejection, and on approval of a row stored before the rule', () => {
    const pending = request({ submit: true });
    if (!pending.ok) throw new Error(pending.message);
    const rejected = rejectAgreement(pending.agreement, people.providerOfficer, { reason: 'the basis does not cover addresses\u001b[8m' }, now);
    expect(rejected).toMatchObject({ ok: false, code: 'BAD_USER_INPUT', field: 'reason' });
    const legacy = { ...pending.agreement, legalBasis: '《社会保险法》第七十三条\u001b[8m' };
    expect(approveAgreement(legacy, people.providerOfficer, {}, now, demoCatalogue())).toMatchObject({ ok: false, code: 'CONFLICT', message: expect.stringContaining('legalBasis holds a control character') });
  });
});

describe('agreement terms: the window starts when the request is made, within a year', () => {
  it('refuses a back-dated validFrom beyond the clock tolerance, and accepts one within it', () => {
    expect(request({ validFrom: new Date(now.getTime() - MAX_BACKDATE_MS - 1_000).toISOString() })).toMatchObject({ ok: false, code: 'BAD_USER_INPUT', field: 'validFrom', message: expect.stringContaining('before the request is made') });
    expect(request({ validFrom: '2026-01-01T00:00:00Z' })).toMatchObject({ ok: false, field: 'validFrom' });
    expect(request({ validFrom: new Date(now.getTime() - MAX_BACKDATE_MS + 1_000).toISOString() })).toMatchObject({ ok: true });
  });

  it('refuses a window starting more than a year ahead', () => {
    const far = new Date(now.getTime() + (MAX_START_AHEAD_DAYS + 1) * DAY_MS);
    expect(request({ validFrom: far.toISOString(), validUntil: new Date(far.getTime() + 30 * DAY_MS).toISOString() })).toMatchObject({
      ok: false,
      field: 'validFrom',
      message: expect.stringContaining('one year'),
    });
    const near = new Date(now.getTime() + (MAX_START_AHEAD_DAYS - 1) * DAY_MS);
    expect(request({ validFrom: near.toISOString(), validUntil: new Date(near.getTime() + 30 * DAY_MS).toISOString() })).toMatchObject({ ok: true });
  });

  it('measures from the request, so a draft submitted and approved days later keeps its terms', () => {
    const draft = request({ validFrom: now.toISOString() });
    if (!draft.ok) throw new Error(draft.message);
    const later = new Date(now.getTime() + 3 * DAY_MS);
    const submitted = submitAgreement(draft.agreement, people.requester, {}, later, demoCatalogue());
    if (!submitted.ok) throw new Error(submitted.message);
    expect(approveAgreement(submitted.agreement, people.providerOfficer, {}, new Date(later.getTime() + DAY_MS), demoCatalogue())).toMatchObject({ ok: true });
  });
});

describe('agreement terms: a legal basis or reason says something in words', () => {
  const what = 'the statute';
  it('refuses dots, punctuation, repeats and placeholders', () => {
    for (const text of ['ab......', '........', '-- . -- . --', 'aaaaaaaa', 'ab12....', '《》《》《》《》', 'N/A', 'to do...', '无无无无无无无无']) {
      expect(checkText('legalBasis', text, what), text).toMatchObject({ ok: false, code: 'BAD_USER_INPUT', field: 'legalBasis', message: expect.stringContaining('letters or digits') });
    }
    expect(request({ legalBasis: 'ab......' })).toMatchObject({ ok: false, field: 'legalBasis' });
  });

  it('accepts real legal bases as data officers write them', () => {
    for (const text of ['《消防法》第十条', '《社会救助暂行办法》第十一条', 'Art. 6(1)(e) GDPR', 'GB/T 35273-2020 §5.4', 'Municipal data sharing regulation, art. 12']) {
      expect(checkText('legalBasis', text, what), text).toBeUndefined();
    }
  });
});
