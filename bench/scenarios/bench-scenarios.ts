import { isDeepStrictEqual } from 'node:util';
import type { City, CityPerson } from '../../examples/data/generate-city.ts';
import { applyMask } from '../../policies/masks.ts';
import { sampleResident } from '../../examples/demo-city.ts';
import type { BenchPrincipal } from '../systems/running-system.ts';
import {
  CITIZEN_SELF_DOCUMENT,
  CITIZEN_SELF_OPERATION,
  DENIED_DOCUMENT,
  DENIED_OPERATION,
  LIST_DOCUMENT,
  LIST_OPERATION,
  SINGLE_DOCUMENT,
  SINGLE_OPERATION,
} from './scenario-documents.ts';

/** The benchmark's scenarios. */
export type ScenarioName = 'single' | 'list100' | 'denied-field' | 'citizen-self';

/**
 * Whether Isthmus enforces sharing agreements. The two scenarios that only
 * make sense with enforcement (a denied and a masked field; a citizen's
 * `SELF` read) run while this is true, with the tokens and agreements
 * `startIsthmusSystem` hands out; false turns them off.
 */
export const ENFORCEMENT_LANDED = true;

/** One kind of request, sent over and over during a round. */
export interface BenchScenario {
  readonly name: ScenarioName;
  readonly description: string;
  /** Off scenarios are listed but not run. */
  readonly enabled: boolean;
  /**
   * `all` systems, or `isthmus` only: the enforcement scenarios have no peer
   * to compare with, and one city is enough to see what enforcement costs
   * next to `single` within the run's ten minutes.
   */
  readonly runsOn: 'all' | 'isthmus';
  readonly principal: BenchPrincipal;
  /**
   * The POST bodies, serialised once and sent in turn, each asking for other
   * persons: no system may answer a round from identical in-flight requests
   * (a gateway that merges identical upstream calls would otherwise be
   * measured doing a fraction of the work).
   */
  readonly bodies: readonly string[];
  /**
   * Checks the whole answer to `bodies[index]` before timing: undefined when
   * it is exactly right, else what is wrong.
   */
  check(index: number, status: number, body: unknown): string | undefined;
  /**
   * Cheap check of each response body during timed rounds: false counts as
   * an error. For most scenarios: no GraphQL `errors`.
   */
  verifyBody(body: string): boolean;
}

/** Persons in the list scenario. */
export const LIST_LENGTH = 100;

/**
 * The scenarios over `city`, with the answers a correct system must give,
 * computed from the city's data rather than from any system's output.
 *
 * - `single`: in turn, every resident who, like the demo's sample resident,
 *   represents an enterprise and has a social insurance account: each
 *   request costs all four upstream calls.
 * - `list100`: 100 consecutive residents, starting one further on each time
 *   (wrapping around the city).
 *
 * @example
 * const [single] = benchScenarios(demoCity());
 * single.check(0, 200, JSON.parse(text)); // undefined when right
 */
