import fc from 'fast-check';
import { TypeInfo, getArgumentValues, getNamedType, validate, visit, visitWithTypeInfo, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { CITIZEN, HRSS, MARKET_SUPERVISION, NOW, OTHER_PERSON, PUBLIC_SECURITY, demoCatalogue, demoClientSchema, planOf, principal } from '../test/support/policy-fixtures.ts';
import { randomOperation, type RandomOperation } from '../test/support/random-operations.ts';
import type { Agreement, AgreementStatus } from './agreement.ts';
import { MASK_KINDS, type MaskKind } from './catalogue.ts';
import { decideOperation, keepAllowed, type DecideInput } from './decide.ts';
import type { OperationPlan, PlannedField } from './field-plan.ts';
import type { Principal, RequestPurpose } from './principal.ts';
import { printPlan } from './print-plan.ts';

/*
 * Properties of the decision over random operations, principals and
 * agreements. The oracle below restates the rules per coordinate, as simply
 * as they can be said; the decision may be stricter than it (row scope is
 * judged per record, not per coordinate), never looser.
 */

const catalogue = demoCatalogue();
const schema = demoClientSchema();
const PROVIDERS = [PUBLIC_SECURITY, MARKET_SUPERVISION, HRSS];
const BUREAUS = [...PROVIDERS, 'one-stop-service', ''];
const APPS = ['app-a', 'app-b'];
const SCOPES = ['s1', 's2', 's3'];
const PURPOSES = ['p1', 'p2'];
const STATUSES: readonly AgreementStatus[] = ['DRAFT', 'PENDING', 'ACTIVE', 'REVOKED', 'EXPIRED', 'REJECTED'];
const DAY = 86_400_000;

const coordinatesOf = new Map(PROVIDERS.map((bureau) => [bureau, [...catalogue.fields.values()].filter((field) => field.bureau === bureau).map((field) => field.coordinate)]));

const optional = <T,>(arbitrary: fc.Arbitrary<T>, weight = 1): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight, arbitrary });

const principalArbitrary: fc.Arbitrary<Principal> = fc
  .record({
    bureau: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...BUREAUS.filter((bureau) => bureau !== '')) }, fc.constant('')),
    app: fc.constantFrom(...APPS),
    scopes: fc.subarray(SCOPES),
    citizen: optional(fc.constantFrom(CITIZEN, OTHER_PERSON)),
    citizenRole: fc.boolean(),
    purpose: optional(fc.constantFrom(...PURPOSES)),
  })
  .map(({ citizenRole, citizen, purpose, ...rest }) =>
    principal({
      ...rest,
      roles: citizenRole && citizen !== undefined ? ['citizen'] : ['developer'],
      ...(citizen === undefined ? {} : { citizen }),
      ...(purpose === undefined ? {} : { purpose }),
    }),
  );

/** Agreements mostly of the principal's bureau, app, scopes and purpose, so that they often apply. */
function agreementsFor(who: Principal, stated: string | undefined): fc.Arbitrary<Agreement[]> {
  const likely = <T,>(values: readonly T[], all: readonly T[]): fc.Arbitrary<T> =>
    values.length > 0 ? fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...values) }, fc.constantFrom(...all)) : fc.constantFrom(...all);
  const purposes = [stated ?? who.purpose].filter((purpose): purpose is string => purpose !== undefined);
  const one = fc
    .record({
      consumerBureau: likely([who.bureau], BUREAUS),
      consumerApp: likely([who.app], APPS),
      providerBureau: fc.constantFrom(...PROVIDERS),
      status: likely<AgreementStatus>(['ACTIVE'], STATUSES),
      scope: likely(who.scopes, SCOPES),
      purpose: likely(purposes, PURPOSES),
      rowScope: likely(['ANY' as const], ['SELF' as const]),
      // Mostly in force, sometimes not yet or no longer.
      window: fc.oneof({ weight: 3, arbitrary: fc.constant([-1, 2] as const) }, fc.tuple(fc.integer({ min: -3, max: 1 }), fc.integer({ min: 0, max: 4 }))),
    })
    .chain((terms) => {
      const coordinates = coordinatesOf.get(terms.providerBureau)!;
      return fc.record({
        terms: fc.constant(terms),
        fields: fc.subarray(coordinates, { minLength: Math.ceil(coordinates.length / 2) }),
        masks: fc.dictionary(fc.constantFrom(...coordinates), fc.constantFrom(...MASK_KINDS), { maxKeys: 3 }),
      });
    });
  return fc.array(one, { maxLength: 6 }).map((drafts) =>
    drafts.map(({ terms: { window: [from, length], ...terms }, fields, masks }, index) => ({
      id: `agr-${index}`,
      version: 1,
      ...terms,
      fields,
      masks,
      legalBasis: 'test',
      validFrom: new Date(NOW.getTime() + from * DAY).toISOString(),
      validUntil: new Date(NOW.getTime() + (from + length) * DAY).toISOString(),
      requestedBy: 'dev',
      createdAt: NOW.toISOString(),
      updatedAt: NOW.toISOString(),
    })),
  );
}

