import { execute, parse, print, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { CITIZEN, CREDIT_CODE, HRSS, MARKET_SUPERVISION, NOW, PUBLIC_SECURITY, agreement, demoCatalogue, demoClientSchema, principal } from '../test/support/policy-fixtures.ts';
import type { Agreement } from './agreement.ts';
import { createEnforcer, type AgreementsInForce, type Enforcement, type OperationFacts, type PresentedOperation } from './enforce.ts';
import type { Principal } from './principal.ts';
import type { StatedPurpose } from './request-purpose.ts';

// Enforcement as a pure function: request facts in, an executable document
// and a presenter out. The executor here is graphql-js over made-up records,
// so what is asserted is what enforcement did to the document, the result
// and the access log's record — no server, no bureau.

const LATER = new Date(NOW.getTime() + 1_250);
const NAME = '李华';
const ADDRESS = '浙江省嘉兴市南湖区中山路128号3幢502室';
const ENTERPRISE_NAME = '嘉兴示例科技有限公司';

/** Every person is one made-up resident with one enterprise, whatever is asked. */
const rootValue = {
  person: ({ idNumber }: { idNumber: string }) => ({
    idNumber,
    name: NAME,
    address: ADDRESS,
    householdId: 'HH-0001',
    enterprises: [{ creditCode: CREDIT_CODE, name: ENTERPRISE_NAME, legalRepresentativeId: idNumber }],
    socialInsurance: { insuredStatus: 'ACTIVE', contributionMonths: 120 },
  }),
};

const partial = createEnforcer({ schema: demoClientSchema(), catalogue: demoCatalogue(), denyWholeOperation: false });
const whole = createEnforcer({ schema: demoClientSchema(), catalogue: demoCatalogue(), denyWholeOperation: true });

function inForce(...agreements: Agreement[]): AgreementsInForce {
  return { agreements: Object.freeze(agreements), byId: new Map(agreements.map((one) => [one.id, one])) };
}

interface Case {
  readonly query: string | DocumentNode;
  readonly principal?: Partial<Principal>;
  readonly stated?: StatedPurpose;
  readonly agreements?: readonly Agreement[];
  readonly variables?: Record<string, unknown>;
}

function factsOf(input: Case): OperationFacts {
  return {
    principal: principal(input.principal),
    stated: input.stated ?? {},
    document: typeof input.query === 'string' ? parse(input.query) : input.query,
    variables: input.variables ?? { id: CITIZEN },
    agreements: inForce(...(input.agreements ?? [])),
    now: NOW,
  };
}

function executable(enforced: Enforcement): Extract<Enforcement, { kind: 'execute' }> {
  if (enforced.kind !== 'execute') throw new Error(`expected an executable operation, got ${enforced.kind}`);
  return enforced;
}

/** Enforces, executes what enforcement hands back over the made-up records, and presents the result at {@link LATER}. */
function run(input: Case, enforcer = partial): PresentedOperation & { readonly document: DocumentNode } {
  const facts = factsOf(input);
  const enforced = executable(enforcer.enforce(facts));
  const result = execute({ schema: demoClientSchema(), document: enforced.document, rootValue, variableValues: facts.variables });
  if ('then' in result) throw new Error('the made-up execution is synchronous');
  expect(result.errors).toBeUndefined();
  return { ...enforced.present({ data: result.data, upstreamFailures: [] }, LATER), document: enforced.document };
}

const nameAgreement = agreement({ fields: ['Person.name', 'Person.address'], masks: { 'Person.address': 'ADDRESS' } });
const licensing = { principal: { scopes: ['ps.person.basic'] }, stated: { purpose: 'business-licensing' }, agreements: [nameAgreement] } satisfies Partial<Case>;

describe('enforce: one operation, from the request to the client and the log', () => {
  describe('a denied field', () => {
    it('is not fetched, comes back null with one FORBIDDEN naming field, bureau, reason and the agreement to request, and is in the record with its path and reason', () => {
      const presented = run({ query: 'query Check($id: ID!) { person(idNumber: $id) { idNumber name } }' });
      expect(print(presented.document)).not.toMatch(/\bname\b/);
      expect(presented.data).toEqual({ person: { idNumber: '330402********1234', name: null } });
      expect(presented.withheld).toEqual([
        {
          code: 'FORBIDDEN',
          message: expect.stringContaining('Person.name'),
          path: ['person', 'name'],
          fields: ['Person.name'],
          bureau: PUBLIC_SECURITY,
          reason: 'NO_AGREEMENT',
          wouldAllow: { request: expect.objectContaining({ consumerBureau: MARKET_SUPERVISION, providerBureau: PUBLIC_SECURITY, fields: ['Person.name'] }) },
        },
      ]);
      expect(presented.record).toEqual({
        occurredAt: LATER,
        consumerBureau: MARKET_SUPERVISION,
        clientApp: 'licensing-app',
        roles: ['developer'],
        agreementIds: [],
        providerBureaus: [PUBLIC_SECURITY],
        fieldsRequested: ['Person.idNumber', 'Person.name'],
        fieldsReturned: [{ coordinate: 'Person.idNumber', mask: 'ID_NUMBER' }],
        denied: [{ coordinate: 'Person.name', path: 'person.name', reason: 'NO_AGREEMENT' }],
        // The client got the ID number masked; the log names the subject in full.
        subjects: [{ kind: 'person', id: CITIZEN }],
        rowCounts: { [PUBLIC_SECURITY]: 1 },
        upstreamErrors: [],
        operationName: 'Check',
        outcome: 'PARTIAL',
      });
    });

    it('is reported once, at the top of its subtree; the record lists every denied field below it too', () => {
      const presented = run({ query: 'query($id: ID!) { person(idNumber: $id) { socialInsurance { insuredStatus } } }' });
      expect(presented.data).toEqual({ person: { socialInsurance: null } });
      expect(presented.withheld.map((withheld) => [withheld.path.join('.'), withheld.reason])).toEqual([['person.socialInsurance', 'NO_AGREEMENT']]);
      expect(presented.record?.denied).toEqual([
        { coordinate: 'Person.socialInsurance', path: 'person.socialInsurance', reason: 'NO_AGREEMENT' },
        // Its own rules deny it already, with the more telling reason.
        { coordinate: 'SocialInsurance.insuredStatus', path: 'person.socialInsurance.insuredStatus', reason: 'NO_AGREEMENT' },
      ]);
      // Public security served the root; the refused attempt is audited by the bureau it targeted too.
      expect(presented.record?.providerBureaus).toEqual([HRSS, PUBLIC_SECURITY]);
    });
  });

  describe('masks and subjects', () => {
    it('applies the agreement’s masks, releases the rest clear, names each mask in the record, and reads the subjects from keys the client never sees', () => {
      const presented = run({ ...licensing, query: 'query($id: ID!) { person(idNumber: $id) { name address enterprises { name } } }' });
      expect(presented.withheld).toEqual([]);
      // The gateway selected the keys to learn whose records these are ...
      expect(print(presented.document)).toMatch(/idNumber/);
      expect(print(presented.document)).toMatch(/creditCode/);
      // ... and the client gets exactly the keys it asked for, masked where the agreement says.
      expect(presented.data).toEqual({ person: { name: NAME, address: '浙江省嘉兴市南湖区', enterprises: [{ name: ENTERPRISE_NAME }] } });
      expect(presented.record).toMatchObject({
        purpose: 'business-licensing',
        agreementIds: [nameAgreement.id],
        fieldsReturned: [{ coordinate: 'Enterprise.name' }, { coordinate: 'Person.address', mask: 'ADDRESS' }, { coordinate: 'Person.enterprises' }, { coordinate: 'Person.name' }],
        subjects: [
          { kind: 'person', id: CITIZEN },
          { kind: 'enterprise', id: CREDIT_CODE },
        ],
        // Market supervision's own fields are not a cross-bureau release.
        rowCounts: { [PUBLIC_SECURITY]: 1 },
        outcome: 'ALLOWED',
      });
    });

    it('records the longest disclosure delay among the agreements used, counted from the read', () => {
      const delayed = agreement({ id: 'agr-ps-ms-2', fields: ['Person.address'], disclosureDelay: { days: 90, legalReason: '案件侦查期间不予告知' } });
      const shorter = { ...nameAgreement, fields: ['Person.name'], disclosureDelay: { days: 30, legalReason: '短期' } };
      const presented = run({ ...licensing, agreements: [shorter, delayed], query: 'query($id: ID!) { person(idNumber: $id) { name address } }' });
      expect(presented.record?.agreementIds).toEqual([shorter.id, delayed.id]);
      expect(presented.record?.disclosure).toEqual({ hiddenUntil: new Date(LATER.getTime() + 90 * 86_400_000), legalReason: '案件侦查期间不予告知' });
    });
  });

  describe('the outcome the log records', () => {
    const personName = 'query($id: ID!) { person(idNumber: $id) { name } }';

    it('ALLOWED when nothing is withheld, PARTIAL when some data is, DENIED when every data field is', () => {
      expect(run({ ...licensing, query: personName }).record?.outcome).toBe('ALLOWED');
      expect(run({ ...licensing, query: 'query($id: ID!) { person(idNumber: $id) { name gender } }' }).record?.outcome).toBe('PARTIAL');
      const denied = run({ query: personName });
      expect(denied.data).toEqual({ person: { name: null } });
      expect(denied.record).toMatchObject({ outcome: 'DENIED', fieldsReturned: [], rowCounts: {} });
    });

    it('DENIED when the gateway refuses the whole operation: nothing to execute, nothing released, the attempt recorded', () => {
      const enforced = whole.enforce(factsOf({ query: 'query($id: ID!) { person(idNumber: $id) { idNumber name } }' }));
      if (enforced.kind !== 'refused') throw new Error(`expected a refusal, got ${enforced.kind}`);
      expect(enforced.decided.outcome).toBe('DENIED');
      expect(enforced.withheld).toEqual([expect.objectContaining({ code: 'FORBIDDEN', path: ['person', 'name'], reason: 'NO_AGREEMENT' })]);
      expect(enforced.record).toMatchObject({
        occurredAt: NOW,
        outcome: 'DENIED',
        // Person.idNumber would have been released, but nothing was: the operation never ran.
        fieldsRequested: ['Person.idNumber', 'Person.name'],
        fieldsReturned: [],
        agreementIds: [],
        denied: [{ coordinate: 'Person.name', path: 'person.name', reason: 'NO_AGREEMENT' }],
        subjects: [],
        rowCounts: {},
      });
      // Nothing denied: executed as with partial results.
      expect(run({ ...licensing, query: personName }, whole).record?.outcome).toBe('ALLOWED');
    });

    it('FAILED when bureaus failed and no data came back; otherwise the decision’s outcome, without the failed bureau’s fields', () => {
      const insurance = agreement({ id: 'agr-hrss-ms-1', providerBureau: HRSS, fields: ['Person.socialInsurance', 'SocialInsurance.insuredStatus'], scope: 'hrss.insurance' });
      const input = {
        query: 'query($id: ID!) { person(idNumber: $id) { name socialInsurance { insuredStatus } } }',
        principal: { scopes: ['ps.person.basic', 'hrss.insurance'] },
        stated: { purpose: 'business-licensing' },
        agreements: [nameAgreement, insurance],
      };
      const enforced = executable(partial.enforce(factsOf(input)));
      const timeout = [{ bureau: HRSS, reason: 'timeout' }];

      const nothing = enforced.present({ data: null, upstreamFailures: timeout }, LATER);
      expect(nothing.data).toBeNull();
      expect(nothing.record).toMatchObject({ outcome: 'FAILED', upstreamErrors: timeout });

      const some = enforced.present({ data: { person: { idNumber: CITIZEN, name: NAME, socialInsurance: null } }, upstreamFailures: timeout }, LATER);
      expect(some.data).toEqual({ person: { name: NAME, socialInsurance: null } });
      expect(some.record).toMatchObject({ outcome: 'ALLOWED', upstreamErrors: timeout, fieldsReturned: [{ coordinate: 'Person.name' }], rowCounts: { [PUBLIC_SECURITY]: 1 } });
    });

    it('records a bureau’s own read of personal or HIGH fields, as any cross-bureau read', () => {
      const own = run({ query: 'query($id: ID!) { person(idNumber: $id) { name householdId } }', principal: { bureau: PUBLIC_SECURITY } });
      expect(own.data).toEqual({ person: { name: NAME, householdId: 'HH-0001' } });
      expect(own.record).toMatchObject({
        consumerBureau: PUBLIC_SECURITY,
        providerBureaus: [PUBLIC_SECURITY],
        fieldsReturned: [{ coordinate: 'Person.householdId' }, { coordinate: 'Person.name' }],
        agreementIds: [],
        outcome: 'ALLOWED',
      });
    });

    it('lets a bureau turn the logging of its own reads off in its manifest (logOwnReads: false)', () => {
      const catalogue = demoCatalogue();
      const bureaus = new Map(catalogue.bureaus);
      bureaus.set(PUBLIC_SECURITY, { ...bureaus.get(PUBLIC_SECURITY)!, logOwnReads: false });
      const quiet = createEnforcer({ schema: demoClientSchema(), catalogue: { ...catalogue, bureaus }, denyWholeOperation: false });
      const own = run({ query: 'query($id: ID!) { person(idNumber: $id) { name householdId } }', principal: { bureau: PUBLIC_SECURITY } }, quiet);
      expect(own.data).toEqual({ person: { name: NAME, householdId: 'HH-0001' } });
      expect(own.record).toBeUndefined();
    });

    it('a token without a role reads none of its own bureau’s data, and the attempt is recorded', () => {
      const roleless = run({ query: 'query($id: ID!) { person(idNumber: $id) { name address householdId } }', principal: { bureau: PUBLIC_SECURITY, roles: [] } });
      expect(roleless.data).toEqual({ person: { name: null, address: null, householdId: null } });
      expect(roleless.withheld.map((withheld) => [withheld.path.join('.'), withheld.reason])).toEqual([
        ['person.name', 'NO_ROLE'],
        ['person.address', 'NO_ROLE'],
        ['person.householdId', 'NO_ROLE'],
      ]);
      expect(roleless.record).toMatchObject({ consumerBureau: PUBLIC_SECURITY, fieldsReturned: [], outcome: 'DENIED' });
    });
  });

  describe('purpose and input', () => {
    const personName = 'query($id: ID!) { person(idNumber: $id) { name } }';

    it('refuses a malformed purpose or case id as coded data, naming the header, never the value', () => {
      for (const [stated, reason, field] of [
        [{ purpose: 'Business Licensing' }, 'PURPOSE_INVALID', 'purpose'],
        [{ purpose: 'business-licensing', caseId: 'case 17; drop' }, 'CASE_ID_INVALID', 'caseId'],
      ] as const) {
        const enforced = partial.enforce(factsOf({ ...licensing, stated, query: personName }));
        expect(enforced).toEqual({ kind: 'invalid', problem: { code: 'BAD_USER_INPUT', reason, field, message: expect.stringMatching(/^x-isthmus-/) } });
        if (enforced.kind === 'invalid') for (const value of Object.values(stated)) if (value !== 'business-licensing') expect(enforced.problem.message).not.toContain(value);
      }
    });

    it('takes the token’s purpose, a header only where the token has none, and carries the case id into the record', () => {
      const stated = run({ ...licensing, stated: { purpose: 'business-licensing', caseId: 'SC-2026-0042' }, query: personName });
      expect(stated.record).toMatchObject({ purpose: 'business-licensing', caseId: 'SC-2026-0042', outcome: 'ALLOWED' });
      const repeated = run({ ...licensing, principal: { ...licensing.principal, purpose: 'business-licensing', caseId: 'SC-2026-0042' }, stated: { purpose: 'business-licensing', caseId: 'SC-2026-0042' }, query: personName });
      expect(repeated.record).toMatchObject({ purpose: 'business-licensing', caseId: 'SC-2026-0042' });
      // A header never overrides the issuer: one that disagrees with the token is refused before anything is decided.
      for (const [claims, header, reason] of [
        [{ purpose: 'tax-review' }, { purpose: 'business-licensing' }, 'PURPOSE_CONFLICT'],
        [{ purpose: 'business-licensing', caseId: 'SC-2026-0001' }, { caseId: 'SC-2026-0042' }, 'CASE_ID_CONFLICT'],
      ] as const) {
        expect(partial.enforce(factsOf({ ...licensing, principal: { ...licensing.principal, ...claims }, stated: header, query: personName }))).toMatchObject({ kind: 'invalid', problem: { code: 'BAD_USER_INPUT', reason } });
      }
      const claimed = run({ ...licensing, principal: { ...licensing.principal, purpose: 'business-licensing' }, stated: { purpose: null, caseId: null }, query: personName });
      expect(claimed.record).toMatchObject({ purpose: 'business-licensing', outcome: 'ALLOWED' });
      expect(claimed.record).not.toHaveProperty('caseId');
    });

    it('refuses an operation it cannot plan, naming what to fix', () => {
      expect(partial.enforce(factsOf({ query: personName, variables: {} }))).toMatchObject({ kind: 'invalid', problem: { code: 'BAD_USER_INPUT', reason: 'VARIABLE_MISSING', field: 'variables' } });
      expect(partial.enforce(factsOf({ query: `${personName} query Other { __typename }` }))).toMatchObject({ kind: 'invalid', problem: { reason: 'OPERATION_NAME_REQUIRED', field: 'query' } });
    });
  });

  it('builds the executable document once per client document and set of kept fields', () => {
    const document = parse('query($id: ID!) { person(idNumber: $id) { name address } }');
    const allowed = () => executable(partial.enforce(factsOf({ ...licensing, query: document }))).document;
    const pruned = () => executable(partial.enforce(factsOf({ query: document }))).document;
    expect(allowed()).toBe(allowed());
    expect(pruned()).toBe(pruned());
    expect(pruned()).not.toBe(allowed());
  });

  it('decide tells explain what enforce does: the same purpose, decision and outcome', () => {
    const facts = factsOf({ ...licensing, query: 'query($id: ID!) { person(idNumber: $id) { name householdId } }' });
    for (const enforcer of [partial, whole]) {
      const decided = enforcer.decide(facts);
      const enforced = enforcer.enforce(facts);
      if (decided.kind !== 'decided' || enforced.kind === 'invalid') throw new Error('expected a decision');
      expect(decided.decided.outcome).toBe(enforced.decided.outcome);
      expect(decided.decided.withheld).toEqual(enforced.decided.withheld);
      expect(enforced.kind).toBe(enforcer === whole ? 'refused' : 'execute');
    }
    expect(partial.decide(factsOf({ ...licensing, stated: { purpose: 'Business' }, query: 'query($id: ID!) { person(idNumber: $id) { name } }' }))).toMatchObject({ kind: 'invalid' });
  });
});
