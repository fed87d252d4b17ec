import { describe, expect, it } from 'vitest';
import { NOW, OTHER_PERSON, agreement, demoCatalogue, planOf, principal } from '../test/support/policy-fixtures.ts';
import { people, requestBody } from '../test/support/agreement-fixtures.ts';
import { MAX_PINNED_OPERATIONS, anyPinsOperations, checkOperationsTerm, normalizePinnedOperations, pinsOperation, type OperationHash } from './agreement-operations.ts';
import type { Agreement } from './agreement.ts';
import { requestAgreement } from './agreement-lifecycle.ts';
import { decideOperation, type OperationDecision } from './decide.ts';
import type { RequestPurpose } from './principal.ts';

const PERSON_NAME = `{ person(idNumber: "${OTHER_PERSON}") { name } }`;
const scopes = ['ps.person.basic'];
const hash = (digit: string): OperationHash => `sha256:${digit.repeat(64)}`;
const PINNED = hash('a');
const OTHER = hash('b');

function decide(agreements: readonly Agreement[], operationHash: string | undefined, purpose: RequestPurpose = { purpose: 'business-licensing' }): OperationDecision {
  return decideOperation({
    plan: planOf(PERSON_NAME, {}),
    principal: principal({ scopes }),
    purpose,
    agreements,
    catalogue: demoCatalogue(),
    now: NOW,
    ...(operationHash === undefined ? {} : { operationHash }),
  });
}

describe('the operations term', () => {
  it('normalizes hashes with or without the prefix, in either case; leaves anything else as it came', () => {
    const upper = 'AB'.repeat(32);
    expect(normalizePinnedOperations([upper, `sha256:${upper}`, 'sha256:xyz', 42])).toEqual([`sha256:${'ab'.repeat(32)}`, `sha256:${'ab'.repeat(32)}`, 'sha256:xyz', 42]);
  });

  it('accepts 1 to 50 distinct hashes', () => {
    expect(checkOperationsTerm(undefined)).toBeUndefined();
    expect(checkOperationsTerm([PINNED])).toBeUndefined();
    expect(checkOperationsTerm(Array.from({ length: MAX_PINNED_OPERATIONS }, (_, index) => `sha256:${index.toString(16).padStart(64, '0')}`))).toBeUndefined();
  });

  it.each<[unknown, string, RegExp]>([
    ['sha256:aa', 'operations', /must be a list/],
    [[], 'operations', /at least one/],
    [Array.from({ length: MAX_PINNED_OPERATIONS + 1 }, (_, index) => `sha256:${index.toString(16).padStart(64, '0')}`), 'operations', /at most 50/],
    [[PINNED, 'sha256:1234'], 'operations[1]', /operations\[1\] must be a document hash/],
    [[`SHA256:${'a'.repeat(64)}`], 'operations[0]', /must be a document hash/],
    [[PINNED, 7], 'operations[1]', /must be a document hash/],
    [[PINNED, OTHER, PINNED], 'operations[2]', /repeats operations\[0\]/],
  ])('refuses %j naming %s', (operations, field, message) => {
    expect(checkOperationsTerm(operations)).toMatchObject({ ok: false, code: 'BAD_USER_INPUT', field, message: expect.stringMatching(message) });
  });

  it('is checked with the other terms when a request is made, and stored normalized', () => {
    const at = new Date('2026-03-06T10:00:00Z');
    const request = (operations: readonly string[]) => requestAgreement(people.requester, { ...requestBody({ validFrom: at.toISOString() }), id: 'agr-pin', operations }, at, demoCatalogue());
    expect(request([])).toMatchObject({ ok: false, code: 'BAD_USER_INPUT', field: 'operations' });
    expect(request([PINNED, 'not a hash'])).toMatchObject({ ok: false, code: 'BAD_USER_INPUT', field: 'operations[1]' });
    const refused = request(['sha256:<script>']);
    if (!refused.ok) expect(refused.message).not.toContain('<script>');
    const made = request(['A'.repeat(64)]);
    expect(made).toMatchObject({ ok: true, agreement: { operations: [PINNED] } });
    // Duplicates are duplicates once normalized.
    expect(request([PINNED, 'a'.repeat(64)])).toMatchObject({ ok: false, field: 'operations[1]' });
  });

  it('pins only when set; a request of unknown hash runs no pinned document', () => {
    expect(pinsOperation({}, undefined)).toBe(true);
    expect(pinsOperation({ operations: [PINNED] }, PINNED)).toBe(true);
    expect(pinsOperation({ operations: [PINNED] }, OTHER)).toBe(false);
    expect(pinsOperation({ operations: [PINNED] }, undefined)).toBe(false);
  });

  it('tells whether any agreement in force pins operations, once per frozen snapshot', () => {
    const plain = Object.freeze([agreement()]);
    const pinning = Object.freeze([agreement(), agreement({ id: 'agr-2', operations: [PINNED] })]);
    expect(anyPinsOperations(plain)).toBe(false);
    expect(anyPinsOperations(pinning)).toBe(true);
    expect(anyPinsOperations(plain)).toBe(false);
  });
});