interface Scenario {
  readonly operation: RandomOperation;
  readonly input: DecideInput;
}

const scenario: fc.Arbitrary<Scenario> = fc
  .record({ operation: randomOperation, who: principalArbitrary, stated: optional(fc.constantFrom(...PURPOSES), 2) })
  .chain(({ operation, who, stated }) =>
    agreementsFor(who, stated).map((agreements): Scenario => {
      const purpose: RequestPurpose = stated === undefined ? {} : { purpose: stated };
      const plan = planOf(operation.query, operation.variables, operation.operationName);
      return { operation, input: { plan, principal: who, purpose, agreements, catalogue, now: NOW } };
    }),
  );

/** The agreements that apply to a coordinate by the rules, coordinate by coordinate. */
function applicable(input: DecideInput, coordinate: string): Agreement[] {
  const field = catalogue.fields.get(coordinate)!;
  const { principal: who, purpose, now } = input;
  const stated = purpose.purpose ?? who.purpose;
  return input.agreements.filter(
    (agreement) =>
      agreement.status === 'ACTIVE' &&
      agreement.consumerBureau === who.bureau &&
      agreement.consumerApp === who.app &&
      agreement.providerBureau === field.bureau &&
      agreement.fields.includes(coordinate) &&
      Date.parse(agreement.validFrom) <= now.getTime() &&
      now.getTime() < Date.parse(agreement.validUntil) &&
      who.scopes.includes(agreement.scope) &&
      agreement.purpose === stated &&
      (agreement.rowScope === 'ANY' || who.citizen !== undefined),
  );
}

/** Whether the rules allow a (non-root, non-introspection) coordinate to this principal at all. */
function oracleAllows(input: DecideInput, coordinate: string): boolean {
  const field = catalogue.fields.get(coordinate);
  if (!field || input.principal.bureau === '') return false;
  if (field.bureau === input.principal.bureau) return true;
  if (field.category === 'NONE') return false;
  if (field.category === 'OPEN' || field.isKey) return true;
  return applicable(input, coordinate).length > 0;
}

/** The mask the rules give an allowed coordinate, for a principal that is not a citizen. */
function oracleMask(input: DecideInput, coordinate: string): MaskKind | undefined {
  const field = catalogue.fields.get(coordinate)!;
  if (field.bureau === input.principal.bureau) return undefined;
  const agreements = applicable(input, coordinate).sort((a, b) => (a.id < b.id ? -1 : 1));
  if (agreements.length === 0) return field.mask;
  if (agreements.some((agreement) => agreement.masks[coordinate] === undefined)) return undefined;
  return agreements[0]!.masks[coordinate];
}

const isCitizen = (who: Principal): boolean => who.citizen !== undefined || who.roles.includes('citizen');

/** Every field the printed document selects, with the argument values of root fields. */
function selected(document: DocumentNode, plan: OperationPlan): { coordinate: string; returnType: string; args?: Record<string, unknown> }[] {
  const typeInfo = new TypeInfo(schema);
  const found: { coordinate: string; returnType: string; args?: Record<string, unknown> }[] = [];
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType()!.name;
        const definition = typeInfo.getFieldDef()!;
        found.push({
          coordinate: `${parent}.${node.name.value}`,
          returnType: getNamedType(definition.type).name,
          ...(parent === 'Query' ? { args: getArgumentValues(definition, node, plan.variables as Record<string, unknown>) } : {}),
        });
      },
    }),
  );
  return found;
}

