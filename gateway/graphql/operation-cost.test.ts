import { describe, expect, it } from 'vitest';
import { buildSchema, parse, validate } from 'graphql';
import { operationCostRule } from './operation-cost.ts';

const schema = buildSchema(`
  type Query { persons(idNumbers: [ID!]!): [Person]! person(idNumber: ID!): Person tags(first: Int): [String] }
  type Person { idNumber: ID! name: String enterprises: [Enterprise!] friends: [Person] }
  type Enterprise { name: String registeredCapital: Float }
`);
const listSizes = new Map([
  ['Query.persons', { assumedSize: 50, slicingArguments: ['idNumbers'] }],
  ['Query.tags', { slicingArguments: ['first'] }],
  ['Person.enterprises', { assumedSize: 10, slicingArguments: [] }],
]);

function costErrors(query: string, maxCost: number) {
  return validate(schema, parse(query), [operationCostRule({ maxCost, defaultListSize: 20, listSizes })]).map((error) => error.extensions);
}

describe('operation cost', () => {
  it('multiplies nested lists: a slicing list argument counts its items, @listSize its assumed size', () => {
    // 2 × (1 + 1 + 10 × (1 + 2)) = 64
    const query = '{ persons(idNumbers: ["a", "b"]) { name enterprises { name registeredCapital } } }';
    expect(costErrors(query, 64)).toEqual([]);
    expect(costErrors(query, 63)).toEqual([expect.objectContaining({ code: 'LIMIT_EXCEEDED', reason: 'COST_LIMIT', limit: 'cost', cost: 64, max: 63 })]);
  });

  it('takes the assumed size for a variable, the default for an unmarked list, an Int slicing argument as given', () => {
    // 50 × (1 + 20 × (1 + 1)) = 2 050
    expect(costErrors('query ($ids: [ID!]!) { persons(idNumbers: $ids) { friends { name } } }', 2_049)[0]).toMatchObject({ cost: 2_050 });
    expect(costErrors('{ tags(first: 7) }', 6)[0]).toMatchObject({ cost: 7 });
  });

  it('expands fragments and ignores introspection', () => {
    const query = 'query { person(idNumber: "a") { ...P } __schema { types { fields { args { name } } } } } fragment P on Person { name enterprises { name } }';
    // 1 × (1 + 1 + 10 × 2) = 22
    expect(costErrors(query, 21)[0]).toMatchObject({ cost: 22 });
    expect(costErrors(query, 22)).toEqual([]);
  });

  it('saturates instead of overflowing on a wide nested list', () => {
    const deep = '{ persons(idNumbers: $x) { friends { friends { friends { friends { friends { friends { friends { friends { friends { friends { friends { name } } } } } } } } } } } } }';
    expect(costErrors(`query ($x: [ID!]!) ${deep}`, 1_000_000)[0]).toMatchObject({ reason: 'COST_LIMIT', max: 1_000_000 });
  });
});