export function benchScenarios(city: City): readonly BenchScenario[] {
  const resident = sampleResident(city);
  const answer = personAnswer(city);
  const representatives = new Set(city.enterprises.map((enterprise) => enterprise.legalRepresentativeId));
  const insured = new Set(city.insuranceAccounts.map((account) => account.idNumber));
  // The sample resident first, so that the first answer checked is the one the README shows.
  const lookedUp = [resident, ...city.persons.filter((person) => person !== resident && representatives.has(person.idNumber) && insured.has(person.idNumber))];
  const windows = city.persons.length;
  const window = (start: number): CityPerson[] => Array.from({ length: Math.min(LIST_LENGTH, city.persons.length) }, (_, offset) => city.persons[(start + offset) % city.persons.length]!);
  const noErrors = (body: string): boolean => !body.includes('"errors"');

  return [
    {
      name: 'single',
      description: `one person, fields from 3 bureaus (4 upstream calls); ${lookedUp.length} persons in turn`,
      enabled: true,
      runsOn: 'all',
      principal: 'bureau-app',
      bodies: lookedUp.map((person) => JSON.stringify({ query: SINGLE_DOCUMENT, operationName: SINGLE_OPERATION, variables: { idNumber: person.idNumber } })),
      check: (index, status, body) => exactly(200, { data: { person: withoutIdNumber(answer(lookedUp[index]!)) } }, status, body),
      verifyBody: noErrors,
    },
    {
      name: 'list100',
      description: `${LIST_LENGTH} persons, fields from 3 bureaus (batched: 4 upstream calls); ${windows} different lists in turn`,
      enabled: true,
      runsOn: 'all',
      principal: 'bureau-app',
      bodies: Array.from({ length: windows }, (_, start) =>
        JSON.stringify({ query: LIST_DOCUMENT, operationName: LIST_OPERATION, variables: { idNumbers: window(start).map((person) => person.idNumber) } }),
      ),
      check: (index, status, body) => exactly(200, { data: { persons: window(index).map((person) => withoutIdNumber(answer(person))) } }, status, body),
      verifyBody: noErrors,
    },
    {
      name: 'denied-field',
      description: 'name, address (masked to its district) and householdId (category NONE: FORBIDDEN, null)',
      enabled: ENFORCEMENT_LANDED,
      runsOn: 'isthmus',
      principal: 'bureau-app',
      bodies: lookedUp.map((person) => JSON.stringify({ query: DENIED_DOCUMENT, operationName: DENIED_OPERATION, variables: { idNumber: person.idNumber } })),
      check(index, status, body) {
        const person = lookedUp[index]!;
        const reply = body as { data?: { person?: Record<string, unknown> }; errors?: { extensions?: { code?: unknown } }[] };
        // DESIGN.md: field-level denials travel with a 200 and a partial result.
        if (status !== 200) return `status ${status}, expected 200 with a partial result (DESIGN.md, "Contracts"): ${JSON.stringify(body).slice(0, 300)}`;
        const expected = { name: person.name, address: applyMask('ADDRESS', person.address), householdId: null };
        if (!isDeepStrictEqual(reply.data?.person, expected)) return `wrong partial result: ${JSON.stringify(reply.data).slice(0, 300)}`;
        if (reply.errors?.length !== 1 || reply.errors[0]!.extensions?.code !== 'FORBIDDEN') return `expected one FORBIDDEN error: ${JSON.stringify(reply.errors).slice(0, 300)}`;
        return undefined;
      },
      verifyBody: (body) => body.includes('"FORBIDDEN"'),
    },
    {
      name: 'citizen-self',
      description: "a citizen app reads its signed-in citizen's own record (row scope SELF), name masked",
      enabled: ENFORCEMENT_LANDED,
      runsOn: 'isthmus',
      principal: 'citizen-app',
      // One body: a citizen's token speaks for that citizen only (the sample resident).
      bodies: [JSON.stringify({ query: CITIZEN_SELF_DOCUMENT, operationName: CITIZEN_SELF_OPERATION, variables: { idNumber: resident.idNumber } })],
      check: (_index, status, body) => exactly(200, { data: { person: { name: applyMask('NAME', resident.name), address: resident.address } } }, status, body),
      verifyBody: noErrors,
    },
  ];
}

/** What the benchmark's documents should return for one person, from the city's data. */
function personAnswer(city: City): (person: CityPerson) => Record<string, unknown> {
  const accounts = new Map(city.insuranceAccounts.map((account) => [account.idNumber, account]));
  const insured = new Map<string, number>();
  for (const account of city.insuranceAccounts) {
    if (account.insuredStatus === 'ACTIVE' && account.employerCreditCode !== null) {
      insured.set(account.employerCreditCode, (insured.get(account.employerCreditCode) ?? 0) + 1);
    }
  }
  return (person) => {
    const account = accounts.get(person.idNumber);
    return {
      idNumber: person.idNumber,
      name: person.name,
      socialInsurance: account ? { contributionMonths: account.contributionMonths } : null,
      enterprises: city.enterprises
        .filter((enterprise) => enterprise.legalRepresentativeId === person.idNumber)
        .map((enterprise) => ({ name: enterprise.name, insuredEmployeeCount: insured.get(enterprise.creditCode) ?? 0 })),
    };
  };
}

function withoutIdNumber({ idNumber: _, ...rest }: Record<string, unknown>): Record<string, unknown> {
  return rest;
}

function exactly(status: number, expected: unknown, actualStatus: number, body: unknown): string | undefined {
  if (actualStatus !== status) return `status ${actualStatus}, expected ${status}: ${JSON.stringify(body).slice(0, 300)}`;
  if (!isDeepStrictEqual(body, expected)) return `wrong answer: ${JSON.stringify(body).slice(0, 300)}`;
  return undefined;
}