const RUNS = { numRuns: 200 };

describe('decideOperation, properties', () => {
  it('(a) the pruned document touches only coordinates the rules allow, and a citizen only their own record', () => {
    fc.assert(
      fc.property(scenario, ({ input }) => {
        const decision = decideOperation(input);
        const printed = printPlan(input.plan, keepAllowed(decision));
        expect(validate(schema, printed)).toEqual([]);
        for (const { coordinate, returnType, args } of selected(printed, input.plan)) {
          const [typeName, fieldName] = coordinate.split('.') as [string, string];
          if (fieldName.startsWith('__') || typeName.startsWith('__')) continue;
          if (typeName === 'Query') {
            expect(input.principal.bureau).not.toBe('');
            if (isCitizen(input.principal)) {
              expect(returnType).toBe('Person');
              const keys = Object.values(args!).flat();
              expect(keys.length).toBeGreaterThan(0);
              for (const key of keys) expect(key).toBe(input.principal.citizen);
            }
            continue;
          }
          expect(oracleAllows(input, coordinate), `${coordinate} was kept`).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('(b) decisions are deterministic, whatever order the agreements come in', () => {
    fc.assert(
      fc.property(scenario, fc.nat(), ({ input }, rotation) => {
        const first = decideOperation(input);
        expect(decideOperation(input)).toEqual(first);
        const n = input.agreements.length;
        const reordered = n === 0 ? [] : [...input.agreements.slice(rotation % n), ...input.agreements.slice(0, rotation % n)].reverse();
        expect(decideOperation({ ...input, agreements: reordered })).toEqual(first);
      }),
      RUNS,
    );
  });

  it('(c) a NONE field is never released to, nor fetched for, another bureau', () => {
    const none = new Set([...catalogue.fields.values()].filter((field) => field.category === 'NONE').map((field) => field.coordinate));
    expect(none.size).toBeGreaterThan(0);
    fc.assert(
      fc.property(scenario, ({ input }) => {
        const decision = decideOperation(input);
        for (const [key, verdict] of decision.fields) {
          if (none.has(verdict.coordinate) && catalogue.fields.get(verdict.coordinate)!.bureau !== input.principal.bureau) {
            expect(verdict.effect, key).toBe('deny');
          }
        }
        const printed = printPlan(input.plan, keepAllowed(decision));
        for (const { coordinate } of selected(printed, input.plan)) {
          if (none.has(coordinate)) expect(input.principal.bureau).toBe(catalogue.fields.get(coordinate)!.bureau);
        }
      }),
      RUNS,
    );
  });

  it('(d) for a principal that is no citizen, the decision is exactly the oracle: allowed where it and every parent are, masked as it says', () => {
    fc.assert(
      fc.property(
        scenario.filter(({ input }) => !isCitizen(input.principal)),
        ({ input }) => {
          const decision = decideOperation(input);
          const check = (fields: readonly PlannedField[], parentAllowed: boolean, root: boolean): void => {
            for (const field of fields) {
              const own = field.introspection || (input.principal.bureau !== '' && (root ? catalogue.rootFields.has(field.fieldName) : oracleAllows(input, field.coordinate)));
              const expected = parentAllowed && own;
              const verdict = decision.fields.get(field.key)!;
              expect(verdict.effect !== 'deny', `${field.key} ${field.coordinate}`).toBe(expected);
              if (expected && !root && !field.introspection) {
                const mask = oracleMask(input, field.coordinate);
                expect(verdict.effect === 'mask' ? verdict.mask : undefined, `mask of ${field.key}`).toBe(mask);
              }
              check(field.children, expected, false);
            }
          };
          check(input.plan.fields, true, true);
          // Masks to apply are exactly the masked decisions.
          expect(decision.masks.map((masked) => masked.path.join('.')).sort()).toEqual(
            [...decision.fields.values()].filter((verdict) => verdict.effect === 'mask').map((verdict) => verdict.path.join('.')).sort(),
          );
        },
      ),
      RUNS,
    );
  });
});
