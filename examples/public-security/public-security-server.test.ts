import { readFileSync } from 'node:fs';
import { Kind, parse, print, type ObjectTypeDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BureauServer } from '../bureau-server.ts';
import { generateCity } from '../data/generate-city.ts';
import { startPublicSecurity } from './public-security-server.ts';

const city = generateCity({ seed: 11, persons: 60, enterprises: 10 });
const REQUEST_TIMEOUT_MS = 5_000;

interface GraphQLResponse {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

let bureau: BureauServer;

async function graphql(query: string, variables?: Record<string, unknown>, signal?: AbortSignal): Promise<GraphQLResponse> {
  const response = await fetch(bureau.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
    signal: signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as GraphQLResponse;
}

const PERSONS = 'query ($ids: [ID!]!) { persons(idNumbers: $ids) { idNumber name gender birthDate address householdId } }';

beforeAll(async () => {
  bureau = await startPublicSecurity({ city });
});

afterAll(async () => {
  await bureau?.stop();
});

describe('public security bureau', () => {
  it('listens on loopback at /graphql', () => {
    expect(bureau.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
  });

  it('serves one person with every field', async () => {
    const person = city.persons[7]!;
    const result = await graphql(
      'query ($id: ID!) { person(idNumber: $id) { idNumber name gender birthDate address householdId } }',
      { id: person.idNumber },
    );
    expect(result).toEqual({ data: { person: { ...person } } });
  });

  it('answers null for an unknown person', async () => {
    expect(await graphql('{ person(idNumber: "110105194912310021") { name } }')).toEqual({ data: { person: null } });
  });

  it('serves persons in the order asked, with null where unknown, in one request', async () => {
    const [a, b] = [city.persons[3]!, city.persons[42]!];
    const before = bureau.requestCount();
    const result = await graphql(PERSONS, { ids: [b.idNumber, 'nobody', a.idNumber, b.idNumber] });
    expect(result.errors).toBeUndefined();
    expect(result.data?.['persons']).toEqual([{ ...b }, null, { ...a }, { ...b }]);
    expect(bureau.requestCount() - before).toBe(1);
  });

  it('takes 1,000 keys and refuses 1,001 with a GraphQL error', async () => {
    const ids = Array.from({ length: 1_000 }, (_, i) => `id-${i}`);
    const full = await graphql('query ($ids: [ID!]!) { persons(idNumbers: $ids) { idNumber } }', { ids });
    expect(full.data?.['persons']).toHaveLength(1_000);

    const tooMany = await graphql('query ($ids: [ID!]!) { persons(idNumbers: $ids) { idNumber } }', {
      ids: [...ids, city.persons[0]!.idNumber],
    });
    expect(tooMany.data).toBeNull();
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(tooMany.errors?.[0]?.message).toContain('1000');
  });

  it('offers exactly the fields of schemas/public-security/schema.graphql, without Isthmus directives', async () => {
    const expected = parse(readFileSync(new URL('../../schemas/public-security/schema.graphql', import.meta.url), 'utf8'));
    const served = await graphql(`{
      query: __type(name: "Query") { fields { name args { name type { ...T } } type { ...T } } }
      person: __type(name: "Person") { fields { name type { ...T } } }
      __schema { directives { name } }
    }
    fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }`);
    for (const typeName of ['Query', 'Person']) {
      const definition = expected.definitions.find(
        (node): node is ObjectTypeDefinitionNode =>
          node.kind === Kind.OBJECT_TYPE_DEFINITION && node.name.value === typeName,
      )!;
      const fields = (served.data?.[typeName === 'Query' ? 'query' : 'person'] as { fields: ServedField[] }).fields;
      expect(fields.map((field) => field.name).sort()).toEqual(definition.fields!.map((field) => field.name.value).sort());
      for (const field of definition.fields!) {
        const servedField = fields.find((candidate) => candidate.name === field.name.value)!;
        expect(typeString(servedField.type), field.name.value).toBe(print(field.type));
        const expectedArgs = (field.arguments ?? []).map((arg) => `${arg.name.value}: ${print(arg.type)}`);
        expect((servedField.args ?? []).map((arg) => `${arg.name}: ${typeString(arg.type)}`)).toEqual(expectedArgs);
      }
    }
    const directives = (served.data?.['__schema'] as { directives: { name: string }[] }).directives.map((d) => d.name);
    expect(directives).not.toContain('share');
    expect(directives).not.toContain('merge');
  });

  it('answers 404 off its endpoint', async () => {
    const response = await fetch(new URL('/elsewhere', bureau.url), { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    expect(response.status).toBe(404);
    await response.body?.cancel();
  });

  it('delays responses by the latency set, until reset', async () => {
    bureau.setLatency(400);
    try {
      await expect(graphql('{ __typename }', undefined, AbortSignal.timeout(100))).rejects.toThrow();
    } finally {
      bureau.setLatency(0);
    }
    expect(await graphql('{ __typename }')).toEqual({ data: { __typename: 'Query' } });
    expect(() => bureau.setLatency(-1)).toThrow(RangeError);
  });

  it('goes down on stop, dropping keep-alive connections, and comes back on the same url', async () => {
    // The previous requests left an idle keep-alive connection in fetch's pool.
    await graphql('{ __typename }');
    await bureau.stop();
    await expect(graphql('{ __typename }')).rejects.toThrow();
    await bureau.start();
    expect(await graphql('{ __typename }')).toEqual({ data: { __typename: 'Query' } });
  });
});

interface ServedField {
  name: string;
  type: unknown;
  args?: { name: string; type: unknown }[];
}

interface IntrospectedType {
  kind: string;
  name: string | null;
  ofType: IntrospectedType | null;
}

function typeString(type: unknown): string {
  const t = type as IntrospectedType;
  if (t.kind === 'NON_NULL') return `${typeString(t.ofType)}!`;
  if (t.kind === 'LIST') return `[${typeString(t.ofType)}]`;
  return t.name!;
}
