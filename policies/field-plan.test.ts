import fc from 'fast-check';
import { buildSchema, parse, print, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { CITIZEN, OTHER_PERSON, demoClientSchema, executeWithMadeUpData, planOf } from '../test/support/policy-fixtures.ts';
import { randomOperation } from '../test/support/random-operations.ts';
import { planFields, planOperation, type OperationPlan, type PlannedField } from './field-plan.ts';
import { printPlan } from './print-plan.ts';

/** The plan as a readable tree: `key coordinate` per field. */
function outline(fields: readonly PlannedField[]): unknown[] {
  return fields.map((field) => (field.children.length > 0 ? { [`${field.key} ${field.coordinate}`]: outline(field.children) } : `${field.key} ${field.coordinate}`));
}

function problemOf(query: string, variables: Record<string, unknown> = {}, operationName?: string) {
  const plan = planOperation(demoClientSchema(), parse(query), operationName, variables);
  if (plan.kind !== 'problem') throw new Error('planned');
  return plan;
}

/** The shape of a result: response keys, lists reduced to their first item. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length > 0 ? shape(value[0]) : null;
  if (value === null || typeof value !== 'object') return null;
  return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, shape(child)]));
}

function planShape(fields: readonly PlannedField[]): unknown {
  return Object.fromEntries(fields.map((field) => [field.responseKey, field.returnKind === 'LEAF' ? null : planShape(field.children)]));
}

/** `value` with only the response keys the plan has. */
function project(value: unknown, fields: readonly PlannedField[]): unknown {
  if (Array.isArray(value)) return value.map((item) => project(item, fields));
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(
    fields.map((field) => [field.responseKey, field.returnKind === 'LEAF' ? record[field.responseKey] : project(record[field.responseKey], field.children)]),
  );
}

describe('planOperation', () => {
  it('resolves named and inline fragments, aliases and variables into one tree of fields', () => {
    const plan = planOf(
      `query Lookup($id: ID!) {
        p1: person(idNumber: $id) { ...Basic ... on Person { enterprises { name } } }
        __typename
      }
      fragment Basic on Person { name idNumber }`,
      { id: CITIZEN },
    );
    expect(plan).toMatchObject({ kind: 'plan', operation: 'query', operationName: 'Lookup', rootType: 'Query', variables: { id: CITIZEN } });
    expect(outline(plan.fields)).toEqual([
      { 'p1 Query.person': ['p1.name Person.name', 'p1.idNumber Person.idNumber', { 'p1.enterprises Person.enterprises': ['p1.enterprises.name Enterprise.name'] }] },
      '__typename Query.__typename',
    ]);
    const [p1] = plan.fields;
    expect(p1).toMatchObject({ responseKey: 'p1', fieldName: 'person', parentType: 'Query', path: ['p1'], args: { idNumber: CITIZEN }, returnType: 'Person', returnKind: 'OBJECT' });
    expect(print(p1!.argumentNodes[0]!)).toBe('idNumber: $id');
    expect(p1!.children[2]!.children[0]).toMatchObject({ path: ['p1', 'enterprises', 'name'], parentType: 'Enterprise', returnKind: 'LEAF' });
  });

  it('drops what @include and @skip exclude, with literals and variables; @skip wins over @include', () => {
    const plan = planOf(
      `query($yes: Boolean!, $no: Boolean = false) {
        person(idNumber: "${CITIZEN}") {
          name @include(if: $yes)
          address @include(if: $no)
          gender @skip(if: $yes)
          birthDate @skip(if: $no)
          idNumber @include(if: true) @skip(if: true)
          ... @skip(if: $yes) { householdId }
          ...More @include(if: $no)
          ...Kept @include(if: $yes)
        }
      }
      fragment More on Person { enterprises { name } }
      fragment Kept on Person { socialInsurance { insuredStatus } }`,
      { yes: true },
    );
    expect(outline(plan.fields)).toEqual([
      { 'person Query.person': ['person.name Person.name', 'person.birthDate Person.birthDate', { 'person.socialInsurance Person.socialInsurance': ['person.socialInsurance.insuredStatus SocialInsurance.insuredStatus'] }] },
    ]);
    expect(plan.variables).toEqual({ yes: true, no: false });
  });

  it('merges duplicate selections of one response key, their sub-selections united', () => {
    const plan = planOf(
      `query($id: ID!) {
        person(idNumber: $id) { name enterprises { name } }
        person(idNumber: $id) { address name enterprises { status } }
        ... on Query { person(idNumber: $id) { ...F } }
      }
      fragment F on Person { name enterprises { name creditCode } }`,
      { id: CITIZEN },
    );
    expect(outline(plan.fields)).toEqual([
      {
        'person Query.person': [
          'person.name Person.name',
          { 'person.enterprises Person.enterprises': ['person.enterprises.name Enterprise.name', 'person.enterprises.status Enterprise.status', 'person.enterprises.creditCode Enterprise.creditCode'] },
          'person.address Person.address',
        ],
      },
    ]);
  });

  it('keeps aliases of one field apart', () => {
    const plan = planOf(`{ a: person(idNumber: "${CITIZEN}") { n: name } b: person(idNumber: "${OTHER_PERSON}") { n: address name } }`);
    expect(planFields(plan).map((field) => `${field.key} ${field.coordinate}`)).toEqual([
      'a Query.person',
      'a.n Person.name',
      'b Query.person',
      'b.n Person.address',
      'b.name Person.name',
    ]);
    expect(plan.fields.map((field) => field.args)).toEqual([{ idNumber: CITIZEN }, { idNumber: OTHER_PERSON }]);
  });

  it('coerces argument values and applies variable defaults', () => {
    const plan = planOf('query($ids: [ID!]! = ["1", "2"], $one: ID!) { persons(idNumbers: $ids) { name } enterprises(creditCodes: [$one, "x"]) { name } }', { one: 7 });
    expect(plan.fields.map((field) => field.args)).toEqual([{ idNumbers: ['1', '2'] }, { creditCodes: ['7', 'x'] }]);
  });

  it('marks __typename, __schema, __type and everything beneath them as introspection', () => {
    const plan = planOf('{ __schema { queryType { name } } __type(name: "Person") { fields { name } } person(idNumber: "1") { __typename name } }');
    expect(planFields(plan).map((field) => [field.coordinate, field.introspection])).toEqual([
      ['Query.__schema', true],
      ['__Schema.queryType', true],
      ['__Type.name', true],
      ['Query.__type', true],
      ['__Type.fields', true],
      ['__Field.name', true],
      ['Query.person', false],
      ['Person.__typename', true],
      ['Person.name', false],
    ]);
    expect(plan.fields[1]!.args).toEqual({ name: 'Person' });
  });

  it('picks the named operation among several', () => {
    const plan = planOf('query A { __typename } query B { person(idNumber: "1") { name } }', {}, 'B');
    expect(plan.operationName).toBe('B');
    expect(plan.fields.map((field) => field.coordinate)).toEqual(['Query.person']);
  });

  it('plans each concrete type below an interface or a union, with keys qualified by the type', () => {
    const schema = buildSchema(`
      type Query { search(text: String!): [Result!]! node(id: ID!): Node }
      union Result = Person | Enterprise
      interface Node { id: ID! }
      type Person implements Node { id: ID! name: String }
      type Enterprise implements Node { id: ID! name: String status: String }
    `);
    const plan = planOf(
      '{ search(text: "x") { __typename ... on Person { name } ... on Node { id } ... on Enterprise { name status } } node(id: "1") { id ... on Enterprise { status } } }',
      {},
      undefined,
      schema,
    );
    expect(outline(plan.fields)).toEqual([
      {
        'search Query.search': [
          'search.Person:__typename Person.__typename',
          'search.Person:name Person.name',
          'search.Person:id Person.id',
          'search.Enterprise:__typename Enterprise.__typename',
          'search.Enterprise:id Enterprise.id',
          'search.Enterprise:name Enterprise.name',
          'search.Enterprise:status Enterprise.status',
        ],
      },
      { 'node Query.node': ['node.Person:id Person.id', 'node.Enterprise:id Enterprise.id', 'node.Enterprise:status Enterprise.status'] },
    ]);
    expect(plan.fields[0]!.returnKind).toBe('ABSTRACT');
  });

  describe('problems come back as values', () => {
    it.each([
      ['an unknown operation name', '{ __typename }', {}, 'Nope', 'OPERATION_NOT_FOUND'],
      ['several operations without a name', 'query A { __typename } query B { __typename }', {}, undefined, 'OPERATION_NAME_REQUIRED'],
      ['no operation', 'fragment F on Person { name }', {}, undefined, 'NO_OPERATION'],
      ['a mutation the schema does not have', 'mutation { x }', {}, undefined, 'UNSUPPORTED_OPERATION'],
      ['an unknown fragment', '{ person(idNumber: "1") { ...Missing } }', {}, undefined, 'UNKNOWN_FRAGMENT'],
      ['an unknown type condition', '{ person(idNumber: "1") { ... on Ghost { name } } }', {}, undefined, 'UNKNOWN_TYPE'],
      ['an unknown field', '{ person(idNumber: "1") { nickname } }', {}, undefined, 'UNKNOWN_FIELD'],
      ['a field __schema off the root', '{ person(idNumber: "1") { __schema { __typename } } }', {}, undefined, 'UNKNOWN_FIELD'],
      ['one response key for two fields', '{ person(idNumber: "1") { x: name x: address } }', {}, undefined, 'FIELD_CONFLICT'],
      ['one response key with two argument values', '{ p: person(idNumber: "1") { name } p: person(idNumber: "2") { name } }', {}, undefined, 'FIELD_CONFLICT'],
      ['a missing required argument', '{ person { name } }', {}, undefined, 'INVALID_ARGUMENT'],
      ['a skip without its condition', 'query($b: Boolean) { __typename @skip(if: $b) }', {}, undefined, 'INVALID_ARGUMENT'],
    ] as const)('%s', (_, query, variables, operationName, code) => {
      expect(problemOf(query, variables, operationName)).toMatchObject({ kind: 'problem', code });
    });

    it('a missing variable, named, not thrown', () => {
      expect(problemOf('query($id: ID!) { person(idNumber: $id) { name } }')).toEqual({
        kind: 'problem',
        code: 'VARIABLE_MISSING',
        message: 'variable $id is required but has no value',
      });
      expect(problemOf('query($id: ID!) { person(idNumber: $id) { name } }', { id: null }).code).toBe('VARIABLE_MISSING');
    });

    it('an invalid variable value, named without quoting the value', () => {
      const problem = problemOf('query($ids: [ID!]!) { persons(idNumbers: $ids) { name } }', { ids: { secret: CITIZEN } });
      expect(problem.code).toBe('VARIABLE_INVALID');
      expect(problem.message).toContain('$ids');
      expect(problem.message).not.toContain(CITIZEN);
    });

    it('a fragment that spreads itself through a field is refused, not followed forever', () => {
      const schema = buildSchema('type Query { me: Person } type Person { name: String friend: Person }');
      const document = parse('{ me { ...F } } fragment F on Person { name friend { ...F } }');
      expect(validate(schema, document)).not.toHaveLength(0);
      expect(planOperation(schema, document)).toMatchObject({ kind: 'problem', code: 'TOO_DEEP' });
      // A fragment spread directly inside itself is ignored, as GraphQL execution does.
      expect(planOperation(schema, parse('{ me { ...G } } fragment G on Person { name ...G }'))).toMatchObject({ kind: 'plan' });
    });
  });

  describe('properties over random operations', () => {
    it('the plan has the shape of the result, and its full print executes to the same result', () => {
      const schema = demoClientSchema();
      fc.assert(
        fc.property(randomOperation, ({ query, variables, operationName }) => {
          const document = parse(query);
          expect(validate(schema, document)).toEqual([]);
          const plan = planOperation(schema, document, operationName, variables) as OperationPlan;
          expect(plan.kind).toBe('plan');
          const original = executeWithMadeUpData(schema, document, variables, operationName);
          expect(planShape(plan.fields)).toEqual(shape(original));
          const printed = printPlan(plan, () => true);
          expect(validate(schema, printed)).toEqual([]);
          // The print may add __typename where a selection would be empty; the caller drops it.
          expect(project(executeWithMadeUpData(schema, printed, variables), plan.fields)).toEqual(original);
          // Keys are unique and paths end in their response key.
          const fields = planFields(plan);
          expect(new Set(fields.map((field) => field.key)).size).toBe(fields.length);
          for (const field of fields) expect(field.path.at(-1)).toBe(field.responseKey);
        }),
        { numRuns: 200 },
      );
    });
  });
});
