import { print } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  CITIZEN,
  CREDIT_CODE,
  HRSS,
  MARKET_SUPERVISION,
  NOW,
  OTHER_PERSON,
  PUBLIC_SECURITY,
  agreement,
  demoCatalogue,
  planOf,
  principal,
} from '../test/support/policy-fixtures.ts';
import type { Agreement } from './agreement.ts';
import { DENY_REASONS, decideOperation, keepAllowed, type DecideInput, type DenyReason, type FieldDecision, type OperationDecision } from './decide.ts';
import type { Principal, RequestPurpose } from './principal.ts';
import { printPlan } from './print-plan.ts';

interface Case {
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  readonly principal?: Partial<Principal>;
  readonly purpose?: RequestPurpose;
  readonly agreements?: readonly Agreement[];
  readonly now?: Date;
}

function decide(input: Case): OperationDecision {
  return decideOperation(inputOf(input));
}

function inputOf(input: Case): DecideInput {
  return {
    plan: planOf(input.query, input.variables ?? {}),
    principal: principal(input.principal),
    purpose: input.purpose ?? { purpose: 'business-licensing' },
    agreements: input.agreements ?? [],
    catalogue: demoCatalogue(),
    now: input.now ?? NOW,
  };
}

/** The decision at a dotted path. */
function at(decision: OperationDecision, key: string): FieldDecision {
  const found = decision.fields.get(key);
  if (!found) throw new Error(`no decision at ${key}`);
  return found;
}

/** `effect`, plus the mask or the reason, per dotted path. */
function summary(decision: OperationDecision): Record<string, string> {
  return Object.fromEntries(
    [...decision.fields.values()].map((field) => [
      field.key,
      field.effect === 'mask' ? `mask ${field.mask}` : field.effect === 'deny' ? `deny ${field.reason}` : 'allow',
    ]),
  );
}

const PERSON_NAME = `{ person(idNumber: "${OTHER_PERSON}") { name } }`;

