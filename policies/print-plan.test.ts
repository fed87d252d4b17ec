import fc from 'fast-check';
import { TypeInfo, buildSchema, print, validate, visit, visitWithTypeInfo, type DocumentNode, type GraphQLSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { CITIZEN, demoClientSchema, executeWithMadeUpData, planOf } from '../test/support/policy-fixtures.ts';
import { randomOperation } from '../test/support/random-operations.ts';
import { planFields, type PlannedField } from './field-plan.ts';
import { printPlan } from './print-plan.ts';

/** Keeps every field whose coordinate is not listed. */
function without(...coordinates: string[]): (field: PlannedField) => boolean {
  return (field) => !coordinates.includes(field.coordinate);
}

/** `Type.field` of every field a document selects, as TypeInfo sees them. */
function coordinatesIn(schema: GraphQLSchema, document: DocumentNode): string[] {
  const typeInfo = new TypeInfo(schema);
  const found: string[] = [];
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        found.push(`${typeInfo.getParentType()!.name}.${node.name.value}`);
      },
    }),
  );
  return found;
}

function oneLine(document: DocumentNode): string {
  return print(document).replace(/\s+/g, ' ');
}

describe('printPlan', () => {
  it('prints the kept fields with fragments inlined, directives resolved, aliases and variables kept', () => {
    const plan = planOf(
      `query Lookup($id: ID!, $withAddress: Boolean!) {
        p1: person(idNumber: $id) { ...Basic address @include(if: $withAddress) enterprises { n: name } }
      }
      fragment Basic on Person { name householdId }`,
      { id: CITIZEN, withAddress: false },
    );
    const printed = printPlan(plan, without('Person.householdId'));
    expect(oneLine(printed)).toBe('query Lookup($id: ID!) { p1: person(idNumber: $id) { name enterprises { n: name } } }');
    expect(validate(demoClientSchema(), printed)).toEqual([]);
  });

  it('selects __typename where every field of a selection was dropped, and drops a root field when told to', () => {
    const plan = planOf(`query($id: ID!) { person(idNumber: $id) { name socialInsurance { insuredStatus } } enterprise(creditCode: "x") { name } }`, { id: CITIZEN });
    expect(oneLine(printPlan(plan, without('Person.name', 'SocialInsurance.insuredStatus')))).toBe(
      'query ($id: ID!) { person(idNumber: $id) { socialInsurance { __typename } } enterprise(creditCode: "x") { name } }',
    );
    expect(oneLine(printPlan(plan, without('Query.person')))).toBe('{ enterprise(creditCode: "x") { name } }');
    expect(oneLine(printPlan(plan, () => false))).toBe('{ __typename }');
  });

  it('never prints a child of a field it dropped', () => {
    const plan = planOf(`{ person(idNumber: "1") { socialInsurance { insuredStatus } name } }`);
    const printed = printPlan(plan, without('Person.socialInsurance'));
    expect(coordinatesIn(demoClientSchema(), printed)).toEqual(['Query.person', 'Person.name']);
  });

  it('prints the concrete types below an interface or a union as inline fragments, with __typename', () => {
    const schema = buildSchema(`
      type Query { search(text: String!): [Result!]! }
      union Result = Person | Enterprise
      type Person { name: String address: String }
      type Enterprise { name: String status: String }
    `);
    const plan = planOf('query($t: String!) { search(text: $t) { ... on Person { name address } ... on Enterprise { name status } } }', { t: 'x' }, undefined, schema);
    const printed = printPlan(plan, without('Person.address'));
    expect(oneLine(printed)).toBe('query ($t: String!) { search(text: $t) { __typename ... on Person { name } ... on Enterprise { name status } } }');
    expect(validate(schema, printed)).toEqual([]);
    expect(oneLine(printPlan(plan, (field) => field.parentType === 'Query'))).toBe('query ($t: String!) { search(text: $t) { __typename } }');
  });

  it('keeps the operation type and name, and the operation chosen among several', () => {
    const plan = planOf('query A { __typename } query B { person(idNumber: "1") { name } }', {}, 'B');
    expect(oneLine(printPlan(plan, () => true))).toBe('query B { person(idNumber: "1") { name } }');
  });

  it('for any operation and any keep: the print is valid, selects only kept fields under kept parents, and executes to the kept part', () => {
    const schema = demoClientSchema();
    fc.assert(
      fc.property(randomOperation, fc.func(fc.boolean()), ({ query, variables, operationName }, choose) => {
        const plan = planOf(query, variables, operationName);
        const kept = new Set(planFields(plan).filter((field) => choose(field.key)).map((field) => field.key));
        const keep = (field: PlannedField): boolean => kept.has(field.key);
        const printed = printPlan(plan, keep);
        expect(validate(schema, printed)).toEqual([]);

        // Every field the print selects is a kept field whose ancestors were all kept, or an added __typename.
        const reachable = new Map<string, PlannedField>();
        const walk = (fields: readonly PlannedField[]): void => {
          for (const field of fields) {
            if (!keep(field)) continue;
            reachable.set(field.key, field);
            walk(field.children);
          }
        };
        walk(plan.fields);
        const reachableCoordinates = new Set([...reachable.values()].map((field) => field.coordinate));
        for (const coordinate of coordinatesIn(schema, printed)) {
          if (!coordinate.endsWith('.__typename')) expect(reachableCoordinates).toContain(coordinate);
        }
        // And executing it returns every reachable field under its response key.
        const data = executeWithMadeUpData(schema, printed, variables);
        for (const field of reachable.values()) {
          let value: unknown = data;
          for (const key of field.path) value = Array.isArray(value) ? (value[0] as Record<string, unknown>)[key] : (value as Record<string, unknown>)[key];
          expect(value).toBeDefined();
        }
      }),
      { numRuns: 200 },
    );
  });
});
