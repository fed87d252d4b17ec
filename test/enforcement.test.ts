import { SignJWT } from 'jose';
import { signingKeys as keyPair, type SigningKeys as Keys } from './support/signing-keys.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCity } from '../examples/data/generate-city.ts';
import { sampleResident } from '../examples/demo-city.ts';
import { DEMO_CONSUMERS } from '../examples/demo-agreements.ts';
import { startTestCity, type GraphqlReply, type TestCity } from './support/test-city.ts';
import { bearer, countingCalls, HRSS, NO_CALLS } from './support/upstream-calls.ts';

/**
 * Issue #3 end to end: real bureaus, a real gateway over HTTP, real signed
 * tokens, the demo's agreements in a real store. One city serves the whole
 * file; no test here changes an agreement, so they do not depend on order.
 */

const city = demoCity();
/** Represents an enterprise and has a social insurance account. */
const me = sampleResident(city);
const myAccount = city.insuranceAccounts.find((account) => account.idNumber === me.idNumber)!;
const myEnterprise = city.enterprises.find((enterprise) => enterprise.legalRepresentativeId === me.idNumber)!;
const other = city.persons.find((person) => person.idNumber !== me.idNumber && city.insuranceAccounts.some((account) => account.idNumber === person.idNumber))!;
const insuredEmployees = (creditCode: string) =>
  city.insuranceAccounts.filter((account) => account.employerCreditCode === creditCode && account.insuredStatus === 'ACTIVE').length;

const { civilAffairs } = DEMO_CONSUMERS;
const PURPOSE = 'x-isthmus-purpose';

/** `330402********1234`: six leading and four trailing characters kept. */
function idMasked(idNumber: string): string {
  return `${idNumber.slice(0, 6)}${'*'.repeat(idNumber.length - 10)}${idNumber.slice(-4)}`;
}

/** The FORBIDDEN errors of a reply, by response path. */
function forbiddenByPath(reply: GraphqlReply): Map<string, Record<string, any>> {
  const errors = reply.body.errors ?? [];
  for (const error of errors) expect(error.extensions.code, error.message).toBe('FORBIDDEN');
  return new Map(errors.map((error) => [(error.path ?? []).join('.'), error.extensions]));
}

/** A second trusted issuer, as a bureau's own SSO would be: a local key pair, its public key configured in ISTHMUS_ISSUERS. */
const SSO = 'https://sso.civil-affairs.example/realms/staff';
const SSO_KID = 'sso-2026-01';
const GATEWAY_AUDIENCE = 'isthmus-gateway';

/** A token in the shape the gateway's default claim names expect, for the civil-affairs reviewer. */
function reviewerToken(keys: Keys, overrides: { issuer?: string; audience?: string; expiresAt?: number; issuedAt?: number } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1_000);
  return new SignJWT({ bureau: civilAffairs.bureau, azp: civilAffairs.app, preferred_username: 'he.fang@civil-affairs', roles: ['developer'], scope: civilAffairs.scope })
    .setProtectedHeader({ alg: 'ES256', kid: SSO_KID, typ: 'JWT' })
    .setIssuer(overrides.issuer ?? SSO)
    .setAudience(overrides.audience ?? GATEWAY_AUDIENCE)
    .setSubject('he.fang@civil-affairs')
    .setIssuedAt(overrides.issuedAt ?? now)
    .setExpirationTime(overrides.expiresAt ?? now + 600)
    .sign(keys.privateKey);
}

const PERSON_NAME = 'query($id: ID!) { person(idNumber: $id) { idNumber name } }';

