import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoCity } from '../examples/data/generate-city.ts';
import { DEMO_CONSUMERS } from '../examples/demo-agreements.ts';
import { isthmusReads } from '../examples/human-resources-social-security/isthmus-reads.ts';
import { describeEachStore } from './support/describe-each-store.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';

/**
 * Issue 11 item 5, end to end: a database bureau learns who is asking. The
 * gateway's SQL connector makes every read of the HRSS database in a
 * statement that first sets the consumer (`isthmus.consumer_bureau`, …),
 * and the bureau's own audit (`audit.isthmus_reads`, filled by the view its
 * SDL reads) records who read which insured person, under which agreement
 * and request. On PGlite and on the PostgreSQL server of DATABASE_URL.
 */

const city = demoCity();
const insured = city.insuranceAccounts.filter((account) => account.insuredStatus === 'ACTIVE').slice(0, 2);
const { civilAffairs } = DEMO_CONSUMERS;

const INSURANCE = /* GraphQL */ `
  query($ids: [ID!]!) { persons(idNumbers: $ids) { idNumber socialInsurance { insuredStatus monthlyBase } } }
`;

describeEachStore('a database bureau’s own record of reads through the gateway, on $name', (target) => {
  let testCity: TestCity;

  beforeAll(async () => {
    testCity = await startTestCity({}, { store: target, bureauDatabase: target });
  }, 180_000);
  afterAll(() => testCity?.close());

  it('records the consumer bureau, app, user, purpose, case, agreement and request of every insured person read, in the bureau’s database', async () => {
    const caseId = 'MLA-2026/000417';
    const reply = await testCity.graphql(INSURANCE, { ids: insured.map((account) => account.idNumber) }, { ...testCity.reviewer, 'x-isthmus-case-id': caseId });
    expect(reply.body.errors).toBeUndefined();
    expect(reply.body.data.persons.map((person: { socialInsurance: { insuredStatus: string } }) => person.socialInsurance.insuredStatus)).toEqual(['ACTIVE', 'ACTIVE']);
    const requestId = reply.headers.get('x-request-id');
    expect(requestId).toBeTruthy();

    const reads = (await isthmusReads(testCity.bureaus.hrss)).filter((read) => read.requestId === requestId);
    expect(reads.map((read) => read.idNumber).sort()).toEqual(insured.map((account) => account.idNumber).sort());
    const consumer = {
      consumerBureau: civilAffairs.bureau,
      consumerApp: civilAffairs.app,
      consumerUser: 'he.fang@civil-affairs',
      purpose: civilAffairs.purpose,
      caseId,
      // Only the agreement exercised at this bureau: what else the consumer reads elsewhere is none of its business.
      agreementIds: ['agr-demo-allowance-insurance'],
      requestId,
      tableName: 'insurance_accounts',
    };
    for (const read of reads) expect(read).toEqual({ ...consumer, idNumber: read.idNumber });
  });

  it('records nothing for a request the gateway refused: the database was never read', async () => {
    const before = await isthmusReads(testCity.bureaus.hrss);
    // The citizen app has no agreement with HRSS: socialInsurance is denied before any bureau call.
    const citizen = await testCity.citizen(insured[0]!.idNumber);
    const reply = await testCity.graphql(INSURANCE, { ids: [insured[0]!.idNumber] }, citizen);
    expect(reply.body.errors?.map((error) => error.extensions.code)).toContain('FORBIDDEN');
    expect(await isthmusReads(testCity.bureaus.hrss)).toEqual(before);
  });

  it('keeps the identity to the gateway’s transaction: a read after it, outside the gateway, is recorded as nobody’s', async () => {
    await testCity.graphql(INSURANCE, { ids: [insured[1]!.idNumber] });
    // On PGlite this is the very backend the gateway's connection uses, so a
    // setting that outlived the transaction would show here.
    await testCity.bureaus.hrss.query('select id_number from isthmus.insurance_accounts where id_number = $1', [insured[1]!.idNumber]);
    const [gateway, bureau] = (await isthmusReads(testCity.bureaus.hrss)).slice(-2);
    expect(gateway).toMatchObject({ consumerBureau: civilAffairs.bureau, idNumber: insured[1]!.idNumber });
    expect(bureau).toEqual({ consumerBureau: null, consumerApp: null, consumerUser: null, purpose: null, caseId: null, agreementIds: [], requestId: null, tableName: 'insurance_accounts', idNumber: insured[1]!.idNumber });
  });
});
