import fc from 'fast-check';
import { CITIZEN, CREDIT_CODE, OTHER_PERSON } from './policy-fixtures.ts';

/**
 * Random, valid operations over the demo city's client schema, for property
 * tests: named and inline fragments (typed and untyped, some spread twice),
 * aliases, duplicated fields, `@include`/`@skip` with literals and
 * variables, nesting down to the leaves, sometimes beside a second operation.
 */

/** An operation to plan, with the variables and operation name to plan it with. */
export interface RandomOperation {
  readonly query: string;
  readonly variables: Record<string, unknown>;
  readonly operationName?: string;
}

type TypeName = 'Query' | 'Person' | 'Enterprise' | 'SocialInsurance';

/** Each type's fields and, for object-valued ones, the type they return. */
const FIELDS: Readonly<Record<TypeName, Readonly<Record<string, TypeName | null>>>> = {
  Query: { person: 'Person', persons: 'Person', enterprise: 'Enterprise', enterprises: 'Enterprise', __typename: null },
  Person: {
    idNumber: null,
    name: null,
    gender: null,
    birthDate: null,
    address: null,
    householdId: null,
    enterprises: 'Enterprise',
    socialInsurance: 'SocialInsurance',
    __typename: null,
  },
  Enterprise: {
    creditCode: null,
    name: null,
    legalRepresentativeId: null,
    status: null,
    registeredCapital: null,
    establishedOn: null,
    insuredEmployeeCount: null,
    __typename: null,
  },
  SocialInsurance: { insuredStatus: null, contributionMonths: null, employerCreditCode: null, monthlyBase: null, __typename: null },
};

type Condition = 'true' | 'false' | '$b1' | '$b2';
interface Directive {
  readonly name: 'include' | 'skip';
  readonly condition: Condition;
}
type Selection =
  | { readonly kind: 'field'; readonly name: string; readonly alias: number; readonly directive?: Directive; readonly children?: readonly Selection[] }
  | { readonly kind: 'inline'; readonly typed: boolean; readonly directive?: Directive; readonly children: readonly Selection[] }
  | { readonly kind: 'spread'; readonly reuse: boolean; readonly directive?: Directive; readonly children: readonly Selection[] };

/** About one selection in four carries a directive. */
const directive: fc.Arbitrary<Directive | undefined> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.record({ name: fc.constantFrom('include' as const, 'skip' as const), condition: fc.constantFrom<Condition>('true', 'false', '$b1', '$b2') }),
  },
);

function selections(type: TypeName, fragmentBudget: number): fc.Arbitrary<readonly Selection[]> {
  const field: fc.Arbitrary<Selection> = fc
    .record({ name: fc.constantFrom(...Object.keys(FIELDS[type])), alias: fc.integer({ min: 0, max: 2 }), directive })
    .chain(({ name, alias, directive: on }) => {
      const child = FIELDS[type][name];
      const base = { kind: 'field' as const, name, alias, ...(on ? { directive: on } : {}) };
      return child ? selections(child, 2).map((children): Selection => ({ ...base, children })) : fc.constant<Selection>(base);
    });
  if (fragmentBudget === 0) return fc.array(field, { minLength: 1, maxLength: 4 });
  const fragment: fc.Arbitrary<Selection> = fc
    .record({ kind: fc.constantFrom('inline' as const, 'spread' as const), flag: fc.boolean(), directive, children: selections(type, fragmentBudget - 1) })
    .map(({ kind, flag, directive: on, children }): Selection =>
      kind === 'inline'
        ? { kind, typed: flag, children, ...(on ? { directive: on } : {}) }
        : { kind, reuse: flag, children, ...(on ? { directive: on } : {}) },
    );
  return fc.array(fc.oneof({ weight: 3, arbitrary: field }, { weight: 1, arbitrary: fragment }), { minLength: 1, maxLength: 4 });
}

const VARIABLE_TYPES: Readonly<Record<string, string>> = {
  id0: 'ID!',
  id1: 'ID!',
  ids0: '[ID!]!',
  code0: 'ID!',
  codes0: '[ID!]!',
  b1: 'Boolean!',
  b2: 'Boolean = true',
};

/**
 * Root field arguments follow from the response key, so that duplicated
 * root fields never conflict: `person` takes `$id0`, its alias `x1_person`
 * takes `$id1`, `x2_person` a literal, and so on.
 */
