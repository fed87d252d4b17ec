import { createHash, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCity } from '../examples/data/generate-city.ts';
import { idNumberCheckDigit } from '../examples/data/gb11643.ts';
import { sampleResident } from '../examples/demo-city.ts';
import { DEMO_CONSUMERS } from '../examples/demo-agreements.ts';
import { verifyAccessLog } from '../gateway/access-log/verify-access-log.ts';
import type { DevTokenClaims } from '../gateway/auth/dev-issuer.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';
import { describeEachStore } from './support/describe-each-store.ts';
import { runIsthmusCli } from './support/spawn-gateway.ts';
import { bearer, HRSS } from './support/upstream-calls.ts';

/**
 * Issue #4 end to end: the access log as the running gateway writes it for
 * real requests over HTTP (real bureaus, real signed tokens, the demo's
 * agreements), read back from its store, through `GET /admin/api/access-log`
 * and by `isthmus log verify`. One city per store target serves the file:
 * PGlite, and a scratch database of `DATABASE_URL`'s server (skipped without it).
 *
 * Every test makes the requests it looks at and finds their entries by the
 * response's `x-request-id`, so tests do not depend on each other's entries.
 */

const city = demoCity();
/** Represents an enterprise and has a social insurance account. */
const me = sampleResident(city);
const myEnterprises = city.enterprises.filter((enterprise) => enterprise.legalRepresentativeId === me.idNumber);
/** Market supervision reading its own OPEN, LOW enterprise fields: no one's personal data, so not logged. */
const OWN_COMPANY = 'query OwnCompany($code: ID!) { enterprise(creditCode: $code) { name } }';
const other = city.persons.find((person) => person.idNumber !== me.idNumber && !city.enterprises.some((enterprise) => enterprise.legalRepresentativeId === person.idNumber))!;
/** An enterprise neither resident represents: reading it touches neither of them. */
const strangerEnterprise = city.enterprises.find((enterprise) => enterprise.legalRepresentativeId !== me.idNumber && enterprise.legalRepresentativeId !== other.idNumber)!;
/** A well-formed resident ID number that is on nobody's register: the gateway returns null for it. */
const GHOST = (() => {
  const first17 = '11010119900101123';
  const id = first17 + idNumberCheckDigit(first17);
  if (city.persons.some((person) => person.idNumber === id)) throw new Error('the ghost ID number is registered in the demo city');
  return id;
})();

const { civilAffairs, citizenApp, housingFund } = DEMO_CONSUMERS;
const PURPOSE = 'x-isthmus-purpose';
const CASE_ID = 'x-isthmus-case-id';
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

interface Reply {
  readonly status: number;
  readonly requestId: string;
  readonly headers: Headers;
  readonly text: string;
  readonly body: any;
}

/** One access log row as stored, columns as the store returns them. */
type Row = Record<string, any>;