describe('decideOperation', () => {
  describe('entry points and introspection', () => {
    it('allows root fields as entry points and introspection anywhere, for anyone with a bureau', () => {
      const decision = decide({ query: `{ __typename __schema { queryType { name } } enterprise(creditCode: "${CREDIT_CODE}") { __typename } }` });
      expect(summary(decision)).toEqual({
        __typename: 'allow',
        __schema: 'allow',
        '__schema.queryType': 'allow',
        '__schema.queryType.name': 'allow',
        enterprise: 'allow',
        'enterprise.__typename': 'allow',
      });
      expect(at(decision, 'enterprise').bureau).toBe(MARKET_SUPERVISION);
      expect(decision.outcome).toBe('ALLOWED');
    });

    it('denies everything but introspection to a principal without a bureau', () => {
      const decision = decide({ query: `{ __typename enterprise(creditCode: "x") { name } }`, principal: { bureau: '' } });
      expect(summary(decision)).toEqual({ __typename: 'allow', enterprise: 'deny NO_BUREAU', 'enterprise.name': 'deny NO_BUREAU' });
      expect(decision.outcome).toBe('DENIED');
    });
  });

  describe('own bureau, NONE, OPEN and merge keys', () => {
    it('a bureau reads its own fields unmasked, NONE ones included', () => {
      const decision = decide({ query: `{ person(idNumber: "1") { idNumber name householdId address } }`, principal: { bureau: PUBLIC_SECURITY } });
      expect(summary(decision)).toEqual({
        person: 'allow',
        'person.idNumber': 'allow',
        'person.name': 'allow',
        'person.householdId': 'allow',
        'person.address': 'allow',
      });
      expect(decision.agreementIds).toEqual([]);
      expect(decision.providerBureaus).toEqual([PUBLIC_SECURITY]);
    });

    it('NONE fields are denied to every other bureau, whatever agreement claims them', () => {
      const decision = decide({
        query: `{ person(idNumber: "1") { householdId } }`,
        agreements: [agreement({ fields: ['Person.householdId'] })],
        principal: { scopes: ['ps.person.basic'] },
      });
      expect(at(decision, 'person.householdId')).toMatchObject({
        effect: 'deny',
        reason: 'NONE_CATEGORY',
        bureau: PUBLIC_SECURITY,
        message: 'Person.householdId is never shared outside public-security (不予共享)',
      });
      expect(at(decision, 'person.householdId')).not.toHaveProperty('wouldAllow');
    });

    it('OPEN fields and merge keys are released to any bureau, with the catalogue mask when there is one', () => {
      const decision = decide({ query: `{ person(idNumber: "1") { idNumber enterprises { creditCode name status } } }`, principal: { bureau: HRSS, app: 'x' } });
      expect(summary(decision)).toMatchObject({
        'person.idNumber': 'mask ID_NUMBER',
        'person.enterprises': 'deny NO_AGREEMENT',
        'person.enterprises.creditCode': 'deny PARENT_DENIED',
      });
      const enterprise = decide({ query: `{ enterprise(creditCode: "x") { creditCode name status } }`, principal: { bureau: HRSS } });
      expect(summary(enterprise)).toEqual({ enterprise: 'allow', 'enterprise.creditCode': 'allow', 'enterprise.name': 'allow', 'enterprise.status': 'allow' });
    });

    it('an agreement covering an OPEN field or a key replaces the catalogue mask with its own terms', () => {
      const query = `{ person(idNumber: "1") { idNumber } }`;
      const scopes = ['ps.person.basic'];
      expect(at(decide({ query, principal: { scopes }, agreements: [agreement({ fields: ['Person.idNumber'] })] }), 'person.idNumber')).toEqual({
        key: 'person.idNumber',
        path: ['person', 'idNumber'],
        coordinate: 'Person.idNumber',
        bureau: PUBLIC_SECURITY,
        effect: 'allow',
        agreementId: 'agr-ps-ms-1',
      });
      const masked = decide({ query, principal: { scopes }, agreements: [agreement({ fields: ['Person.idNumber'], masks: { 'Person.idNumber': 'REDACT' } })] });
      expect(at(masked, 'person.idNumber')).toMatchObject({ effect: 'mask', mask: 'REDACT', agreementId: 'agr-ps-ms-1' });
      // A near-miss changes nothing: the catalogue default applies.
      expect(at(decide({ query, agreements: [agreement({ fields: ['Person.idNumber'] })] }), 'person.idNumber')).toMatchObject({ effect: 'mask', mask: 'ID_NUMBER' });
      expect(at(decide({ query, agreements: [agreement({ fields: ['Person.idNumber'] })] }), 'person.idNumber')).not.toHaveProperty('agreementId');
    });
  });

  describe('CONDITIONAL fields', () => {
    const scopes = ['ps.person.basic'];

    it('decide the same from a frozen list of agreements (indexed once) as from a fresh one, and read an unfrozen list afresh', () => {
      const query = `{ person(idNumber: "1") { name address } }`;
      const others = [
        agreement({ id: 'agr-z-other-consumer', consumerBureau: HRSS, fields: ['Person.address'] }),
        agreement({ id: 'agr-y-other-provider', providerBureau: HRSS, fields: ['Person.address'] }),
      ];
      const frozen = Object.freeze([...others, agreement({ fields: ['Person.name'] })]);
      const first = decide({ query, principal: { scopes }, agreements: frozen });
      expect(summary(first)).toEqual({ person: 'allow', 'person.name': 'allow', 'person.address': 'deny NO_AGREEMENT' });
      expect(summary(decide({ query, principal: { scopes }, agreements: frozen }))).toEqual(summary(first));
      expect(summary(decide({ query, principal: { scopes }, agreements: [...frozen] }))).toEqual(summary(first));
      // Agreements of other consumers or providers never apply, however they are grouped.
      expect(first.agreementIds).toEqual(['agr-ps-ms-1']);

      const growing: Agreement[] = [agreement({ fields: ['Person.name'] })];
      expect(summary(decide({ query, principal: { scopes }, agreements: growing }))['person.address']).toBe('deny NO_AGREEMENT');
      growing.push(agreement({ id: 'agr-ps-ms-2', fields: ['Person.address'] }));
      expect(summary(decide({ query, principal: { scopes }, agreements: growing }))['person.address']).toBe('allow');
    });

    it('are released under an applicable agreement, masked as it says', () => {
      const decision = decide({
        query: `{ person(idNumber: "1") { name address birthDate } }`,
        principal: { scopes },
        agreements: [agreement({ fields: ['Person.name', 'Person.address'], masks: { 'Person.address': 'ADDRESS' } })],
      });
      expect(summary(decision)).toMatchObject({ 'person.name': 'allow', 'person.address': 'mask ADDRESS', 'person.birthDate': 'deny NO_AGREEMENT' });
      expect(decision.agreementIds).toEqual(['agr-ps-ms-1']);
      expect(decision.masks).toEqual([{ path: ['person', 'address'], mask: 'ADDRESS' }]);
      expect(decision.released).toEqual([{ coordinate: 'Person.address', mask: 'ADDRESS' }, { coordinate: 'Person.name' }]);
      expect(decision.requested).toEqual(['Person.address', 'Person.birthDate', 'Person.name']);
      expect(decision.outcome).toBe('PARTIAL');
    });

    it('take the purpose from the token when the request states none', () => {
      const decision = decide({ query: PERSON_NAME, principal: { scopes, purpose: 'business-licensing' }, purpose: {}, agreements: [agreement()] });
      expect(at(decision, 'person.name').effect).toBe('allow');
    });

    it('where several agreements apply, the least masked wins, then the smallest id', () => {
      const masked = agreement({ id: 'agr-a', masks: { 'Person.name': 'NAME' } });
      const clear = agreement({ id: 'agr-b' });
      const other = agreement({ id: 'agr-c' });
      expect(at(decide({ query: PERSON_NAME, principal: { scopes }, agreements: [other, masked, clear] }), 'person.name')).toMatchObject({ effect: 'allow', agreementId: 'agr-b' });
      const maskedToo = agreement({ id: 'agr-0', masks: { 'Person.name': 'REDACT' } });
      expect(at(decide({ query: PERSON_NAME, principal: { scopes }, agreements: [masked, maskedToo] }), 'person.name')).toMatchObject({ mask: 'REDACT', agreementId: 'agr-0' });
    });

    it('without any agreement: NO_AGREEMENT, and the agreement to request names every such field of the provider', () => {
      const decision = decide({
        query: `{ person(idNumber: "1") { name address socialInsurance { insuredStatus } enterprises { name } } }`,
        purpose: { purpose: 'business-licensing' },
      });
      const name = at(decision, 'person.name');
      expect(name).toMatchObject({ effect: 'deny', reason: 'NO_AGREEMENT', bureau: PUBLIC_SECURITY });
      const request = {
        consumerBureau: MARKET_SUPERVISION,
        consumerApp: 'licensing-app',
        providerBureau: PUBLIC_SECURITY,
        fields: ['Person.address', 'Person.name'],
        suggestedMasks: { 'Person.address': 'ADDRESS', 'Person.name': 'NAME' },
        purpose: 'business-licensing',
        rowScope: 'ANY',
      };
      expect(name).toHaveProperty('wouldAllow', { request });
      expect(name.effect === 'deny' && name.message).toBe(
        'Person.name is shared only under an agreement, and public-security has none with market-supervision (app "licensing-app") that covers it; request one from public-security (Person.address, Person.name)',
      );
      expect(at(decision, 'person.socialInsurance')).toHaveProperty('wouldAllow.request', {
        consumerBureau: MARKET_SUPERVISION,
        consumerApp: 'licensing-app',
        providerBureau: HRSS,
        fields: ['Person.socialInsurance', 'SocialInsurance.insuredStatus'],
        suggestedMasks: {},
        purpose: 'business-licensing',
        rowScope: 'ANY',
      });
      // Market supervision reads its own Person.enterprises; a field below a denied one keeps its own, more telling reason.
      expect(summary(decision)).toMatchObject({ 'person.enterprises': 'allow', 'person.enterprises.name': 'allow', 'person.socialInsurance.insuredStatus': 'deny NO_AGREEMENT' });
      expect(decision.denied.map((denied) => denied.key)).toEqual(['person.name', 'person.address', 'person.socialInsurance', 'person.socialInsurance.insuredStatus']);
    });

    it.each<[DenyReason, Partial<Agreement>, Partial<Principal>, RequestPurpose, 'agreement' | 'request', string]>([
      ['APP_MISMATCH', { consumerApp: 'other-app' }, { scopes }, { purpose: 'business-licensing' }, 'request', `agreement agr-ps-ms-1 lets market-supervision's app "other-app" read Person.name, not the app "licensing-app"; request an agreement for this app from public-security (Person.name)`],
      ['AGREEMENT_NOT_ACTIVE', { status: 'PENDING' }, { scopes }, { purpose: 'business-licensing' }, 'agreement', `agreement agr-ps-ms-1 for Person.name is PENDING, not ACTIVE; it needs public-security's approval`],
      ['AGREEMENT_NOT_ACTIVE', { status: 'REVOKED' }, { scopes }, { purpose: 'business-licensing' }, 'request', `agreement agr-ps-ms-1 for Person.name is REVOKED, not ACTIVE; request a new one from public-security (Person.name)`],
      ['EXPIRED', { status: 'EXPIRED' }, { scopes }, { purpose: 'business-licensing' }, 'request', `agreement agr-ps-ms-1 for Person.name has expired; request a new one from public-security (Person.name)`],
      ['NOT_YET_VALID', { validFrom: '2026-06-01T00:00:00Z' }, { scopes }, { purpose: 'business-licensing' }, 'agreement', 'agreement agr-ps-ms-1 for Person.name is in force only from 2026-06-01T00:00:00Z'],
      ['EXPIRED', { validUntil: '2026-03-01T08:00:00Z' }, { scopes }, { purpose: 'business-licensing' }, 'request', 'agreement agr-ps-ms-1 for Person.name expired at 2026-03-01T08:00:00Z; request a new one from public-security (Person.name)'],
      ['SCOPE_MISSING', {}, { scopes: ['ps.other'] }, { purpose: 'business-licensing' }, 'agreement', 'agreement agr-ps-ms-1 covers Person.name; the token lacks its scope "ps.person.basic"'],
      ['PURPOSE_MISSING', {}, { scopes }, {}, 'agreement', 'agreement agr-ps-ms-1 covers Person.name for the purpose "business-licensing"; the request states no purpose'],
      ['PURPOSE_MISMATCH', {}, { scopes, purpose: 'business-licensing' }, { purpose: 'marketing' }, 'agreement', 'agreement agr-ps-ms-1 covers Person.name for the purpose "business-licensing", not "marketing"'],
      ['SELF_SCOPE', { rowScope: 'SELF' }, { scopes }, { purpose: 'business-licensing' }, 'agreement', "agreement agr-ps-ms-1 covers Person.name only on the signed-in citizen's own record, with a token that names the citizen"],
    ])('a near-miss agreement gives %s, with what would allow the field', (reason, terms, who, purpose, kind, message) => {
      const decision = decide({ query: PERSON_NAME, principal: who, purpose, agreements: [agreement(terms)] });
      const name = at(decision, 'person.name');
      expect(name).toMatchObject({ effect: 'deny', reason, message });
      if (kind === 'agreement') expect(name).toHaveProperty('wouldAllow', { agreementId: 'agr-ps-ms-1', scope: 'ps.person.basic', purpose: 'business-licensing' });
      else expect(name).toHaveProperty('wouldAllow.request.fields', ['Person.name']);
      expect(decision.denied).toHaveLength(1);
    });

    it('names the near-miss that got furthest: an agreement in force that needs a scope beats an expired one and another app', () => {
      const agreements = [
        agreement({ id: 'agr-1', consumerApp: 'other-app' }),
        agreement({ id: 'agr-2', validUntil: '2026-02-01T00:00:00Z' }),
        agreement({ id: 'agr-3', scope: 'ps.person.name' }),
        agreement({ id: 'agr-4', consumerBureau: HRSS }),
      ];
      const name = at(decide({ query: PERSON_NAME, agreements, principal: { scopes } }), 'person.name');
      expect(name).toMatchObject({ reason: 'SCOPE_MISSING', wouldAllow: { agreementId: 'agr-3', scope: 'ps.person.name' } });
      // Agreements of other consumers or providers, or for other fields, are no near-miss at all.
      const unrelated = [agreement({ consumerBureau: HRSS }), agreement({ providerBureau: MARKET_SUPERVISION }), agreement({ fields: ['Person.address'] })];
      expect(at(decide({ query: PERSON_NAME, agreements: unrelated, principal: { scopes } }), 'person.name')).toMatchObject({ reason: 'NO_AGREEMENT' });
    });

    it('an invalid clock or validity window denies rather than allows', () => {
      expect(at(decide({ query: PERSON_NAME, agreements: [agreement()], principal: { scopes }, now: new Date(Number.NaN) }), 'person.name')).toMatchObject({ reason: 'NOT_YET_VALID' });
      expect(at(decide({ query: PERSON_NAME, agreements: [agreement({ validUntil: 'soon' })], principal: { scopes } }), 'person.name')).toMatchObject({ reason: 'EXPIRED' });
    });
  });

  describe('SELF scope: a citizen token reads only the citizen', () => {
    const citizen: Partial<Principal> = { bureau: 'one-stop-service', app: 'citizen-app', roles: ['citizen'], citizen: CITIZEN, scopes: ['ps.self'] };
    const selfAgreement = agreement({
      id: 'agr-self',
      consumerBureau: 'one-stop-service',
      consumerApp: 'citizen-app',
      fields: ['Person.name', 'Person.address'],
      rowScope: 'SELF',
      scope: 'ps.self',
      purpose: 'citizen-self-service',
    });
    const purpose = { purpose: 'citizen-self-service' };

    it('allows the citizen’s own record, by a single key or a list of keys, through SELF agreements', () => {
      const decision = decide({
        query: `query($me: ID!) { me: person(idNumber: $me) { name address } all: persons(idNumbers: [$me, "${CITIZEN}"]) { name } }`,
        variables: { me: CITIZEN },
        principal: citizen,
        purpose,
        agreements: [selfAgreement],
      });
      expect(summary(decision)).toEqual({ me: 'allow', 'me.name': 'allow', 'me.address': 'allow', all: 'allow', 'all.name': 'allow' });
      expect(decision.agreementIds).toEqual(['agr-self']);
    });

    it('denies someone else’s record as a whole, its subtree with it', () => {
      const decision = decide({
        query: `query($ids: [ID!]!) { other: person(idNumber: "${OTHER_PERSON}") { name idNumber } mixed: persons(idNumbers: $ids) { name } }`,
        variables: { ids: [CITIZEN, OTHER_PERSON] },
        principal: citizen,
        purpose,
        agreements: [selfAgreement],
      });
      expect(summary(decision)).toEqual({
        other: 'deny SELF_SCOPE',
        'other.name': 'deny SELF_SCOPE',
        'other.idNumber': 'deny PARENT_DENIED',
        mixed: 'deny SELF_SCOPE',
        'mixed.name': 'deny SELF_SCOPE',
      });
      const other = at(decision, 'other');
      expect(other.effect === 'deny' && other.message).toBe(
        "a citizen's token reads only the citizen's own record; Query.person here is not keyed by the signed-in citizen",
      );
      // The message names no one.
      expect(JSON.stringify(decision.denied)).not.toContain(OTHER_PERSON);
      expect(print(printPlan(inputOf({ query: `{ other: person(idNumber: "${OTHER_PERSON}") { name } }` }).plan, keepAllowed(decision)))).toBe('{\n  __typename\n}');
      expect(decision.outcome).toBe('DENIED');
    });

    it('denies an enterprise lookup, and any root, to a citizen token, OPEN fields or not', () => {
      const decision = decide({ query: `{ enterprise(creditCode: "${CREDIT_CODE}") { name } enterprises(creditCodes: []) { name } }`, principal: citizen, purpose });
      expect(summary(decision)).toEqual({
        enterprise: 'deny SELF_SCOPE',
        'enterprise.name': 'deny PARENT_DENIED',
        enterprises: 'deny SELF_SCOPE',
        'enterprises.name': 'deny PARENT_DENIED',
      });
    });

    it('asks for a SELF agreement where a citizen token lacks one', () => {
      const decision = decide({ query: `{ person(idNumber: "${CITIZEN}") { name gender } }`, principal: citizen, purpose });
      expect(at(decision, 'person.gender')).toHaveProperty('wouldAllow.request', expect.objectContaining({ rowScope: 'SELF', fields: ['Person.gender', 'Person.name'], consumerApp: 'citizen-app' }));
    });

    it('an empty list of keys names no one, so it is not the citizen either', () => {
      const decision = decide({ query: `{ persons(idNumbers: []) { idNumber } }`, principal: citizen });
      expect(at(decision, 'persons')).toMatchObject({ reason: 'SELF_SCOPE' });
    });

    it('a citizen role without a citizen claim reads no one', () => {
      const decision = decide({ query: `{ person(idNumber: "${CITIZEN}") { idNumber } }`, principal: { ...citizen, citizen: undefined } });
      expect(at(decision, 'person')).toMatchObject({ reason: 'SELF_SCOPE' });
    });

    it('a citizen claim makes the token a citizen token, whatever its roles', () => {
      const decision = decide({ query: `{ person(idNumber: "${OTHER_PERSON}") { idNumber } }`, principal: { ...citizen, roles: ['developer'] } });
      expect(at(decision, 'person')).toMatchObject({ reason: 'SELF_SCOPE' });
    });

    it('SELF agreements do not apply to tokens without a citizen, ANY agreements apply to citizens', () => {
      const developer = decide({ query: PERSON_NAME, principal: { ...citizen, roles: ['developer'], citizen: undefined }, purpose, agreements: [selfAgreement] });
      expect(at(developer, 'person.name')).toMatchObject({ reason: 'SELF_SCOPE', wouldAllow: { agreementId: 'agr-self' } });
      const any = decide({ query: `{ person(idNumber: "${CITIZEN}") { name } }`, principal: citizen, purpose, agreements: [{ ...selfAgreement, rowScope: 'ANY' }] });
      expect(at(any, 'person.name').effect).toBe('allow');
    });
  });

  describe('totality', () => {
    it('denies fields the catalogue does not know, and root fields it does not serve', () => {
      const decision = decideOperation({
        ...inputOf({ query: PERSON_NAME }),
        catalogue: { ...demoCatalogue(), fields: new Map(), rootFields: new Map() },
      });
      expect(summary(decision)).toEqual({ person: 'deny UNKNOWN_FIELD', 'person.name': 'deny UNKNOWN_FIELD' });
    });

    it('decides without throwing on a principal and agreements that break their types', () => {
      const broken = {
        ...inputOf({ query: PERSON_NAME }),
        principal: { issuer: 'x', subject: 'y' } as unknown as Principal,
        agreements: [{ id: 'agr-x', consumerBureau: MARKET_SUPERVISION, providerBureau: PUBLIC_SECURITY } as unknown as Agreement],
      };
      expect(summary(decideOperation(broken))).toEqual({ person: 'deny NO_BUREAU', 'person.name': 'deny NO_BUREAU' });
      const noFields = { ...inputOf({ query: PERSON_NAME }), agreements: [{ ...agreement(), fields: undefined } as unknown as Agreement] };
      expect(summary(decideOperation(noFields))).toMatchObject({ 'person.name': 'deny NO_AGREEMENT' });
      const oddMask = { ...inputOf({ query: PERSON_NAME, principal: { scopes: ['ps.person.basic'] } }), agreements: [agreement({ masks: { 'Person.name': 'BLUR' as never } })] };
      expect(summary(decideOperation(oddMask))).toMatchObject({ 'person.name': 'mask REDACT' });
    });

    it('has a message for every deny reason', () => {
      const seen = new Set<DenyReason>();
      const record = (decision: OperationDecision): void => {
        for (const denied of decision.denied) {
          expect(denied.message.length).toBeGreaterThan(20);
          seen.add(denied.reason);
        }
      };
      record(decide({ query: PERSON_NAME, principal: { bureau: '' } }));
      record(decide({ query: PERSON_NAME, principal: { bureau: PUBLIC_SECURITY, roles: [] } }));
      record(decideOperation({ ...inputOf({ query: PERSON_NAME }), catalogue: { ...demoCatalogue(), fields: new Map() } }));
      record(decide({ query: `{ person(idNumber: "1") { householdId socialInsurance { __typename } } }` }));
      record(decide({ query: PERSON_NAME, principal: { citizen: CITIZEN } }));
      for (const terms of [{ consumerApp: 'x' }, { status: 'PENDING' as const }, { status: 'EXPIRED' as const }, { validFrom: '2027-01-01T00:00:00Z' }, { rowScope: 'SELF' as const }, {}]) {
        record(decide({ query: PERSON_NAME, agreements: [agreement(terms)], principal: { scopes: 'rowScope' in terms ? ['ps.person.basic'] : [] } }));
      }
      record(decide({ query: PERSON_NAME, agreements: [agreement()], principal: { scopes: ['ps.person.basic'] }, purpose: {} }));
      record(decide({ query: PERSON_NAME, agreements: [agreement()], principal: { scopes: ['ps.person.basic'] }, purpose: { purpose: 'x' } }));
      for (const caseId of [undefined, 'MZ-1']) record(decide({ query: PERSON_NAME, agreements: [agreement({ caseId: { required: true, format: '^GA-\\d{6}$' } })], principal: { scopes: ['ps.person.basic'] }, purpose: { purpose: 'business-licensing', ...(caseId ? { caseId } : {}) } }));
      record(decideOperation({ ...inputOf({ query: PERSON_NAME, principal: { scopes: ['ps.person.basic'] } }), agreements: [agreement({ operations: [`sha256:${'a'.repeat(64)}`] })], operationHash: `sha256:${'b'.repeat(64)}` }));
      expect([...seen].sort()).toEqual([...DENY_REASONS].sort());
    });
  });
});
