import { buildSchema, execute, parse, print, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { FieldDecision } from './decide.ts';
import { planFields } from './field-plan.ts';
import { DEMO_CLIENT_SDL, demoCatalogue, demoClientSchema, planOf } from '../test/support/policy-fixtures.ts';
import { recordsRead, withSubjectKeys } from './subject-keys.ts';

const PERSON = '330402198203151234';
const ENTERPRISE = '91330402MA2B3C4D5E';

/** Resolvers that return one person with one enterprise, whatever is asked. */
const rootValue = {
  person: () => ({
    idNumber: PERSON,
    name: '张三',
    socialInsurance: { insuredStatus: 'ACTIVE', contributionMonths: 12 },
    enterprises: [{ creditCode: ENTERPRISE, name: '嘉兴某某有限公司' }],
  }),
};

/** Runs `query` the way enforcement does: keyed document, executed, subjects read along the plan. */
function run(query: string, schema = demoClientSchema()) {
  const original = parse(query);
  const keyed = withSubjectKeys(original, schema, demoCatalogue());
  const result = execute({ schema, document: keyed.document, rootValue }) as { data: Record<string, unknown> };
  const plan = planOf(query, {}, undefined, schema);
  // Everything allowed: which fields enforcement would deny is not this module's business.
  const allowed = new Map<string, FieldDecision>(planFields(plan).map((field) => [field.key, { key: field.key, path: field.path, coordinate: field.coordinate, effect: 'allow' }]));
  return { keyed, data: result.data, records: recordsRead(result.data, plan, allowed, 'civil-affairs', demoCatalogue(), keyed.placement) };
}

const printed = (document: DocumentNode) => print(document).replace(/\s+/g, ' ');

describe('subject keys', () => {
  it('selects the key fields themselves when the client did not, and reads the subjects from them', () => {
    const { keyed, records } = run('{ person(idNumber: "x") { name enterprises { name } } }');
    expect(keyed.placement).toBe('key-fields');
    expect(printed(keyed.document)).toBe('{ person(idNumber: "x") { name enterprises { name creditCode } idNumber } }');
    expect(records.subjects).toEqual([
      { kind: 'person', id: PERSON },
      { kind: 'enterprise', id: ENTERPRISE },
    ]);
  });

  it('adds nothing where the client selected the key itself', () => {
    const { keyed, records } = run('{ person(idNumber: "x") { idNumber name } }');
    expect(printed(keyed.document)).toBe('{ person(idNumber: "x") { idNumber name } }');
    expect(records.subjects).toEqual([{ kind: 'person', id: PERSON }]);
  });

  it('falls back to reserved aliases when the document uses a key field’s name as an alias of another field', () => {
    const { keyed, data, records } = run('{ person(idNumber: "x") { name socialInsurance { idNumber: insuredStatus } } }');
    expect(keyed.placement).toBe('aliases');
    expect(printed(keyed.document)).toContain('_isthmus_subject_Person: idNumber');
    expect((data.person as { socialInsurance: { idNumber: string } }).socialInsurance.idNumber).toBe('ACTIVE');
    expect(records.subjects).toEqual([{ kind: 'person', id: PERSON }]);
  });

  it('falls back to reserved aliases below an interface or union, where a record’s type is not known', () => {
    const schema = buildSchema(`${DEMO_CLIENT_SDL}\n union Subject = Person | Enterprise\n extend type Query { subject(id: ID!): Subject }`);
    const keyed = withSubjectKeys(parse('{ subject(id: "x") { ... on Person { name } } }'), schema, demoCatalogue());
    expect(keyed.placement).toBe('aliases');
    expect(printed(keyed.document)).toContain('... on Person { name _isthmus_subject_Person: idNumber }');
  });
});
