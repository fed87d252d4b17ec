import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleResident } from '../examples/demo-city.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';
import { countingCalls, NO_CALLS } from './support/upstream-calls.ts';

/**
 * The GraphQL-over-HTTP specification, checked two ways against one real
 * gateway (the demo city on free ports): graphql-http's own audit suite,
 * every audit by name, and the gateway's own refusals under each media type,
 * which must keep their codes (`BAD_USER_INPUT`, `LIMIT_EXCEEDED`, …) while
 * the status follows the spec: 200 with `errors` for an `application/json`
 * client whose document does not parse or validate or whose variables do not
 * coerce, 400 for an `application/graphql-response+json` one.
 */

/** The audits of graphql-http 1.23 that are requirements (MUST) or recommendations (SHOULD), by id: every one must pass. */
const MUST = ['4655', '82A3', 'BF61', '78D5', '2C94', '03D4', '13EE', 'B8B3', '0220', '0221', '0222', '28B9', '1B7A'];
const SHOULD = ['22EB', '47DE', '80D8', '9ABE', '34A2', '8161', '94B0', '94B1', '94B2', '2EA1', '428F', 'BCF8', 'B7N8', '572B', 'FDE2', '7B9B', '865D', '556A', 'D586', '51FE', '74FF', '5E5B', '86EE'];
/**
 * The audits that are only MAY (what a server may do: GET with URL-encoded
 * variables, 400 for parameters of the wrong type, …). The gateway passes
 * them too, and this file holds it to them, but the spec would allow either.
 */
const MAY = ['5A70', '9C48', 'A5BF', '423L', 'LKJ0', 'LKJ1', 'LKJ2', 'LKJ3', '6C00', '6C01', '6C02', '6C03', '4760', '4761', '4762', '4763', 'D6D5', '6A70', '58B0', '58B1', '58B2', '58B3', 'B6DC', '8764', '3E3A'];

const JSON_MEDIA = 'application/json';
const GRAPHQL_RESPONSE = 'application/graphql-response+json';
/** This file's gateway allows depth 2, so a depth refusal is cheap to write. */
const MAX_DEPTH = 2;

let city: TestCity;
beforeAll(async () => {
  city = await startTestCity({ ISTHMUS_MAX_DEPTH: String(MAX_DEPTH) });
});
afterAll(async () => {
  await city?.close();
});

/**
 * The audits send no token, and the gateway answers every request without
 * one 401 before it reads the body: each audit's request goes as the demo's
 * reviewer (a token and nothing else, so what the audit sends is what is judged).
 */
function asReviewer(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', city.reviewer.authorization!);
  return fetch(input, { ...init, headers });
}

describe("graphql-http's server audits", () => {
  const audits = serverAudits({ url: () => `${city.gateway.url}/graphql`, fetchFn: asReviewer });

  it('are the suite this file was written for: every MUST and SHOULD, and the MAYs, by id', () => {
    const ids = (level: string) => audits.filter((audit) => audit.name.startsWith(`${level} `)).map((audit) => audit.id);
    expect({ MUST: ids('MUST'), SHOULD: ids('SHOULD'), MAY: ids('MAY') }).toEqual({ MUST, SHOULD, MAY });
  });

  for (const audit of audits) {
    it(`${audit.id} ${audit.name}`, async () => {
      const result = await audit.fn();
      expect(result.status === 'ok' ? 'ok' : `${result.status}: ${result.reason}`).toBe('ok');
    });
  }
});