function rootArguments(name: string, alias: number): { readonly text: string; readonly variables: readonly string[] } {
  switch (name) {
    case 'person':
      return [
        { text: '(idNumber: $id0)', variables: ['id0'] },
        { text: '(idNumber: $id1)', variables: ['id1'] },
        { text: `(idNumber: "${CITIZEN}")`, variables: [] },
      ][alias]!;
    case 'persons':
      return [
        { text: '(idNumbers: $ids0)', variables: ['ids0'] },
        { text: `(idNumbers: [$id1, "${CITIZEN}"])`, variables: ['id1'] },
        { text: `(idNumbers: ["${OTHER_PERSON}"])`, variables: [] },
      ][alias]!;
    case 'enterprise':
      return alias === 2 ? { text: `(creditCode: "${CREDIT_CODE}")`, variables: [] } : { text: '(creditCode: $code0)', variables: ['code0'] };
    case 'enterprises':
      return alias === 2 ? { text: `(creditCodes: ["${CREDIT_CODE}"])`, variables: [] } : { text: '(creditCodes: $codes0)', variables: ['codes0'] };
    default:
      return { text: '', variables: [] };
  }
}

interface RenderState {
  readonly fragments: string[];
  readonly reusable: Map<TypeName, string>;
  readonly variables: Set<string>;
}

function render(type: TypeName, selection: readonly Selection[], state: RenderState): string {
  return selection.map((item) => renderOne(type, item, state)).join(' ');
}

function renderOne(type: TypeName, item: Selection, state: RenderState): string {
  const on = item.directive ? renderDirective(item.directive, state) : '';
  switch (item.kind) {
    case 'field': {
      const alias = item.alias === 0 ? '' : `x${item.alias}_${item.name}: `;
      const args = type === 'Query' ? rootArguments(item.name, item.alias) : { text: '', variables: [] };
      for (const variable of args.variables) state.variables.add(variable);
      const child = FIELDS[type][item.name];
      const body = child && item.children ? ` { ${render(child, item.children, state)} }` : '';
      return `${alias}${item.name}${args.text}${on}${body}`;
    }
    case 'inline':
      return `...${item.typed ? ` on ${type}` : ''}${on} { ${render(type, item.children, state)} }`;
    case 'spread': {
      const known = state.reusable.get(type);
      if (item.reuse && known) return `...${known}${on}`;
      const body = render(type, item.children, state);
      const name = `F${state.fragments.length}`;
      state.fragments.push(`fragment ${name} on ${type} { ${body} }`);
      // Registered only now that its body is complete, so a fragment never spreads itself.
      state.reusable.set(type, name);
      return `...${name}${on}`;
    }
  }
}

function renderDirective(on: Directive, state: RenderState): string {
  if (on.condition.startsWith('$')) state.variables.add(on.condition.slice(1));
  return ` @${on.name}(if: ${on.condition})`;
}

const idValue = fc.constantFrom(CITIZEN, OTHER_PERSON);

/** A random valid operation over the demo schema, with values for its variables. */
export const randomOperation: fc.Arbitrary<RandomOperation> = fc
  .record({
    root: selections('Query', 2),
    named: fc.boolean(),
    withOther: fc.boolean(),
    values: fc.record({
      id0: idValue,
      id1: idValue,
      ids0: fc.array(idValue, { maxLength: 3 }),
      code0: fc.constant(CREDIT_CODE),
      codes0: fc.array(fc.constant(CREDIT_CODE), { maxLength: 2 }),
      b1: fc.boolean(),
      b2: fc.option(fc.boolean(), { nil: undefined }),
    }),
  })
  .map(({ root, named, withOther, values }) => {
    const state: RenderState = { fragments: [], reusable: new Map(), variables: new Set() };
    const body = render('Query', root, state);
    const used = Object.keys(VARIABLE_TYPES).filter((name) => state.variables.has(name));
    const definitions = used.length > 0 ? `(${used.map((name) => `$${name}: ${VARIABLE_TYPES[name]}`).join(', ')})` : '';
    const name = named || withOther ? 'Main' : '';
    const operation = name === '' && definitions === '' ? `{ ${body} }` : `query ${name}${definitions} { ${body} }`;
    const variables: Record<string, unknown> = {};
    for (const variable of used) {
      const value = values[variable as keyof typeof values];
      if (value !== undefined) variables[variable] = value;
    }
    return {
      query: [operation, ...(withOther ? ['query Other { __typename }'] : []), ...state.fragments].join('\n'),
      variables,
      ...(withOther ? { operationName: 'Main' } : {}),
    };
  });
