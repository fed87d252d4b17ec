import { execute, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildBureauSchema } from '../../gateway/catalogue/bureau-schema.ts';
import { ConnectorConfigError, UpstreamUnavailableError } from '../connector-error.ts';
import { buildRestSchema, type GetJson } from './rest-schema.ts';

const BUREAU = 'test-bureau';

const PERSON = `type Person @key(field: "idNumber") {
  idNumber: ID! @share(category: OPEN, sensitivity: HIGH)
  name: String @share(category: OPEN, sensitivity: LOW)
}`;

function build(query: string, getJson: GetJson = async () => null) {
  return buildRestSchema({ bureau: BUREAU, schema: buildBureauSchema(`type Query { ${query} }\n${PERSON}`), maxBatch: 100, getJson });
}

function configError(query: string): ConnectorConfigError {
  try {
    build(query);
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectorConfigError);
    return error as ConnectorConfigError;
  }
  throw new Error('expected a ConnectorConfigError');
}

const SHARE = '@share(category: OPEN, sensitivity: LOW)';

describe('buildRestSchema', () => {
  it('fills the path from the arguments, URL-encoded, and sends the others as query parameters', async () => {
    const paths: string[] = [];
    const schema = build(`person(idNumber: ID!, fields: [String!], active: Boolean): Person ${SHARE} @http(get: "/persons/{idNumber}")`, async (path) => {
      paths.push(path);
      return { idNumber: '1/2 3', name: 'x' };
    });
    const result = await execute({
      schema,
      document: parse('{ person(idNumber: "1/2 3", fields: ["a", "b"], active: true) { name } }'),
      contextValue: {},
    });
    expect(result).toEqual({ data: { person: { name: 'x' } } });
    expect(paths).toEqual(['/persons/1%2F2%203?fields=a%2Cb&active=true']);
  });

  it('refuses an answer of the wrong shape as the bureau failing', async () => {
    const schema = build(`person(idNumber: ID!): Person ${SHARE} @http(get: "/persons/{idNumber}")`, async () => [{ idNumber: '1' }]);
    const result = await execute({ schema, document: parse('{ person(idNumber: "1") { name } }'), contextValue: {} });
    expect(result.data).toEqual({ person: null });
    const error = result.errors?.[0]?.originalError;
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error).toMatchObject({ failure: 'failed', message: `${BUREAU} is unavailable (failed)` });
    expect(String((error as Error).cause)).toMatch(/Query\.person: expected an object, got an array/);
  });

  it('refuses a batch answer whose items cannot be matched to keys', async () => {
    const schema = build(`persons(idNumbers: [ID!]!): [Person]! ${SHARE} @merge @http(get: "/persons", batchParam: "id", batchBy: "idNumber")`, async () => [
      { name: 'no key' },
    ]);
    const result = await execute({ schema, document: parse('{ persons(idNumbers: ["1"]) { name } }'), contextValue: {} });
    expect(result.errors?.[0]?.originalError).toBeInstanceOf(UpstreamUnavailableError);
  });

  it.each([
    ['a root field without @http', `person(idNumber: ID!): Person ${SHARE}`, /Query\.person: a root field needs @http/],
    ['a placeholder that is no argument', `person(idNumber: ID!): Person ${SHARE} @http(get: "/persons/{id}")`, /the path's \{id\} is not an argument/],
    ['a path without a leading slash', `person(idNumber: ID!): Person ${SHARE} @http(get: "persons/{idNumber}")`, /must start with \//],
    ['batchParam without batchBy', `persons(idNumbers: [ID!]!): [Person]! ${SHARE} @http(get: "/persons", batchParam: "id")`, /batchParam and batchBy go together/],
    ['a @merge field with @http but no batch', `persons(idNumbers: [ID!]!): [Person]! ${SHARE} @merge @http(get: "/persons")`, /needs batchParam and batchBy/],
    [
      'a batch with placeholders',
      `persons(idNumbers: [ID!]!): [Person]! ${SHARE} @merge @http(get: "/persons/{idNumbers}", batchParam: "id", batchBy: "idNumber")`,
      /takes no \{placeholders\}/,
    ],
  ])('refuses %s, naming the field', (_, query, message) => {
    const error = configError(query);
    expect(error.message).toMatch(message);
    expect(error.message.startsWith(`${BUREAU}: Query.`)).toBe(true);
  });
});