/** What a client of one media type gets for one POST. */
async function ask(accept: string, body: unknown, headers: Record<string, string> = city.reviewer) {
  const response = await fetch(`${city.gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  expect(text).not.toMatch(/\n\s+at |stack|node_modules|\.ts:\d+/);
  return { status: response.status, contentType: response.headers.get('content-type'), requestId: response.headers.get('x-request-id'), body: JSON.parse(text) as { data?: unknown; errors?: { message: string; extensions: Record<string, unknown> }[] } };
}

/** Asks once per media type; no bureau may be called for any of these. */
async function askBoth(body: unknown, headers?: Record<string, string>) {
  const { result, calls } = await countingCalls(city, async () => ({ json: await ask(JSON_MEDIA, body, headers), graphqlResponse: await ask(GRAPHQL_RESPONSE, body, headers) }));
  expect(calls).toEqual(NO_CALLS);
  return result;
}

const resident = sampleResident();

describe('the status of a request error follows the media type; the code stays the gateway’s', () => {
  const documentFailures: readonly [string, unknown, string, RegExp | undefined][] = [
    ['a document that does not parse', { query: '{ person(idNumber: "1") { name ' }, 'BAD_USER_INPUT', /Syntax Error/],
    ['a field the schema does not have', { query: '{ person(idNumber: "1") { nickname } }' }, 'BAD_USER_INPUT', /nickname/],
    ['variables that do not coerce', { query: 'query($ids: [ID!]!) { persons(idNumbers: $ids) { name } }', variables: { ids: { secret: resident.idNumber } } }, 'BAD_USER_INPUT', undefined],
    ['a required variable left out', { query: 'query($id: ID!) { person(idNumber: $id) { name } }' }, 'BAD_USER_INPUT', /\$id/],
    ['an operation name the document does not have, on a field of a bureau', { query: 'query A($id: ID!) { person(idNumber: $id) { name } } query C { __typename }', operationName: 'B', variables: { id: resident.idNumber } }, 'BAD_USER_INPUT', /operation/],
    ['several operations and no name', { query: 'query A { __typename } query C { __typename }' }, 'BAD_USER_INPUT', /operation/],
    ['an operation name the document does not have', { query: 'query A { __typename }', operationName: 'B' }, 'BAD_USER_INPUT', /operation/],
    ['a document nested deeper than the limit', { query: 'query Q { ...A } fragment A on Query { persons(idNumbers: []) { ...B } } fragment B on Person { enterprises { name } }' }, 'LIMIT_EXCEEDED', /deeper than 2/],
    ['more aliases than the limit', { query: `{ ${Array.from({ length: 31 }, (_, index) => `a${index}: __typename`).join(' ')} }` }, 'LIMIT_EXCEEDED', /aliases/],
  ];

  it.each(documentFailures)('%s: 200 for application/json, 400 for application/graphql-response+json, %s either way', async (_what, body, code, message) => {
    const { json, graphqlResponse } = await askBoth(body);
    expect([json.status, graphqlResponse.status]).toEqual([200, 400]);
    expect(json.contentType).toBe(`${JSON_MEDIA}; charset=utf-8`);
    expect(graphqlResponse.contentType).toBe(`${GRAPHQL_RESPONSE}; charset=utf-8`);
    for (const reply of [json, graphqlResponse]) {
      expect(reply.body.data).toBeUndefined();
      expect(reply.body.errors?.[0]?.extensions).toMatchObject({ code, requestId: reply.requestId });
      if (message) expect(reply.body.errors![0]!.message).toMatch(message);
      // The values sent are personal data: never quoted back.
      expect(JSON.stringify(reply.body)).not.toContain(resident.idNumber);
    }
  });

  it('keeps what a limit says it refused', async () => {
    const { json } = await askBoth(documentFailures.find(([what]) => what.includes('nested'))![1]);
    expect(json.body.errors![0]!.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 'depth', max: MAX_DEPTH });
  });

  it('a GET whose query does not parse is answered the same way', async () => {
    const get = (accept: string) => fetch(`${city.gateway.url}/graphql?query=${encodeURIComponent('{ __typename')}`, { headers: { accept, ...city.reviewer } });
    const [json, graphqlResponse] = await Promise.all([get(JSON_MEDIA), get(GRAPHQL_RESPONSE)]);
    expect([json.status, graphqlResponse.status]).toEqual([200, 400]);
    expect((await json.json()).errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  const notWellFormed: readonly [string, unknown][] = [
    ['a body that is not JSON', '{"query": "{ __typename }"'],
    ['no query at all', { variables: {} }],
    ['a query that is not a string', { query: { __typename: true } }],
    ['an operation name that is not a string', { query: '{ __typename }', operationName: 17 }],
    ['variables that are not an object', { query: '{ __typename }', variables: '{}' }],
  ];

  it.each(notWellFormed)('%s is not a well-formed request: 400 BAD_USER_INPUT for either media type', async (_what, body) => {
    const { json, graphqlResponse } = await askBoth(body);
    expect([json.status, graphqlResponse.status]).toEqual([400, 400]);
    for (const reply of [json, graphqlResponse]) expect(reply.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', requestId: reply.requestId });
  });

  it('refusals of the gateway keep their status for either media type: no token 401, a malformed purpose header 400', async () => {
    const { authorization: _none, ...withoutToken } = city.reviewer;
    const anonymous = await askBoth({ query: '{ __typename }' }, withoutToken);
    expect([anonymous.json.status, anonymous.graphqlResponse.status]).toEqual([401, 401]);
    for (const reply of [anonymous.json, anonymous.graphqlResponse]) expect(reply.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_MISSING' });

    const badPurpose = await askBoth({ query: 'query($id: ID!) { person(idNumber: $id) { name } }', variables: { id: resident.idNumber } }, { ...city.reviewer, 'x-isthmus-purpose': 'Not A Purpose' });
    expect([badPurpose.json.status, badPurpose.graphqlResponse.status]).toEqual([400, 400]);
    for (const reply of [badPurpose.json, badPurpose.graphqlResponse]) expect(reply.body.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
  });

  it('a sound request is 200 with data for either media type', async () => {
    const { json, graphqlResponse } = await askBoth({ query: '{ __typename }' });
    expect([json.status, graphqlResponse.status]).toEqual([200, 200]);
    expect(json.body).toEqual({ data: { __typename: 'Query' } });
    expect(graphqlResponse.body).toEqual({ data: { __typename: 'Query' } });
  });
});