describeEachStore('the access log of a running gateway, store on $name', (target) => {
  let testCity: TestCity;
  /** PostgreSQL: the gateway's database, so the test can take it away and edit it as a superuser. */
  let scratch: { readonly url: string } | undefined;
  const headers: Record<string, Record<string, string>> = {};

  async function tokenHeaders(claims: Omit<DevTokenClaims, 'ttl'>, extra: Record<string, string> = {}): Promise<Record<string, string>> {
    return { ...bearer(await testCity.token({ ...claims, ttl: '1h' })), ...extra };
  }

  beforeAll(async () => {
    testCity = await startTestCity({}, { store: target });
    scratch = testCity.database.url === undefined ? undefined : { url: testCity.database.url };
    headers.marketSupervision = await tokenHeaders({ bureau: 'market-supervision', app: 'licensing-portal', user: 'qian.li@market-supervision', roles: ['developer'] });
    headers.publicSecurity = await tokenHeaders({ bureau: 'public-security', app: 'household-registry', user: 'wang.lei@public-security', roles: ['developer'] });
    headers.housingFund = await tokenHeaders(
      { bureau: housingFund.bureau, app: housingFund.app, user: 'zhao.qiang@housing-fund', roles: ['developer'], scopes: [housingFund.scope] },
      { [PURPOSE]: housingFund.purpose },
    );
    headers.psOfficer = await tokenHeaders({ bureau: 'public-security', app: 'isthmus-console', user: 'wang.lei@public-security', roles: ['data_officer'] });
    headers.caOfficer = await tokenHeaders({ bureau: civilAffairs.bureau, app: 'isthmus-console', user: 'wu.hua@civil-affairs', roles: ['data_officer'] });
    headers.hrssOfficer = await tokenHeaders({ bureau: HRSS, app: 'isthmus-console', user: 'li.na@hrss', roles: ['data_officer'] });
    headers.operator = await tokenHeaders({ bureau: 'big-data-bureau', app: 'isthmus-console', user: 'ops.chen@big-data-bureau', roles: ['operator'] });
    const citizen = (idNumber: string, user: string) =>
      tokenHeaders({ bureau: citizenApp.bureau, app: citizenApp.app, user, roles: ['citizen'], citizen: idNumber, scopes: [citizenApp.scope] });
    headers.citizenMe = await citizen(me.idNumber, 'resident-7781');
    headers.citizenOther = await citizen(other.idNumber, 'resident-9034');
  }, 180_000);
  afterAll(async () => {
    await testCity?.close();
  });

  /** POSTs to /graphql; `operationName` goes in the body only when given, as most clients leave it out. */
  async function graphql(query: string, variables: Record<string, unknown>, requestHeaders: Record<string, string>, operationName?: string): Promise<Reply> {
    const response = await fetch(`${testCity.gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...requestHeaders },
      body: JSON.stringify({ query, variables, ...(operationName ? { operationName } : {}) }),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await response.text();
    return { status: response.status, requestId: response.headers.get('x-request-id')!, headers: response.headers, text, body: JSON.parse(text) };
  }

  /** GET /admin/api/access-log with the given query parameters. */
  async function readLog(requestHeaders: Record<string, string>, query: Record<string, string> = {}): Promise<Reply> {
    const response = await fetch(`${testCity.gateway.url}/admin/api/access-log?${new URLSearchParams(query)}`, {
      headers: requestHeaders,
      signal: AbortSignal.timeout(20_000),
    });
    const text = await response.text();
    return { status: response.status, requestId: response.headers.get('x-request-id')!, headers: response.headers, text, body: JSON.parse(text) };
  }

  /** The stored entries of one request (there should be exactly one, or none). */
  async function entriesOf(requestId: string): Promise<Row[]> {
    return testCity.gateway.store.db.selectFrom('access_log').selectAll().where('request_id', '=', requestId).execute();
  }

  async function entryOf(requestId: string): Promise<Row> {
    const rows = await entriesOf(requestId);
    expect(rows, `entries for request ${requestId}`).toHaveLength(1);
    return rows[0]!;
  }

  /** Everything stored for a request's entry, as text: the row as JSON and its subject index rows. */
  async function storedText(requestId: string): Promise<string> {
    const { rows } = await sql<{ json: string }>`select to_jsonb(l)::text as json from access_log l where l.request_id = ${requestId}`.execute(testCity.gateway.store.db);
    const entry = await entryOf(requestId);
    const subjects = await testCity.gateway.store.db.selectFrom('access_log_subjects').selectAll().where('entry_id', '=', entry.id).execute();
    return rows.map((row) => row.json).join('\n') + JSON.stringify(subjects);
  }

  const subjectsOf = (row: Row) => [...(row.subjects as { kind: string; id: string }[])].sort((a, b) => `${a.kind}:${a.id}`.localeCompare(`${b.kind}:${b.id}`));
  const subjectList = (...subjects: { kind: string; id: string }[]) => [...subjects].sort((a, b) => `${a.kind}:${a.id}`.localeCompare(`${b.kind}:${b.id}`));

  const ALLOWANCE_CHECK = `query AllowanceCheck($id: ID!, $ghost: ID!) {
    person(idNumber: $id) {
      name
      address
      socialInsurance { insuredStatus }
      enterprises { registeredCapital legalRepresentativeId }
    }
    ghost: person(idNumber: $ghost) { name }
  }`;
  const LICENCE_CHECK = 'query LicenceCheck($id: ID!) { person(idNumber: $id) { idNumber name enterprises { creditCode } } }';
  const LOAN_CHECK = 'query LoanCheck($id: ID!) { person(idNumber: $id) { name socialInsurance { monthlyBase } } }';

  describe('one entry per operation that touches another bureau’s data', () => {
    it('ALLOWED: who, app, user, purpose, case id, agreements, providers, fields with masks, subjects the client did not select, row counts, hash', async () => {
      const caseId = `MZ-2026-${randomUUID().slice(0, 8)}`;
      const before = Date.now();
      const reply = await graphql(ALLOWANCE_CHECK, { id: me.idNumber, ghost: GHOST }, { ...testCity.reviewer, [CASE_ID]: caseId });
      const after = Date.now();
      expect(reply.status).toBe(200);
      expect(reply.body.errors).toBeUndefined();
      expect(reply.body.data.person.name).toBe(me.name);
      expect(reply.body.data.ghost).toBeNull();

      const row = await entryOf(reply.requestId);
      expect(row).toMatchObject({
        action: 'READ',
        outcome: 'ALLOWED',
        consumer_bureau: civilAffairs.bureau,
        client_app: civilAffairs.app,
        user_id: 'he.fang@civil-affairs',
        roles: ['developer'],
        citizen: null,
        purpose: civilAffairs.purpose,
        case_id: caseId,
        agreement_ids: ['agr-demo-allowance-enterprises', 'agr-demo-allowance-identity', 'agr-demo-allowance-insurance'],
        provider_bureaus: [HRSS, 'market-supervision', 'public-security'],
        denied: [],
        upstream_errors: [],
        operation_hash: sha256(ALLOWANCE_CHECK),
        chain_id: testCity.gateway.instanceId,
        hidden_until: null,
      });
      expect([...row.fields_requested].sort()).toEqual(
        ['Enterprise.legalRepresentativeId', 'Enterprise.registeredCapital', 'Person.address', 'Person.enterprises', 'Person.name', 'Person.socialInsurance', 'SocialInsurance.insuredStatus'].sort(),
      );
      // The masks as the agreements set them: the address and the legal representative's ID number went out masked.
      expect(row.fields_returned).toEqual(
        expect.arrayContaining([
          { coordinate: 'Person.name' },
          { coordinate: 'Person.address', mask: 'ADDRESS' },
          { coordinate: 'Enterprise.legalRepresentativeId', mask: 'ID_NUMBER' },
          { coordinate: 'Enterprise.registeredCapital' },
          { coordinate: 'SocialInsurance.insuredStatus' },
        ]),
      );
      expect(reply.body.data.person.address).not.toBe(me.address);
      // The keys the gateway selected to learn the subjects are not handed to the client.
      expect(Object.keys(reply.body.data.person)).toEqual(['name', 'address', 'socialInsurance', 'enterprises']);
      for (const enterprise of reply.body.data.person.enterprises) expect(Object.keys(enterprise)).toEqual(['registeredCapital', 'legalRepresentativeId']);
      // The client asked for neither Person.idNumber nor Enterprise.creditCode: the subjects are the records returned all the same.
      expect(subjectsOf(row)).toEqual(subjectList({ kind: 'person', id: me.idNumber }, ...myEnterprises.map((enterprise) => ({ kind: 'enterprise', id: enterprise.creditCode }))));
      // A record counts for each bureau that released a field on it: the person for all three,
      // each enterprise for market supervision, the insurance account for HRSS.
      expect(row.row_counts).toEqual({ 'public-security': 1, 'market-supervision': 1 + myEnterprises.length, [HRSS]: 2 });
      expect(new Date(row.occurred_at).getTime()).toBeGreaterThanOrEqual(before - 1_000);
      expect(new Date(row.occurred_at).getTime()).toBeLessThanOrEqual(after + 1_000);
      expect(row.seq).toBeDefined();
      expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    });

    it('names the subjects when the document uses a key field’s name as an alias of another field', async () => {
      // The gateway then reads the keys under reserved aliases, not under `idNumber` (which here names an insurance status).
      const query = 'query Aliased($id: ID!) { person(idNumber: $id) { name socialInsurance { idNumber: insuredStatus } enterprises { name } } }';
      const reply = await graphql(query, { id: me.idNumber }, testCity.reviewer);
      expect(reply.status).toBe(200);
      expect(reply.body.errors).toBeUndefined();
      expect(reply.body.data.person.name).toBe(me.name);
      expect(Object.keys(reply.body.data.person)).toEqual(['name', 'socialInsurance', 'enterprises']);
      expect(Object.keys(reply.body.data.person.socialInsurance)).toEqual(['idNumber']);
      expect(reply.body.data.person.socialInsurance.idNumber).not.toBe(me.idNumber);
      for (const enterprise of reply.body.data.person.enterprises) expect(Object.keys(enterprise)).toEqual(['name']);
      const row = await entryOf(reply.requestId);
      expect(subjectsOf(row)).toEqual(subjectList({ kind: 'person', id: me.idNumber }, ...myEnterprises.map((enterprise) => ({ kind: 'enterprise', id: enterprise.creditCode }))));
    });

    it('variables’ values are not stored in clear: an unknown ID number that returned null is nowhere in the row or its subject index', async () => {
      const reply = await graphql(ALLOWANCE_CHECK, { id: me.idNumber, ghost: GHOST }, testCity.reviewer);
      expect(reply.status).toBe(200);
      expect(reply.body.data.ghost).toBeNull();
      const stored = await storedText(reply.requestId);
      expect(stored).toContain(me.idNumber);
      expect(stored).not.toContain(GHOST);
      // Not even a fragment long enough to tell whom it was.
      expect(stored).not.toContain(GHOST.slice(0, 14));
    });

    it('PARTIAL: denied fields with their reasons, the masked OPEN key, and the name the client sent', async () => {
      const reply = await graphql(LICENCE_CHECK, { id: me.idNumber }, headers.marketSupervision!, 'LicenceCheck');
      expect(reply.status).toBe(200);
      expect(reply.body.data.person.name).toBeNull();
      expect(reply.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NO_AGREEMENT' });

      const row = await entryOf(reply.requestId);
      expect(row).toMatchObject({
        outcome: 'PARTIAL',
        consumer_bureau: 'market-supervision',
        client_app: 'licensing-portal',
        user_id: 'qian.li@market-supervision',
        purpose: null,
        case_id: null,
        agreement_ids: [],
        denied: [{ coordinate: 'Person.name', path: 'person.name', reason: 'NO_AGREEMENT' }],
        operation_hash: sha256(LICENCE_CHECK),
        operation_name: 'LicenceCheck',
      });
      expect(row.provider_bureaus).toContain('public-security');
      expect(row.fields_returned).toEqual(expect.arrayContaining([{ coordinate: 'Person.idNumber', mask: 'ID_NUMBER' }, { coordinate: 'Enterprise.creditCode' }]));
      expect(row.fields_returned.map((field: { coordinate: string }) => field.coordinate)).not.toContain('Person.name');
      expect([...row.fields_requested].sort()).toEqual(['Enterprise.creditCode', 'Person.enterprises', 'Person.idNumber', 'Person.name']);
      // The client got the ID number masked; the log names the subject in full.
      expect(reply.body.data.person.idNumber).not.toBe(me.idNumber);
      expect(subjectsOf(row)).toEqual(subjectList({ kind: 'person', id: me.idNumber }, ...myEnterprises.map((enterprise) => ({ kind: 'enterprise', id: enterprise.creditCode }))));
      expect(row.row_counts).toEqual({ 'public-security': 1 });
    });

    it('DENIED: every field refused, each with its path and reason; nothing returned, nothing counted', async () => {
      const reply = await graphql(LOAN_CHECK, { id: me.idNumber }, headers.housingFund!, 'LoanCheck');
      expect(reply.status).toBe(200);
      expect(reply.body.data).toEqual({ person: { name: null, socialInsurance: null } });

      const row = await entryOf(reply.requestId);
      expect(row).toMatchObject({
        outcome: 'DENIED',
        consumer_bureau: housingFund.bureau,
        client_app: housingFund.app,
        user_id: 'zhao.qiang@housing-fund',
        purpose: housingFund.purpose,
        agreement_ids: [],
        fields_returned: [],
        row_counts: {},
        operation_hash: sha256(LOAN_CHECK),
        operation_name: 'LoanCheck',
      });
      expect([...row.fields_requested].sort()).toEqual(['Person.name', 'Person.socialInsurance', 'SocialInsurance.monthlyBase']);
      expect([...row.denied].sort((a: { path: string }, b: { path: string }) => a.path.localeCompare(b.path))).toEqual([
        { coordinate: 'Person.name', path: 'person.name', reason: 'NO_AGREEMENT' },
        { coordinate: 'Person.socialInsurance', path: 'person.socialInsurance', reason: 'NO_AGREEMENT' },
        { coordinate: 'SocialInsurance.monthlyBase', path: 'person.socialInsurance.monthlyBase', reason: 'NO_AGREEMENT' },
      ]);
    });

    it('names the operation the client ran even when the request leaves operationName out (as most clients do)', async () => {
      const allowed = await graphql(ALLOWANCE_CHECK, { id: me.idNumber, ghost: GHOST }, testCity.reviewer);
      const denied = await graphql(LOAN_CHECK, { id: me.idNumber }, headers.housingFund!);
      expect((await entryOf(allowed.requestId)).operation_name).toBe('AllowanceCheck');
      expect((await entryOf(denied.requestId)).operation_name).toBe('LoanCheck');
    });

    it('a query touching only the caller’s own bureau is logged when it reads personal or HIGH fields, and not otherwise', async () => {
      // Level 3 audits every user: a bureau's own read of personal data goes through the same log path (issue 13).
      const own = await graphql('query OwnRecords($id: ID!) { person(idNumber: $id) { name householdId } }', { id: me.idNumber }, headers.publicSecurity!);
      expect(own.status).toBe(200);
      expect(own.body).toEqual({ data: { person: { name: me.name, householdId: me.householdId } } });
      expect(await entryOf(own.requestId)).toMatchObject({ consumer_bureau: 'public-security', outcome: 'ALLOWED' });
      // Market supervision's own OPEN, LOW enterprise fields are no one's personal data: no entry.
      const company = await graphql(OWN_COMPANY, { code: myEnterprises[0]!.creditCode }, headers.marketSupervision!);
      expect(company.status).toBe(200);
      expect(company.body.errors).toBeUndefined();
      // A cross-bureau request after it is logged: had the company read been logged, its entry would be there by now.
      const cross = await graphql(LICENCE_CHECK, { id: me.idNumber }, headers.marketSupervision!);
      await entryOf(cross.requestId);
      expect(await entriesOf(company.requestId)).toEqual([]);
    });
  });

  describe('no log, no data', () => {
    /**
     * Takes the gateway's store away. PostgreSQL: the database stops taking
     * connections and every open one is ended, from an admin connection.
     * PGlite is the gateway's own single in-process connection and cannot be
     * closed from outside without closing the gateway's store for good, so
     * the test holds that connection instead: the store stops answering
     * (as a hung disk or a held lock would), and every log commit waits past
     * its deadline.
     */
    async function takeStoreAway(): Promise<() => Promise<void>> {
      if (scratch) {
        const name = new URL(scratch.url).pathname.slice(1);
        const admin = new pg.Client({ connectionString: target.serverUrl });
        await admin.connect();
        try {
          await admin.query(`alter database ${name} allow_connections false`);
          await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
        } catch (error) {
          await admin.query(`alter database ${name} allow_connections true`).catch(() => undefined);
          await admin.end();
          throw error;
        }
        return async () => {
          try {
            await admin.query(`alter database ${name} allow_connections true`);
          } finally {
            await admin.end();
          }
        };
      }
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let holding!: () => void;
      const held = new Promise<void>((resolve) => (holding = resolve));
      const holder = testCity.gateway.store.db.connection().execute(async () => {
        holding();
        await released;
      });
      await Promise.race([held, holder]);
      return async () => {
        release();
        await holder;
      };
    }

    it('the store goes away → the next cross-bureau request gets ACCESS_LOG_UNAVAILABLE and no data; the store returns → served and logged again, by itself', { timeout: 90_000 }, async () => {
      const query = 'query Identity($id: ID!) { person(idNumber: $id) { name address gender } }';
      const warm = await graphql(query, { id: me.idNumber }, testCity.reviewer);
      expect(warm.body.data.person.name).toBe(me.name);

      const giveBack = await takeStoreAway();
      let refused: Reply;
      let own: Reply;
      let ownPersonal: Reply;
      try {
        refused = await graphql(query, { id: me.idNumber }, testCity.reviewer);
        // A bureau's own read of personal data is logged too, so it is refused alike (issue 13) …
        ownPersonal = await graphql('query($id: ID!) { person(idNumber: $id) { name } }', { id: me.idNumber }, headers.publicSecurity!);
        // … while one that needs no log entry (its own OPEN, LOW enterprise fields) is still served.
        own = await graphql(OWN_COMPANY, { code: myEnterprises[0]!.creditCode }, headers.marketSupervision!);
      } finally {
        await giveBack();
      }

      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('2');
      expect(refused.body.data ?? null).toBeNull();
      expect(refused.body.errors).toHaveLength(1);
      expect(refused.body.errors[0].extensions).toMatchObject({ code: 'INTERNAL', reason: 'ACCESS_LOG_UNAVAILABLE' });
      // None of the data the bureaus returned leaves the gateway.
      for (const secret of [me.name, me.address, me.gender]) expect(refused.text).not.toContain(secret);
      expect(ownPersonal.status).toBe(503);
      expect(ownPersonal.text).not.toContain(me.name);
      expect(own.status).toBe(200);
      expect(own.body).toEqual({ data: { enterprise: { name: myEnterprises[0]!.name } } });

      // Back by itself: no restart, no call to the gateway; bounded polling.
      let recovered: Reply | undefined;
      const attempts: number[] = [];
      const until = Date.now() + 30_000;
      while (Date.now() < until) {
        const reply = await graphql(query, { id: me.idNumber }, testCity.reviewer);
        attempts.push(reply.status);
        if (reply.status === 200) {
          recovered = reply;
          break;
        }
        expect(reply.status).toBe(503);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(recovered, `statuses while waiting: ${attempts.join(', ')}`).toBeDefined();
      expect(recovered!.body).toEqual({ data: { person: { name: me.name, address: expect.any(String), gender: me.gender } } });
      expect(await entryOf(recovered!.requestId)).toMatchObject({ outcome: 'ALLOWED', consumer_bureau: civilAffairs.bureau, chain_id: testCity.gateway.instanceId });
      // The chain went on where it stopped: no gap, nothing edited.
      const verification = await verifyAccessLog(testCity.gateway.store.db);
      expect(verification.problems).toEqual([]);
    });
  });

  describe('reading the log: GET /admin/api/access-log', () => {
    /** The agreement made in this test: public security's investigators read insurance records, hidden from the citizen for 90 days. */
    const DELAY_REASON = '侦查期间不得向犯罪嫌疑人泄露案情（《中华人民共和国刑事诉讼法》第一百五十二条）';
    const investigation = { bureau: 'public-security', app: 'economic-crime-investigation', scope: 'economic-crime-case', purpose: 'economic-crime-investigation' };

    async function admin(method: 'GET' | 'POST', path: string, requestHeaders: Record<string, string>, body?: unknown): Promise<{ status: number; body: any }> {
      const response = await fetch(`${testCity.gateway.url}/admin/api${path}`, {
        method,
        headers: { ...requestHeaders, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(20_000),
      });
      return { status: response.status, body: await response.json() };
    }

    it('each role sees its rows: provider’s and consumer’s officers, the operator all, the citizen only about themselves; delayed disclosure; the read is logged', { timeout: 90_000 }, async () => {
      // Entries of earlier tests are older than this.
      const from = new Date().toISOString();
      const caseId = `MZ-2026-${randomUUID().slice(0, 8)}`;
      const before = Date.now();

      // a) civil affairs reads me from public security, under a case file.
      const aboutMe = await graphql('query($id: ID!) { person(idNumber: $id) { name address } }', { id: me.idNumber }, { ...testCity.reviewer, [CASE_ID]: caseId });
      // b) civil affairs reads me and another resident in one operation.
      const aboutBoth = await graphql('query($ids: [ID!]!) { persons(idNumbers: $ids) { name } }', { ids: [me.idNumber, other.idNumber] }, testCity.reviewer);
      // c) civil affairs reads an enterprise's insured headcount: market supervision and HRSS, not public security.
      const enterpriseOnly = await graphql('query($code: ID!) { enterprise(creditCode: $code) { insuredEmployeeCount } }', { code: strangerEnterprise.creditCode }, testCity.reviewer);
      // d) market supervision reads the other resident from public security.
      const aboutOther = await graphql(LICENCE_CHECK, { id: other.idNumber }, headers.marketSupervision!);
      const after = Date.now();
      for (const reply of [aboutMe, aboutBoth, enterpriseOnly, aboutOther]) expect(reply.status, reply.text).toBe(200);
      expect(aboutBoth.body.data.persons).toEqual([{ name: me.name }, { name: other.name }]);

      // e) a delayed-disclosure agreement, made through the admin API: requested by public security, approved by HRSS's data officer.
      const investigator = await tokenHeaders(
        { bureau: investigation.bureau, app: investigation.app, user: 'liu.yang@public-security', roles: ['developer'], scopes: [investigation.scope] },
        { [PURPOSE]: investigation.purpose },
      );
      const requested = await admin('POST', '/agreements', investigator, {
        consumerApp: investigation.app,
        providerBureau: HRSS,
        fields: ['Person.socialInsurance', 'SocialInsurance.employerCreditCode', 'SocialInsurance.monthlyBase'],
        purpose: investigation.purpose,
        legalBasis: '《中华人民共和国刑事诉讼法》第五十四条：公安机关有权向有关单位和个人收集、调取证据',
        rowScope: 'ANY',
        scope: investigation.scope,
        validFrom: new Date(Date.now() - 60_000).toISOString(),
        validUntil: new Date(Date.now() + 180 * 86_400_000).toISOString(),
        disclosureDelay: { days: 90, legalReason: DELAY_REASON },
        submit: true,
      });
      expect(requested.status, JSON.stringify(requested.body)).toBe(201);
      const approved = await admin('POST', `/agreements/${requested.body.agreement.id}/approve`, headers.hrssOfficer!, {});
      expect(approved.status, JSON.stringify(approved.body)).toBe(200);
      expect(approved.body.agreement).toMatchObject({ status: 'ACTIVE', disclosureDelay: { days: 90 } });
      const investigated = await graphql('query($id: ID!) { person(idNumber: $id) { socialInsurance { employerCreditCode monthlyBase } } }', { id: me.idNumber }, investigator);
      expect(investigated.status).toBe(200);
      expect(investigated.body.errors).toBeUndefined();
      expect(investigated.body.data.person.socialInsurance).not.toBeNull();

      const id = async (reply: Reply) => (await entryOf(reply.requestId)).id as string;
      const ids = {
        aboutMe: await id(aboutMe),
        aboutBoth: await id(aboutBoth),
        enterpriseOnly: await id(enterpriseOnly),
        aboutOther: await id(aboutOther),
        investigated: await id(investigated),
      };
      const hiddenRow = await entryOf(investigated.requestId);
      expect(hiddenRow.hidden_reason).toBe(DELAY_REASON);
      expect(new Date(hiddenRow.hidden_until).getTime() - new Date(hiddenRow.occurred_at).getTime()).toBe(90 * 86_400_000);

      const itemIds = (reply: Reply) => new Set<string>(reply.body.items.map((item: { id: string }) => item.id));

      // A data officer of public security: every entry where public security provided data (or consumed it), none other.
      const ps = await readLog(headers.psOfficer!, { from, limit: '500' });
      expect(ps.status).toBe(200);
      expect(ps.body.view).toBe('data_officer');
      for (const item of ps.body.items) expect(item.providerBureaus.includes('public-security') || item.consumerBureau === 'public-security').toBe(true);
      for (const shown of [ids.aboutMe, ids.aboutBoth, ids.aboutOther, ids.investigated]) expect(itemIds(ps).has(shown), shown).toBe(true);
      expect(itemIds(ps).has(ids.enterpriseOnly)).toBe(false);
      const psAboutMe = ps.body.items.find((item: { id: string }) => item.id === ids.aboutMe);
      // Officers see the whole entry: the user, the case file, every subject.
      expect(psAboutMe).toMatchObject({ consumerBureau: civilAffairs.bureau, user: 'he.fang@civil-affairs', caseId, hidden: false, subjects: [{ kind: 'person', id: me.idNumber }] });
      // The investigation shows, marked hidden from its subject, with the legal reason.
      expect(ps.body.items.find((item: { id: string }) => item.id === ids.investigated)).toMatchObject({ hidden: true, disclosure: { legalReason: DELAY_REASON } });

      // The consumer's own data officer: civil affairs' reads, not market supervision's.
      const ca = await readLog(headers.caOfficer!, { from, limit: '500' });
      expect(ca.status).toBe(200);
      expect(ca.body.view).toBe('data_officer');
      for (const item of ca.body.items) expect(item.providerBureaus.includes(civilAffairs.bureau) || item.consumerBureau === civilAffairs.bureau).toBe(true);
      for (const shown of [ids.aboutMe, ids.aboutBoth, ids.enterpriseOnly]) expect(itemIds(ca).has(shown), shown).toBe(true);
      for (const hidden of [ids.aboutOther, ids.investigated]) expect(itemIds(ca).has(hidden), hidden).toBe(false);

      // HRSS provided the insurance records under the investigation: its officer sees the entry, marked hidden.
      const hrss = await readLog(headers.hrssOfficer!, { from, limit: '500' });
      expect(hrss.body.items.find((item: { id: string }) => item.id === ids.investigated)).toMatchObject({ hidden: true, disclosure: { legalReason: DELAY_REASON } });
      expect(itemIds(hrss).has(ids.enterpriseOnly)).toBe(true);
      expect(itemIds(hrss).has(ids.aboutOther)).toBe(false);

      // The operator sees everything.
      const operator = await readLog(headers.operator!, { from, limit: '500' });
      expect(operator.status).toBe(200);
      expect(operator.body.view).toBe('operator');
      for (const shown of Object.values(ids)) expect(itemIds(operator).has(shown), shown).toBe(true);

      // The citizen: only entries about them — which bureau read which of their data, when and why — and nothing about anyone else.
      const citizenReadId = `citizen-read-${randomUUID()}`;
      const mine = await readLog({ ...headers.citizenMe!, 'x-request-id': citizenReadId }, { from, limit: '500' });
      expect(mine.status).toBe(200);
      expect(mine.body.view).toBe('citizen');
      expect(itemIds(mine).has(ids.aboutMe)).toBe(true);
      expect(itemIds(mine).has(ids.aboutBoth)).toBe(true);
      expect(itemIds(mine).has(ids.enterpriseOnly)).toBe(false);
      expect(itemIds(mine).has(ids.aboutOther)).toBe(false);
      // Under investigation: not shown to its subject until the delay has passed.
      expect(itemIds(mine).has(ids.investigated)).toBe(false);
      const myItem = mine.body.items.find((item: { id: string }) => item.id === ids.aboutMe);
      expect(myItem).toMatchObject({
        action: 'READ',
        consumerBureau: civilAffairs.bureau,
        clientApp: civilAffairs.app,
        providerBureaus: ['public-security'],
        purpose: civilAffairs.purpose,
        outcome: 'ALLOWED',
      });
      expect(myItem.fields).toEqual(expect.arrayContaining([{ coordinate: 'Person.name' }, { coordinate: 'Person.address', mask: 'ADDRESS' }]));
      expect(new Date(myItem.occurredAt).getTime()).toBeGreaterThanOrEqual(before - 1_000);
      expect(new Date(myItem.occurredAt).getTime()).toBeLessThanOrEqual(after + 1_000);
      // Not the other resident of the same operation, not the officer's name, not the case file, not the investigation's reason.
      for (const undisclosed of [other.idNumber, 'he.fang@civil-affairs', caseId, DELAY_REASON, strangerEnterprise.creditCode]) expect(mine.text).not.toContain(undisclosed);

      const theirs = await readLog(headers.citizenOther!, { from, limit: '500' });
      expect(theirs.body.view).toBe('citizen');
      expect(itemIds(theirs).has(ids.aboutBoth)).toBe(true);
      expect(itemIds(theirs).has(ids.aboutOther)).toBe(true);
      expect(itemIds(theirs).has(ids.aboutMe)).toBe(false);
      expect(theirs.text).not.toContain(me.idNumber);

      // A citizen may not ask about someone else; the refusal is logged too.
      const pryingId = `citizen-pry-${randomUUID()}`;
      const prying = await readLog({ ...headers.citizenMe!, 'x-request-id': pryingId }, { subject: `person:${other.idNumber}` });
      expect(prying.status).toBe(403);
      expect(prying.body.errors[0].extensions.code).toBe('FORBIDDEN');

      // Reading the log is itself logged: the citizen's read, naming the viewer and the subject it disclosed.
      const logRead = await entryOf(citizenReadId);
      expect(logRead).toMatchObject({
        action: 'LOG_READ',
        outcome: 'ALLOWED',
        consumer_bureau: citizenApp.bureau,
        client_app: citizenApp.app,
        user_id: 'resident-7781',
        citizen: me.idNumber,
        roles: ['citizen'],
        subjects: [{ kind: 'person', id: me.idNumber }],
        operation_name: 'GET /access-log',
      });
      expect(logRead.provider_bureaus).toContain('public-security');
      // The read's query string held a date only, but it is kept as a hash all the same.
      expect(JSON.stringify(logRead)).not.toContain(from);
      // …and the operator sees that read in the log.
      const audit = await readLog(headers.operator!, { from, limit: '500' });
      expect(audit.body.items.find((item: { requestId: string }) => item.requestId === citizenReadId)).toMatchObject({ action: 'LOG_READ', citizen: me.idNumber });
      // The refusal was recorded as a DENIED read of the log.
      expect((await entriesOf(pryingId)).map((row) => [row.action, row.outcome, row.citizen])).toEqual([['LOG_READ', 'DENIED', me.idNumber]]);
    });

    it('a providing bureau’s data officer sees the attempts refused on its data (denied attempts are logged so that they can be audited)', async () => {
      const from = new Date().toISOString();
      // Housing fund asks for HRSS's social insurance with no agreement in force: refused, and logged.
      const attempt = await graphql(LOAN_CHECK, { id: me.idNumber }, headers.housingFund!);
      const row = await entryOf(attempt.requestId);
      expect(row.denied.map((denial: { coordinate: string }) => denial.coordinate)).toContain('Person.socialInsurance');
      const hrss = await readLog(headers.hrssOfficer!, { from, limit: '500' });
      expect(hrss.status).toBe(200);
      expect(hrss.body.items.map((item: { id: string }) => item.id)).toContain(row.id);
    });

    it('the LOG_READ entry carries the request id the response was sent with', async () => {
      // No x-request-id from the client: the gateway draws one and echoes it; the entry must carry the same.
      const reply = await readLog(headers.citizenMe!);
      expect(reply.status).toBe(200);
      expect(reply.requestId).toMatch(/^[\w.:-]+$/);
      const rows = await entriesOf(reply.requestId);
      expect(rows.map((row) => row.action)).toEqual(['LOG_READ']);
    });
  });

  describe('isthmus log verify', () => {
    it('passes on the log written by real requests, names the first edited entry after an edit through SQL, and passes again once it is undone', { timeout: 120_000 }, async () => {
      const replies = [
        await graphql(ALLOWANCE_CHECK, { id: me.idNumber, ghost: GHOST }, testCity.reviewer),
        await graphql(LICENCE_CHECK, { id: me.idNumber }, headers.marketSupervision!),
        await graphql(LOAN_CHECK, { id: me.idNumber }, headers.housingFund!),
      ];
      for (const reply of replies) expect(reply.status).toBe(200);
      const target = await entryOf(replies[1]!.requestId);
      const chainId = testCity.gateway.instanceId;
      const db = testCity.gateway.store.db;

      // A plain UPDATE is refused by the append-only trigger.
      await expect(sql`update access_log set purpose = 'edited' where id = ${target.id}`.execute(db)).rejects.toThrow(/append-only/);

      /** Edits the entry as a superuser would: with triggers off for this transaction only. */
      const setPurpose = async (purpose: string | null) => {
        if (scratch) {
          const superuser = new pg.Client({ connectionString: scratch.url });
          await superuser.connect();
          try {
            await superuser.query('begin');
            await superuser.query('set local session_replication_role = replica');
            const result = await superuser.query('update access_log set purpose = $1 where id = $2', [purpose, target.id]);
            expect(result.rowCount).toBe(1);
            await superuser.query('commit');
          } finally {
            await superuser.end();
          }
        } else {
          await db.transaction().execute(async (trx) => {
            await sql`set local session_replication_role = replica`.execute(trx);
            const result = await sql`update access_log set purpose = ${purpose} where id = ${target.id}`.execute(trx);
            expect(Number(result.numAffectedRows)).toBe(1);
          });
        }
      };

      const verify = async (): Promise<{ ok: boolean; report: string }> => {
        if (scratch) {
          // The operator's command, as its own process, against the same database.
          const run = await runIsthmusCli(['log', 'verify'], { DATABASE_URL: scratch.url });
          expect([0, 1], run.stderr).toContain(run.code);
          return { ok: run.code === 0, report: run.stdout };
        }
        // PGlite allows one process at a time and the gateway holds it: verify in-process, on the gateway's store.
        const result = await verifyAccessLog(db);
        return {
          ok: result.problems.length === 0,
          report:
            result.problems.length === 0
              ? `ok: ${result.entries} entries in ${result.chains} chains\n`
              : result.problems.map((problem) => `${problem.kind} chain=${problem.chainId} seq=${problem.seq} entry=${problem.entryId ?? '-'}: ${problem.detail}\n`).join(''),
        };
      };

      const entries = Number((await db.selectFrom('access_log').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
      const intact = await verify();
      expect(intact.ok, intact.report).toBe(true);
      expect(intact.report).toContain(`ok: ${entries} entries in 1 chains`);

      await setPurpose('tampered-purpose');
      try {
        const broken = await verify();
        expect(broken.ok).toBe(false);
        expect(broken.report).toContain(`EDITED chain=${chainId} seq=${Number(target.seq)} entry=${target.id}`);
        expect(broken.report.split('\n').filter((line) => line.startsWith('EDITED'))).toHaveLength(1);
      } finally {
        await setPurpose(target.purpose);
      }
      const restored = await verify();
      expect(restored.ok, restored.report).toBe(true);
    });
  });
});