describe('deciding under an agreement that pins operations', () => {
  it('releases the field for a pinned document', () => {
    const decision = decide([agreement({ operations: [OTHER, PINNED] })], PINNED);
    expect(decision.fields.get('person.name')).toMatchObject({ effect: 'allow', agreementId: 'agr-ps-ms-1' });
    expect(decision.agreementIds).toEqual(['agr-ps-ms-1']);
  });

  it('denies any other document OPERATION_NOT_PINNED, naming the agreement, the hash and how many it pins', () => {
    for (const operationHash of [OTHER, undefined]) {
      const denied = decide([agreement({ operations: [PINNED] })], operationHash).fields.get('person.name');
      expect(denied).toMatchObject({ effect: 'deny', reason: 'OPERATION_NOT_PINNED', wouldAllow: { agreementId: 'agr-ps-ms-1', operations: [PINNED] } });
      if (denied?.effect !== 'deny') throw new Error('not denied');
      expect(denied.message).toContain('agreement agr-ps-ms-1');
      expect(denied.message).toContain('this agreement would allow it for one of its 1 pinned operation');
      if (operationHash) expect(denied.message).toContain(operationHash);
    }
    expect(decide([agreement({ operations: [PINNED, hash('c')] })], OTHER).denied[0]?.message).toContain('one of its 2 pinned operations');
  });

  it('leaves agreements that pin nothing as they were, hash or no hash', () => {
    for (const operationHash of [undefined, OTHER]) expect(decide([agreement()], operationHash).fields.get('person.name')).toMatchObject({ effect: 'allow' });
  });

  it('ranks the near-miss last: any other miss is named first, and an agreement that would apply wins over a pinned one', () => {
    // The purpose is wrong too: that is what the reader must fix first.
    expect(decide([agreement({ operations: [PINNED] })], OTHER, { purpose: 'other-purpose' }).denied[0]?.reason).toBe('PURPOSE_MISMATCH');
    // A case id missing as well: the case id is named before the document (the document is the last thing wrong).
    expect(decide([agreement({ operations: [PINNED], caseId: { required: true } })], OTHER).denied[0]?.reason).toBe('CASE_ID_REQUIRED');
    // Of two near-misses, the pinned one got furthest: it is named, over the one lacking a case id.
    const two = [agreement({ id: 'agr-a', caseId: { required: true } }), agreement({ id: 'agr-b', operations: [PINNED] })];
    expect(decide(two, OTHER).denied[0]).toMatchObject({ reason: 'OPERATION_NOT_PINNED', wouldAllow: { agreementId: 'agr-b' } });
    // An unpinned agreement that applies releases the field; the pinned one is not needed.
    const both = [agreement({ id: 'agr-a', operations: [PINNED] }), agreement({ id: 'agr-b' })];
    expect(decide(both, OTHER).fields.get('person.name')).toMatchObject({ effect: 'allow', agreementId: 'agr-b' });
  });
});