describe('enforcement of sharing agreements, end to end', () => {
  let testCity: TestCity;
  let sso: Keys;
  let rogue: Keys;
  /** Headers of principals the demo agreements do not name. */
  let marketSupervision: Record<string, string>;
  let publicSecurity: Record<string, string>;
  let hrss: Record<string, string>;
  let housingFund: Record<string, string>;
  let citizen: Record<string, string>;

  beforeAll(async () => {
    sso = await keyPair(SSO_KID);
    rogue = await keyPair(SSO_KID);
    testCity = await startTestCity({
      ISTHMUS_ISSUERS: JSON.stringify([{ issuer: SSO, audience: GATEWAY_AUDIENCE, algorithms: ['ES256'], keys: [sso.publicJwk] }]),
    });
    const staff = async (bureau: string, app: string, user: string) =>
      bearer(await testCity.token({ bureau, app, user, roles: ['developer'], ttl: '1h' }));
    marketSupervision = await staff('market-supervision', 'licensing-portal', 'qian.li@market-supervision');
    publicSecurity = await staff('public-security', 'household-registry', 'wang.lei@public-security');
    hrss = await staff(HRSS, 'pension-desk', 'li.na@hrss');
    housingFund = await staff('housing-fund', 'loan-review', 'zhao.qiang@housing-fund');
    citizen = await testCity.citizen(me.idNumber);
  }, 120_000);
  afterAll(async () => {
    await testCity?.close();
  });

  describe('authentication through the gateway', () => {
    async function expectUnauthenticated(headers: Record<string, string>, reason: string, token?: string): Promise<void> {
      const { result: response, calls } = await countingCalls(testCity, () =>
        fetch(`${testCity.gateway.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
          body: JSON.stringify({ query: PERSON_NAME, variables: { id: me.idNumber } }),
          signal: AbortSignal.timeout(10_000),
        }),
      );
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      const text = await response.text();
      const body = JSON.parse(text);
      expect(body.data).toBeUndefined();
      expect(body.errors).toHaveLength(1);
      expect(body.errors[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason });
      // Neither the token nor any of its parts (header, claims, signature) comes back.
      for (const part of [token, ...(token?.split('.') ?? [])]) if (part) expect(text).not.toContain(part);
      expect(text).not.toContain(me.idNumber);
      expect(calls).toEqual(NO_CALLS);
    }

    it('no token → 401 UNAUTHENTICATED, TOKEN_MISSING, and no bureau is called', async () => {
      await expectUnauthenticated({}, 'TOKEN_MISSING');
    });

    it('a token that is not a bearer token → 401 TOKEN_MALFORMED', async () => {
      const token = await reviewerToken(sso);
      await expectUnauthenticated({ authorization: `Basic ${token}` }, 'TOKEN_MALFORMED', token);
    });

    it('an expired token → 401 TOKEN_EXPIRED', async () => {
      const now = Math.floor(Date.now() / 1_000);
      // Well past the default 30 s clock tolerance.
      const token = await reviewerToken(sso, { issuedAt: now - 3_600, expiresAt: now - 600 });
      await expectUnauthenticated(bearer(token), 'TOKEN_EXPIRED', token);
    });

    it('a token for another audience → 401 AUDIENCE_MISMATCH', async () => {
      const token = await reviewerToken(sso, { audience: 'some-other-api' });
      await expectUnauthenticated(bearer(token), 'AUDIENCE_MISMATCH', token);
    });

    it('a token of an issuer the gateway does not trust → 401 ISSUER_UNKNOWN', async () => {
      const token = await reviewerToken(rogue, { issuer: 'https://sso.rogue.example' });
      await expectUnauthenticated(bearer(token), 'ISSUER_UNKNOWN', token);
    });

    it('a token naming a trusted issuer but signed with another key → 401 SIGNATURE_INVALID', async () => {
      const token = await reviewerToken(rogue);
      await expectUnauthenticated(bearer(token), 'SIGNATURE_INVALID', token);
    });

    it('a good token of the configured SSO → 200 with data under the agreement it carries', async () => {
      const reply = await testCity.graphql(PERSON_NAME, { id: me.idNumber }, { ...bearer(await reviewerToken(sso)), [PURPOSE]: civilAffairs.purpose });
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ data: { person: { idNumber: me.idNumber, name: me.name } } });
    });

    it('a good token of the dev issuer → 200', async () => {
      const reply = await testCity.graphql(PERSON_NAME, { id: me.idNumber });
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ data: { person: { idNumber: me.idNumber, name: me.name } } });
    });
  });

  describe('sharing categories', () => {
    it('OPEN: Enterprise.name is read by any government principal, with or without agreements', async () => {
      const query = 'query($code: ID!) { enterprise(creditCode: $code) { creditCode name status establishedOn } }';
      const expected = { creditCode: myEnterprise.creditCode, name: myEnterprise.name, status: myEnterprise.status, establishedOn: myEnterprise.establishedOn };
      const unscopedReviewer = bearer(await testCity.token({ bureau: civilAffairs.bureau, app: civilAffairs.app, user: 'he.fang@civil-affairs', ttl: '10m' }));
      for (const headers of [testCity.reviewer, unscopedReviewer, publicSecurity, hrss, housingFund]) {
        const reply = await testCity.graphql(query, { code: myEnterprise.creditCode }, headers);
        expect(reply.status).toBe(200);
        expect(reply.body).toEqual({ data: { enterprise: expected } });
      }
    });

    it('CONDITIONAL without an agreement: null, FORBIDDEN naming fields, bureau, reason and the request to make; the bureau is not called', async () => {
      const { result: reply, calls } = await countingCalls(testCity, () =>
        testCity.graphql('query($code: ID!) { enterprise(creditCode: $code) { name insuredEmployeeCount } }', { code: myEnterprise.creditCode }, marketSupervision),
      );
      expect(reply.body.data).toEqual({ enterprise: { name: myEnterprise.name, insuredEmployeeCount: null } });
      expect(reply.body.errors).toHaveLength(1);
      const [error] = reply.body.errors!;
      expect(error!.path).toEqual(['enterprise', 'insuredEmployeeCount']);
      expect(error!.extensions).toMatchObject({
        code: 'FORBIDDEN',
        fields: ['Enterprise.insuredEmployeeCount'],
        bureau: HRSS,
        reason: 'NO_AGREEMENT',
        wouldAllow: {
          request: {
            consumerBureau: 'market-supervision',
            consumerApp: 'licensing-portal',
            providerBureau: HRSS,
            fields: ['Enterprise.insuredEmployeeCount'],
            rowScope: 'ANY',
          },
        },
      });
      expect(error!.message).toContain(HRSS);
      // market supervision serves the enterprise; the SQL bureau holding the denied field is never asked.
      expect(calls).toEqual({ ...NO_CALLS, 'market-supervision': 1 });
    });

    it('CONDITIONAL without an agreement, another bureau below the root: that bureau is not called', async () => {
      const { result: reply, calls } = await countingCalls(testCity, () =>
        testCity.graphql('query($id: ID!) { person(idNumber: $id) { name enterprises { name } socialInsurance { insuredStatus } } }', { id: me.idNumber }, publicSecurity),
      );
      expect(reply.body.data).toEqual({ person: { name: me.name, enterprises: null, socialInsurance: null } });
      expect(calls).toEqual({ ...NO_CALLS, 'public-security': 1 });
      const errors = forbiddenByPath(reply);
      expect(errors.get('person.enterprises')).toMatchObject({ fields: ['Person.enterprises'], bureau: 'market-supervision', reason: 'NO_AGREEMENT' });
      expect(errors.get('person.socialInsurance')).toMatchObject({ fields: ['Person.socialInsurance'], bureau: HRSS, reason: 'NO_AGREEMENT' });
      // One error per denied path: nothing more for insuredStatus, inside the denied socialInsurance (null in the data).
      expect([...errors.keys()].sort()).toEqual(['person.enterprises', 'person.socialInsurance']);
    });

    it('CONDITIONAL with the agreement: the reviewer reads all three bureaus, each called once', async () => {
      const { result: reply, calls } = await countingCalls(testCity, () =>
        testCity.graphql(
          `query($id: ID!) { person(idNumber: $id) {
            name gender birthDate
            socialInsurance { insuredStatus contributionMonths monthlyBase }
            enterprises { creditCode registeredCapital insuredEmployeeCount }
          } }`,
          { id: me.idNumber },
        ),
      );
      expect(reply.status).toBe(200);
      expect(reply.body.errors).toBeUndefined();
      const person = reply.body.data.person;
      expect(person).toMatchObject({ name: me.name, gender: me.gender, birthDate: me.birthDate });
      expect(person.socialInsurance).toEqual({ insuredStatus: myAccount.insuredStatus, contributionMonths: myAccount.contributionMonths, monthlyBase: myAccount.monthlyBaseYuan });
      const mine = city.enterprises.filter((enterprise) => enterprise.legalRepresentativeId === me.idNumber);
      expect(person.enterprises).toHaveLength(mine.length);
      for (const enterprise of person.enterprises) {
        const registered = mine.find((each) => each.creditCode === enterprise.creditCode)!;
        expect(enterprise).toEqual({ creditCode: registered.creditCode, registeredCapital: registered.registeredCapital, insuredEmployeeCount: insuredEmployees(registered.creditCode) });
      }
      // person → public security; enterprises → market supervision; the SQL bureau once for insurance, once for the employee counts.
      expect(calls['public-security']).toBe(1);
      expect(calls['market-supervision']).toBe(1);
      expect(calls[HRSS]).toBe(2);
    });

    it('NONE: Person.householdId is FORBIDDEN to every other bureau, agreements or not, and to citizens', async () => {
      const query = 'query($id: ID!) { person(idNumber: $id) { idNumber householdId } }';
      for (const headers of [testCity.reviewer, marketSupervision, hrss, citizen]) {
        const reply = await testCity.graphql(query, { id: me.idNumber }, headers);
        expect(reply.body.data.person.householdId).toBeNull();
        expect(reply.body.errors).toHaveLength(1);
        expect(reply.body.errors![0]).toMatchObject({
          path: ['person', 'householdId'],
          extensions: { code: 'FORBIDDEN', fields: ['Person.householdId'], bureau: 'public-security', reason: 'NONE_CATEGORY' },
        });
        // 不予共享: nothing anyone can request would allow it.
        expect(reply.body.errors![0]!.extensions.wouldAllow).toBeUndefined();
      }
    });

    it('NONE: public security reads its own householdId', async () => {
      const reply = await testCity.graphql('query($id: ID!) { person(idNumber: $id) { householdId } }', { id: me.idNumber }, publicSecurity);
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ data: { person: { householdId: me.householdId } } });
    });

    it('a bureau reads its own CONDITIONAL fields unmasked, without any agreement', async () => {
      const ms = await testCity.graphql(
        'query($code: ID!) { enterprise(creditCode: $code) { legalRepresentativeId registeredCapital } }',
        { code: myEnterprise.creditCode },
        marketSupervision,
      );
      expect(ms.body).toEqual({ data: { enterprise: { legalRepresentativeId: me.idNumber, registeredCapital: myEnterprise.registeredCapital } } });

      const ps = await testCity.graphql('query($id: ID!) { person(idNumber: $id) { name address birthDate } }', { id: me.idNumber }, publicSecurity);
      expect(ps.body).toEqual({ data: { person: { name: me.name, address: me.address, birthDate: me.birthDate } } });

      const own = await testCity.graphql('query($id: ID!) { person(idNumber: $id) { socialInsurance { monthlyBase employerCreditCode } } }', { id: me.idNumber }, hrss);
      expect(own.body).toEqual({ data: { person: { socialInsurance: { monthlyBase: myAccount.monthlyBaseYuan, employerCreditCode: myAccount.employerCreditCode } } } });
    });
  });

  describe('partial results', () => {
    it('allowed and denied fields in one response: denied ones null, one error per denied path, the shape as asked, HTTP 200', async () => {
      const { result: reply, calls } = await countingCalls(testCity, () =>
        testCity.graphql(
          `query($id: ID!) { person(idNumber: $id) {
            idNumber
            name
            enterprises { creditCode name registeredCapital }
            gender
            socialInsurance { insuredStatus monthlyBase }
          } }`,
          { id: me.idNumber },
          marketSupervision,
        ),
      );
      const person = reply.body.data.person;
      // Every key asked for, in the order asked, nothing added (no __typename of the pruned document).
      expect(Object.keys(person)).toEqual(['idNumber', 'name', 'enterprises', 'gender', 'socialInsurance']);
      expect(person.idNumber).toBe(idMasked(me.idNumber));
      expect(person.name).toBeNull();
      expect(person.gender).toBeNull();
      expect(person.socialInsurance).toBeNull();
      const mine = city.enterprises.filter((enterprise) => enterprise.legalRepresentativeId === me.idNumber);
      expect(person.enterprises.map((enterprise: { creditCode: string }) => enterprise.creditCode).sort()).toEqual(mine.map((enterprise) => enterprise.creditCode).sort());
      for (const enterprise of person.enterprises) {
        expect(Object.keys(enterprise)).toEqual(['creditCode', 'name', 'registeredCapital']);
        expect(enterprise.registeredCapital).toBe(mine.find((each) => each.creditCode === enterprise.creditCode)!.registeredCapital);
      }
      expect(calls).toEqual({ ...NO_CALLS, 'public-security': 1, 'market-supervision': 1 });
      const errors = forbiddenByPath(reply);
      expect(errors.get('person.name')).toMatchObject({ fields: ['Person.name'], bureau: 'public-security', reason: 'NO_AGREEMENT' });
      // One request per provider, naming every field of it the operation lacks, with the catalogue's masks.
      expect(errors.get('person.name')!.wouldAllow.request).toMatchObject({ providerBureau: 'public-security', fields: ['Person.gender', 'Person.name'], suggestedMasks: { 'Person.name': 'NAME' } });
      expect(errors.get('person.socialInsurance')).toMatchObject({ fields: ['Person.socialInsurance'], bureau: HRSS, reason: 'NO_AGREEMENT' });
      // A partial result is a 200 (DESIGN: "200 with errors for field-level denials"; STYLE: "200 with errors (partial)").
      expect.soft(reply.status).toBe(200);
      // socialInsurance is reported once, not again for insuredStatus and monthlyBase inside it.
      expect([...errors.keys()].sort()).toEqual(['person.gender', 'person.name', 'person.socialInsurance']);
      expect(reply.body.errors).toHaveLength(3);
    });

    it('a list: the denied field is null on every element, the allowed ones are there', async () => {
      const ids = [me.idNumber, other.idNumber];
      const reply = await testCity.graphql('query($ids: [ID!]!) { persons(idNumbers: $ids) { idNumber name } }', { ids }, marketSupervision);
      expect(reply.body.data).toEqual({ persons: ids.map((id) => ({ idNumber: idMasked(id), name: null })) });
      expect(reply.body.errors).toHaveLength(1);
      expect(reply.body.errors![0]).toMatchObject({ extensions: { code: 'FORBIDDEN', fields: ['Person.name'], reason: 'NO_AGREEMENT' } });
      expect(reply.status).toBe(200);
    });
  });

  describe('scope and purpose', () => {
    const identity = 'agr-demo-allowance-identity';

    it('token without the agreement scope → FORBIDDEN SCOPE_MISSING naming the agreement and its scope', async () => {
      const headers = { ...bearer(await testCity.token({ bureau: civilAffairs.bureau, app: civilAffairs.app, user: 'he.fang@civil-affairs', ttl: '10m' })), [PURPOSE]: civilAffairs.purpose };
      const { result: reply, calls } = await countingCalls(testCity, () => testCity.graphql(PERSON_NAME, { id: me.idNumber }, headers));
      expect(reply.body.data).toEqual({ person: { idNumber: idMasked(me.idNumber), name: null } });
      expect(reply.body.errors).toHaveLength(1);
      expect(reply.body.errors![0]).toMatchObject({
        path: ['person', 'name'],
        extensions: {
          code: 'FORBIDDEN',
          fields: ['Person.name'],
          bureau: 'public-security',
          reason: 'SCOPE_MISSING',
          wouldAllow: { agreementId: identity, scope: civilAffairs.scope, purpose: civilAffairs.purpose },
        },
      });
      expect(reply.body.errors![0]!.message).toContain(identity);
      expect(calls['public-security']).toBe(1);
    });

    it('a purpose other than the agreement’s → FORBIDDEN PURPOSE_MISMATCH naming the agreement', async () => {
      const reply = await testCity.graphql(PERSON_NAME, { id: me.idNumber }, { ...testCity.reviewer, [PURPOSE]: 'housing-loan-review' });
      expect(reply.body.data.person.name).toBeNull();
      expect(reply.body.errors).toHaveLength(1);
      expect(reply.body.errors![0]!.extensions).toMatchObject({
        code: 'FORBIDDEN',
        reason: 'PURPOSE_MISMATCH',
        wouldAllow: { agreementId: identity, scope: civilAffairs.scope, purpose: civilAffairs.purpose },
      });
      expect(reply.body.errors![0]!.message).toContain(identity);
      expect(reply.body.errors![0]!.message).toContain('housing-loan-review');
    });

    it('no purpose, neither header nor claim → FORBIDDEN PURPOSE_MISSING naming the agreement', async () => {
      const { [PURPOSE]: _stated, ...withoutPurpose } = testCity.reviewer;
      const reply = await testCity.graphql(PERSON_NAME, { id: me.idNumber }, withoutPurpose);
      expect(reply.body.data.person.name).toBeNull();
      expect(reply.body.errors).toHaveLength(1);
      expect(reply.body.errors![0]!.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'PURPOSE_MISSING', wouldAllow: { agreementId: identity } });
      expect(reply.body.errors![0]!.message).toContain(identity);
    });

    it('the purpose may come from the token; a header that disagrees with it is refused, one that agrees is accepted', async () => {
      const token = bearer(
        await testCity.token({ bureau: civilAffairs.bureau, app: civilAffairs.app, user: 'he.fang@civil-affairs', scopes: [civilAffairs.scope], purpose: civilAffairs.purpose, ttl: '10m' }),
      );
      const fromClaim = await testCity.graphql(PERSON_NAME, { id: me.idNumber }, token);
      expect(fromClaim.body).toEqual({ data: { person: { idNumber: me.idNumber, name: me.name } } });
      const conflicting = await testCity.graphql(PERSON_NAME, { id: me.idNumber }, { ...token, [PURPOSE]: 'business-licensing' });
      expect(conflicting.status).toBe(400);
      expect(conflicting.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'PURPOSE_CONFLICT' });
      const agreeing = await testCity.graphql(PERSON_NAME, { id: me.idNumber }, { ...token, [PURPOSE]: civilAffairs.purpose });
      expect(agreeing.body).toEqual({ data: { person: { idNumber: me.idNumber, name: me.name } } });
    });

    it('a malformed x-isthmus-purpose → 400 BAD_USER_INPUT, no bureau called, the header not echoed', async () => {
      for (const purpose of ['Minimum Living Allowance', 'x'.repeat(65), '-leading-dash']) {
        const { result: reply, calls } = await countingCalls(testCity, () => testCity.graphql(PERSON_NAME, { id: me.idNumber }, { ...testCity.reviewer, [PURPOSE]: purpose }));
        expect(reply.status).toBe(400);
        expect(reply.body.data ?? null).toBeNull();
        expect(reply.body.errors![0]!.extensions.code).toBe('BAD_USER_INPUT');
        expect(reply.body.errors![0]!.message).toContain(PURPOSE);
        expect(JSON.stringify(reply.body)).not.toContain(purpose);
        expect(calls).toEqual(NO_CALLS);
      }
    });
  });

  describe('masks', () => {
    it('catalogue masks on OPEN fields for a principal with no agreement covering them', async () => {
      const reply = await testCity.graphql('query($id: ID!) { person(idNumber: $id) { idNumber } }', { id: me.idNumber }, housingFund);
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ data: { person: { idNumber: idMasked(me.idNumber) } } });
      expect(reply.body.data.person.idNumber).toMatch(/^\d{6}\*{8}[\dX]{4}$/);
    });

    it('an agreement that lists the field releases it clear, overriding the catalogue mask', async () => {
      const reply = await testCity.graphql('query($id: ID!) { person(idNumber: $id) { idNumber } }', { id: me.idNumber });
      expect(reply.body).toEqual({ data: { person: { idNumber: me.idNumber } } });
    });

    it('the agreement’s masks for the reviewer: address cut at the district, the legal representative’s id masked', async () => {
      const reply = await testCity.graphql(
        'query($id: ID!) { person(idNumber: $id) { name address enterprises { creditCode legalRepresentativeId } } }',
        { id: me.idNumber },
      );
      expect(reply.status).toBe(200);
      expect(reply.body.errors).toBeUndefined();
      const person = reply.body.data.person;
      expect(person.name).toBe(me.name);
      // 浙江省嘉兴市南湖区勤俭路6号 → 浙江省嘉兴市南湖区: province, city and district kept, street and number gone.
      expect(me.address.startsWith(person.address)).toBe(true);
      expect(person.address).toMatch(/^浙江省嘉兴市[^省市]{1,6}[区县市]$/u);
      expect(person.address.length).toBeLessThan(me.address.length);
      expect(person.enterprises.length).toBeGreaterThan(0);
      for (const enterprise of person.enterprises) expect(enterprise.legalRepresentativeId).toBe(idMasked(me.idNumber));
    });

    it('masks apply through aliases and lists', async () => {
      const reply = await testCity.graphql(
        'query($ids: [ID!]!) { people: persons(idNumbers: $ids) { where: address id: idNumber } }',
        { ids: [me.idNumber, other.idNumber] },
        housingFund,
      );
      // housing fund has no agreement with public security: address is denied, idNumber masked by the catalogue.
      expect(reply.body.data.people).toEqual([
        { where: null, id: idMasked(me.idNumber) },
        { where: null, id: idMasked(other.idNumber) },
      ]);
    });
  });

  describe('a citizen app with SELF scope', () => {
    it('reads the citizen’s own record in clear', async () => {
      const { result: reply, calls } = await countingCalls(testCity, () =>
        testCity.graphql('query($id: ID!) { person(idNumber: $id) { idNumber name gender birthDate address } }', { id: me.idNumber }, citizen),
      );
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ data: { person: { idNumber: me.idNumber, name: me.name, gender: me.gender, birthDate: me.birthDate, address: me.address } } });
      expect(calls).toEqual({ ...NO_CALLS, 'public-security': 1 });
    });

    it('someone else’s record → FORBIDDEN SELF_SCOPE, not an empty result, and public security is not called', async () => {
      const { result: reply, calls } = await countingCalls(testCity, () => testCity.graphql(PERSON_NAME, { id: other.idNumber }, citizen));
      expect(reply.body.data).toEqual({ person: null });
      expect(JSON.stringify(reply.body)).not.toContain(other.name);
      expect(calls).toEqual(NO_CALLS);
      // One denied path, one error: the fields inside the refused root are covered by its error.
      expect(reply.body.errors).toEqual([
        expect.objectContaining({ path: ['person'], extensions: expect.objectContaining({ code: 'FORBIDDEN', fields: ['Query.person'], bureau: 'public-security', reason: 'SELF_SCOPE' }) }),
      ]);
    });

    it('a list with the citizen and someone else is refused as a whole, without a call', async () => {
      const { result: reply, calls } = await countingCalls(testCity, () =>
        testCity.graphql('query($ids: [ID!]!) { persons(idNumbers: $ids) { idNumber name } }', { ids: [me.idNumber, other.idNumber] }, citizen),
      );
      expect(reply.body.data).toEqual({ persons: null });
      expect(JSON.stringify(reply.body)).not.toContain(me.name);
      expect(calls).toEqual(NO_CALLS);
      expect(reply.body.errors).toEqual([
        expect.objectContaining({ path: ['persons'], extensions: expect.objectContaining({ code: 'FORBIDDEN', fields: ['Query.persons'], reason: 'SELF_SCOPE' }) }),
      ]);
    });

    it('a root not keyed by a person (an enterprise lookup) is refused too', async () => {
      const { result: reply, calls } = await countingCalls(testCity, () =>
        testCity.graphql('query($code: ID!) { enterprise(creditCode: $code) { name } }', { code: myEnterprise.creditCode }, citizen),
      );
      expect(reply.body.data).toEqual({ enterprise: null });
      expect(reply.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'SELF_SCOPE' });
      expect(calls).toEqual(NO_CALLS);
    });
  });

  describe('fragments, aliases and directives reaching a denied field', () => {
    it('a named fragment, nested in another, with an alias: still denied', async () => {
      const reply = await testCity.graphql(
        `query($id: ID!) { p: person(idNumber: $id) { ...Outer } }
         fragment Outer on Person { id: idNumber ...Inner }
         fragment Inner on Person { hh: householdId }`,
        { id: me.idNumber },
      );
      expect(reply.body.data).toEqual({ p: { id: me.idNumber, hh: null } });
      expect(reply.body.errors).toEqual([expect.objectContaining({ path: ['p', 'hh'], extensions: expect.objectContaining({ code: 'FORBIDDEN', reason: 'NONE_CATEGORY' }) })]);
    });

    it('an alias named like an allowed field does not launder a denied one', async () => {
      const reply = await testCity.graphql('query($id: ID!) { person(idNumber: $id) { name: householdId realName: name } }', { id: me.idNumber });
      expect(reply.body.data).toEqual({ person: { name: null, realName: me.name } });
      expect(reply.body.errors).toEqual([expect.objectContaining({ path: ['person', 'name'], extensions: expect.objectContaining({ fields: ['Person.householdId'] }) })]);
    });

    it('the same denied field under two aliases: both null, one error each', async () => {
      const reply = await testCity.graphql('query($id: ID!) { person(idNumber: $id) { a: name b: name } }', { id: me.idNumber }, marketSupervision);
      expect(reply.body.data).toEqual({ person: { a: null, b: null } });
      expect([...forbiddenByPath(reply).keys()].sort()).toEqual(['person.a', 'person.b']);
    });

    it('an inline fragment inside an allowed one', async () => {
      const reply = await testCity.graphql(
        'query($code: ID!) { enterprise(creditCode: $code) { ... on Enterprise { name ... { headcount: insuredEmployeeCount } } } }',
        { code: myEnterprise.creditCode },
        marketSupervision,
      );
      expect(reply.body.data).toEqual({ enterprise: { name: myEnterprise.name, headcount: null } });
      expect(reply.body.errors).toEqual([expect.objectContaining({ path: ['enterprise', 'headcount'], extensions: expect.objectContaining({ reason: 'NO_AGREEMENT' }) })]);
    });

    it('@include and @skip driven by variables: a denied field that is really selected is denied; one left out is not asked', async () => {
      const query = `query($id: ID!, $withHousehold: Boolean!, $skipName: Boolean!) {
        person(idNumber: $id) { idNumber householdId @include(if: $withHousehold) name @skip(if: $skipName) }
      }`;
      const included = await testCity.graphql(query, { id: me.idNumber, withHousehold: true, skipName: false }, marketSupervision);
      expect(included.body.data).toEqual({ person: { idNumber: idMasked(me.idNumber), householdId: null, name: null } });
      expect([...forbiddenByPath(included).keys()].sort()).toEqual(['person.householdId', 'person.name']);

      const left = await testCity.graphql(query, { id: me.idNumber, withHousehold: false, skipName: true }, marketSupervision);
      expect(left.status).toBe(200);
      expect(left.body).toEqual({ data: { person: { idNumber: idMasked(me.idNumber) } } });
    });

    it('a fragment spread under @include on a variable default', async () => {
      const reply = await testCity.graphql(
        `query($id: ID!, $deep: Boolean = true) { person(idNumber: $id) { ...Money @include(if: $deep) } }
         fragment Money on Person { socialInsurance { monthlyBase } }`,
        { id: me.idNumber },
        marketSupervision,
      );
      expect(reply.body.data).toEqual({ person: { socialInsurance: null } });
      expect(reply.body.errors).toEqual([expect.objectContaining({ path: ['person', 'socialInsurance'], extensions: expect.objectContaining({ bureau: HRSS }) })]);
    });
  });
});
