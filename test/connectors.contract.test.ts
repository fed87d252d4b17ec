/**
 * One suite that every connector kind runs, each against its real demo bureau
 * system: public security's GraphQL service, market supervision's REST API,
 * and the social security bureau's PostgreSQL tables (on PGlite always, and on
 * the PostgreSQL server of `DATABASE_URL`; without it those cases are declared
 * skipped, so the summary counts them).
 */
import { readFileSync } from 'node:fs';
import { execute, parse, type ExecutionResult } from 'graphql';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Connector, ConnectorKind, ConnectorLimits, UpstreamCall } from '../connectors/connector.ts';
import {
  findConnectorError,
  UpstreamRejectedError,
  UpstreamUnavailableError,
  type ConnectorError,
} from '../connectors/connector-error.ts';
import { createConnector } from '../connectors/create-connector.ts';
import { createRestConnector } from '../connectors/rest/rest-connector.ts';
import { createSqlConnector } from '../connectors/sql/sql-connector.ts';
import { demoCity, type City } from '../examples/data/generate-city.ts';
import type { BureauDatabase } from '../examples/bureau-server.ts';
import { startHrssDatabase } from '../examples/human-resources-social-security/hrss-database.ts';
import { isthmusReads } from '../examples/human-resources-social-security/isthmus-reads.ts';
import { startMarketSupervision } from '../examples/market-supervision/market-supervision-server.ts';
import { startPublicSecurity } from '../examples/public-security/public-security-server.ts';
import { buildBureauSchema } from '../gateway/catalogue/bureau-schema.ts';
import { startLatencyProxy } from './support/latency-proxy.ts';
import { storeTargets, type StoreTarget } from './support/test-stores.ts';

const CITY = demoCity();
const [pglite, postgres] = storeTargets() as [StoreTarget, StoreTarget];
// Generous enough for a cold first query on a busy 2-core machine, short enough to keep the suite quick.
const TIMEOUT_MS = 500;
/** Well past the timeout, so a slow call surely times out. */
const LATENCY_MS = 3 * TIMEOUT_MS;
/** Longer than the latency, so answers still on their way have arrived before the breaker's trial. */
const RESET_AFTER_MS = 2_000;
const FAILURE_THRESHOLD = 2;

function limits(maxConcurrency: number): ConnectorLimits {
  return { timeoutMs: TIMEOUT_MS, maxConcurrency, breaker: { failureThreshold: FAILURE_THRESHOLD, resetAfterMs: RESET_AFTER_MS } };
}

function bureauSchema(bureau: string) {
  return buildBureauSchema(readFileSync(new URL(`../schemas/${bureau}/schema.graphql`, import.meta.url), 'utf8'));
}

/** The bureau system under test, as the suite drives it. */
interface Upstream {
  readonly url: string;
  /** Requests the bureau received, where the bureau counts them (HTTP). */
  readonly requestCount?: () => number;
  /** Grows with anything that reaches the bureau: unchanged means untouched. */
  touched(): number;
  setLatency(ms: number): void;
  /** Resolves once a closed connector's connections are gone at the bureau's end too. */
  settled(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
  /** The bureau's database itself, for its own records (SQL only). */
  readonly database?: BureauDatabase;
}

/** A query for some of the bureau's entities, and the data it must return. */
interface Scenario {
  readonly query: string;
  readonly variables: Record<string, unknown>;
  readonly expected: unknown;
}

interface ContractCase {
  readonly name: string;
  /** False when this machine cannot run the case (PostgreSQL without `DATABASE_URL`): declared skipped. */
  readonly available: boolean;
  readonly kind: ConnectorKind;
  readonly bureau: string;
  readonly maxConcurrency: number;
  start(city: City): Promise<Upstream>;
  /** The first `count` entities, one key each, in one query. */
  entities(count: number): Scenario;
}

/** `a`, `b` alternately, so a batch holds keys with and without data. */
function interleave<T>(a: readonly T[], b: readonly T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    if (i < a.length) out.push(a[i]!);
    if (i < b.length) out.push(b[i]!);
  }
  return out;
}

function httpUpstream(server: Awaited<ReturnType<typeof startPublicSecurity>>): Upstream {
  return {
    url: server.url,
    requestCount: () => server.requestCount(),
    touched: () => server.requestCount(),
    setLatency: (ms) => server.setLatency(ms),
    settled: () => Promise.resolve(),
    stop: () => server.stop(),
    start: () => server.start(),
    close: () => server.stop(),
  };
}

async function sqlUpstream(city: City, serverUrl?: string): Promise<Upstream> {
  const database = await startHrssDatabase({ city, serverUrl });
  // PostgreSQL has no latency knob: a proxy in front of it slows its answers.
  const proxy = await startLatencyProxy(database.url);
  return {
    url: proxy.url,
    database,
    touched: () => proxy.bytesToServer(),
    setLatency: (ms) => proxy.setLatency(ms),
    // PGlite's socket turns a second connection away, even one that comes
    // just as the last pool's connection is closing.
    settled: () => proxy.idle(),
    stop: () => database.stop(),
    start: () => database.start(),
    async close() {
      await proxy.close();
      await database.close();
    },
  };
}

const representatives = [...new Set(CITY.enterprises.map((enterprise) => enterprise.legalRepresentativeId))];
const insured = new Map(CITY.insuranceAccounts.map((account) => [account.idNumber, account]));

function sqlCase(name: string, maxConcurrency: number, target: StoreTarget): ContractCase {
  const { serverUrl } = target;
  const withAccount = CITY.persons.filter((person) => insured.has(person.idNumber)).map((person) => person.idNumber);
  const withoutAccount = CITY.persons.filter((person) => !insured.has(person.idNumber)).map((person) => person.idNumber);
  return {
    name,
    available: target.available,
    kind: 'sql',
    bureau: 'human-resources-social-security',
    maxConcurrency,
    start: (city) => sqlUpstream(city, serverUrl),
    entities(count) {
      const keys = interleave(withAccount, withoutAccount).slice(0, count);
      return {
        query: `query ($keys: [ID!]!) {
          _persons(idNumbers: $keys) { idNumber socialInsurance { insuredStatus contributionMonths employerCreditCode monthlyBase } }
        }`,
        variables: { keys },
        expected: {
          _persons: keys.map((idNumber) => {
            const account = insured.get(idNumber);
            return {
              idNumber,
              socialInsurance: account
                ? {
                    insuredStatus: account.insuredStatus,
                    contributionMonths: account.contributionMonths,
                    employerCreditCode: account.employerCreditCode,
                    monthlyBase: account.monthlyBaseYuan,
                  }
                : null,
            };
          }),
        },
      };
    },
  };
}

const CASES: ContractCase[] = [
  {
    name: 'graphql (public security)',
    available: true,
    kind: 'graphql',
    bureau: 'public-security',
    maxConcurrency: 4,
    start: async (city) => httpUpstream(await startPublicSecurity({ city })),
    entities(count) {
      const persons = CITY.persons.slice(0, count);
      return {
        query: 'query ($keys: [ID!]!) { persons(idNumbers: $keys) { idNumber name birthDate } }',
        variables: { keys: persons.map((person) => person.idNumber) },
        expected: { persons: persons.map(({ idNumber, name, birthDate }) => ({ idNumber, name, birthDate })) },
      };
    },
  },
  {
    name: 'rest (market supervision)',
    available: true,
    kind: 'rest',
    bureau: 'market-supervision',
    maxConcurrency: 4,
    start: async (city) => httpUpstream(await startMarketSupervision({ city })),
    entities(count) {
      const others = CITY.persons.map((person) => person.idNumber).filter((id) => !representatives.includes(id));
      const keys = interleave(representatives, others).slice(0, count);
      return {
        // Person.enterprises is an entity field: one batched GET for all the persons.
        query: 'query ($keys: [ID!]!) { _persons(idNumbers: $keys) { idNumber enterprises { creditCode name status } } }',
        variables: { keys },
        expected: {
          _persons: keys.map((idNumber) => ({
            idNumber,
            enterprises: CITY.enterprises
              .filter((enterprise) => enterprise.legalRepresentativeId === idNumber)
              .map(({ creditCode, name, status }) => ({ creditCode, name, status })),
          })),
        },
      };
    },
  },
  sqlCase('sql (PGlite)', 1, pglite),
  sqlCase('sql (PostgreSQL)', 4, postgres),
];

/** Runs one operation through a connector's subschema, as one execution with its own context. */
async function run(connector: Connector, query: string, variables: Record<string, unknown>, context: object = {}): Promise<ExecutionResult> {
  const document = parse(query);
  const { schema, executor } = connector.subschema;
  if (executor) return (await executor({ document, variables, context })) as ExecutionResult;
  return execute({ schema, document, variableValues: variables, contextValue: context });
}

/**
 * The connector error an operation ended with: thrown by an executor, or on
 * every error of a local schema's result (one per field that failed).
 */
async function failureOf(connector: Connector, scenario: Scenario): Promise<ConnectorError> {
  let result: ExecutionResult;
  try {
    result = await run(connector, scenario.query, scenario.variables);
  } catch (error) {
    const found = findConnectorError(error);
    if (!found) throw error;
    return found;
  }
  expect(result.errors?.length ?? 0).toBeGreaterThan(0);
  const found = result.errors!.map((error) => findConnectorError(error));
  expect(found.every((error) => error !== undefined)).toBe(true);
  expect(new Set(found.map((error) => error!.message)).size).toBe(1);
  return found[0]!;
}

for (const contract of CASES) describe.skipIf(!contract.available)(`connector contract: ${contract.name}`, () => {
  let upstream: Upstream;
  let connector: Connector;
  let calls: UpstreamCall[];

  beforeAll(async () => {
    upstream = await contract.start(CITY);
  });
  afterAll(async () => {
    await upstream?.close();
  });
  beforeEach(() => {
    calls = [];
    connector = createConnector(contract.kind, {
      bureau: contract.bureau,
      url: upstream.url,
      schema: bureauSchema(contract.bureau),
      limits: limits(contract.maxConcurrency),
      observe: (call) => calls.push(call),
    });
  });
  afterEach(async () => {
    await connector.close();
    await upstream.settled();
  });

  it('reads one entity', async () => {
    const scenario = contract.entities(1);
    const result = await run(connector, scenario.query, scenario.variables);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual(scenario.expected);
    expect(connector.kind).toBe(contract.kind);
    expect(connector.bureau).toBe(contract.bureau);
  });

  it('reads 100 entities with exactly one upstream request', async () => {
    const scenario = contract.entities(100);
    const before = upstream.requestCount?.();
    const result = await run(connector, scenario.query, scenario.variables);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual(scenario.expected);
    expect(calls.map((call) => [call.bureau, call.outcome])).toEqual([[contract.bureau, 'ok']]);
    if (before !== undefined) expect(upstream.requestCount!() - before).toBe(1);
  });

  it('reports a stopped bureau as unavailable, by name, and reads again once it is back', async () => {
    const scenario = contract.entities(3);
    await upstream.stop();
    try {
      const error = await failureOf(connector, scenario);
      expect(error).toBeInstanceOf(UpstreamUnavailableError);
      expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', bureau: contract.bureau, failure: 'failed' });
      // The message is for clients: no address, no SQL, no driver text.
      expect(error.message).toBe(`${contract.bureau} is unavailable (failed)`);
      expect(calls.at(-1)?.outcome).toBe('error');
    } finally {
      await upstream.start();
    }
    const result = await run(connector, scenario.query, scenario.variables);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual(scenario.expected);
    expect(connector.breakerState()).toBe('closed');
  });

  it('times out on a slow bureau, then opens the breaker and calls nothing, then recovers', async () => {
    const scenario = contract.entities(2);
    upstream.setLatency(LATENCY_MS);
    try {
      for (let attempt = 0; attempt < FAILURE_THRESHOLD; attempt += 1) {
        const error = await failureOf(connector, scenario);
        // The guard gave up on its own timer (it does so whether or not the call heeds
        // its signal: upstream-guard.test.ts, on a clock the test moves); how soon is bench/'s to measure.
        expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', bureau: contract.bureau, failure: 'timeout' });
        expect(calls.at(-1)?.outcome).toBe('timeout');
      }
      expect(connector.breakerState()).toBe('open');

      const touched = upstream.touched();
      const rejected = await failureOf(connector, scenario);
      expect(rejected).toMatchObject({ bureau: contract.bureau, failure: 'breaker-open' });
      expect(upstream.touched()).toBe(touched);
      expect(calls.at(-1)?.outcome).toBe('rejected');
    } finally {
      upstream.setLatency(0);
    }

    await vi.waitFor(() => expect(connector.breakerState()).toBe('half-open'), {
      timeout: RESET_AFTER_MS * 3,
      interval: 50,
    });
    const result = await run(connector, scenario.query, scenario.variables);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual(scenario.expected);
    expect(connector.breakerState()).toBe('closed');
  });
});

describe('rest connector, beyond the contract', () => {
  let server: Awaited<ReturnType<typeof startMarketSupervision>>;
  beforeAll(async () => {
    server = await startMarketSupervision({ city: CITY });
  });
  afterAll(async () => {
    await server?.stop();
  });

  function connect(maxBatch?: number): Connector {
    return createRestConnector({
      bureau: 'market-supervision',
      url: server.url,
      schema: bureauSchema('market-supervision'),
      limits: limits(4),
      maxBatch,
    });
  }

  it('answers a @merge root field with one item or null per key, in key order, from one request', async () => {
    const connector = connect();
    try {
      const known = CITY.enterprises.slice(0, 97).map((enterprise) => enterprise.creditCode);
      const keys = [...known.slice(0, 50), '91330400MA00000000', ...known.slice(50), 'no-such-code', known[0]!];
      const before = server.requestCount();
      const result = await run(connector, 'query ($keys: [ID!]!) { enterprises(creditCodes: $keys) { creditCode name } }', { keys });
      expect(result.errors).toBeUndefined();
      expect(server.requestCount() - before).toBe(1);
      const byCode = new Map(CITY.enterprises.map((enterprise) => [enterprise.creditCode, enterprise]));
      expect((result.data as { enterprises: unknown[] }).enterprises).toEqual(
        keys.map((key) => {
          const enterprise = byCode.get(key);
          return enterprise ? { creditCode: enterprise.creditCode, name: enterprise.name } : null;
        }),
      );
    } finally {
      await connector.close();
    }
  });

  it('fills a path from the arguments, and answers a 404 with null', async () => {
    const connector = connect();
    try {
      const enterprise = CITY.enterprises[7]!;
      const result = await run(
        connector,
        'query ($code: ID!) { found: enterprise(creditCode: $code) { creditCode registeredCapital establishedOn } missing: enterprise(creditCode: "../../x y") { creditCode } }',
        { code: enterprise.creditCode },
      );
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({
        found: { creditCode: enterprise.creditCode, registeredCapital: enterprise.registeredCapital, establishedOn: enterprise.establishedOn },
        missing: null,
      });
      expect(connector.breakerState()).toBe('closed');
    } finally {
      await connector.close();
    }
  });

  it('splits a batch beyond maxBatch over several requests', async () => {
    const connector = connect(40);
    try {
      const keys = representatives.slice(0, 100);
      const before = server.requestCount();
      const result = await run(connector, 'query ($keys: [ID!]!) { _persons(idNumbers: $keys) { idNumber enterprises { creditCode } } }', { keys });
      expect(result.errors).toBeUndefined();
      expect(server.requestCount() - before).toBe(3);
      const persons = (result.data as { _persons: { enterprises: unknown[] }[] })._persons;
      expect(persons.every((person) => person.enterprises.length > 0)).toBe(true);
    } finally {
      await connector.close();
    }
  });

  it('reports a refused request as rejected, without opening the breaker', async () => {
    // The registry refuses more than 1,000 keys in one request with a 400.
    const connector = connect(2_000);
    try {
      // Short keys: 1,001 credit codes would not fit in a request line at all.
      const keys = Array.from({ length: 1_001 }, (_, i) => String(i));
      for (let attempt = 0; attempt <= FAILURE_THRESHOLD; attempt += 1) {
        const error = await failureOf(connector, { query: 'query ($keys: [ID!]!) { enterprises(creditCodes: $keys) { name } }', variables: { keys }, expected: null });
        expect(error).toBeInstanceOf(UpstreamRejectedError);
        expect(error).toMatchObject({ code: 'UPSTREAM_REJECTED', bureau: 'market-supervision', detail: 'HTTP 400' });
      }
      expect(connector.breakerState()).toBe('closed');
    } finally {
      await connector.close();
    }
  });
});

describe('graphql connector, beyond the contract', () => {
  let server: Awaited<ReturnType<typeof startPublicSecurity>>;
  let connector: Connector;
  beforeAll(async () => {
    server = await startPublicSecurity({ city: CITY });
    connector = createConnector('graphql', { bureau: 'public-security', url: server.url, schema: bureauSchema('public-security'), limits: limits(4) });
  });
  afterAll(async () => {
    await connector?.close();
    await server?.stop();
  });

  it("passes the bureau's own GraphQL errors on as its answer", async () => {
    const keys = Array.from({ length: 1_001 }, () => CITY.persons[0]!.idNumber);
    const result = await run(connector, 'query ($keys: [ID!]!) { persons(idNumbers: $keys) { name } }', { keys });
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(connector.breakerState()).toBe('closed');
  });

  it('passes a request the bureau finds invalid on as its answer too (400 with a GraphQL body)', async () => {
    for (let attempt = 0; attempt <= FAILURE_THRESHOLD; attempt += 1) {
      const result = await run(connector, '{ person(idNumber: "1") { noSuchField } }', {});
      expect(result.errors?.[0]?.message).toMatch(/noSuchField/);
    }
    expect(connector.breakerState()).toBe('closed');
  });

  it('sends the headers computed from the context', async () => {
    let seen: unknown;
    const withHeaders = createConnector('graphql', {
      bureau: 'public-security',
      url: server.url,
      schema: bureauSchema('public-security'),
      limits: limits(1),
      upstreamHeaders: (context) => {
        seen = context;
        return { 'x-isthmus-consumer': 'market-supervision' };
      },
    });
    try {
      const context = { requestId: 'r-1' };
      const result = await withHeaders.subschema.executor!({ document: parse('{ person(idNumber: "1") { name } }'), context });
      expect(result).toEqual({ data: { person: null } });
      expect(seen).toBe(context);
    } finally {
      await withHeaders.close();
    }
  });
});

for (const contract of CASES.filter((candidate) => candidate.kind === 'sql')) describe.skipIf(!contract.available)(`sql connector, beyond the contract: ${contract.name}`, () => {
  let upstream: Upstream;
  beforeAll(async () => {
    upstream = await contract.start(CITY);
  });
  afterAll(async () => {
    await upstream?.close();
  });

  function connect(
    sdl = readFileSync(new URL('../schemas/human-resources-social-security/schema.graphql', import.meta.url), 'utf8'),
    maxBatch?: number,
    sessionSettings?: (context: unknown) => Readonly<Record<string, string>>,
  ) {
    const calls: UpstreamCall[] = [];
    const connector = createSqlConnector({
      bureau: contract.bureau,
      url: upstream.url,
      schema: buildBureauSchema(sdl),
      limits: limits(contract.maxConcurrency),
      observe: (call) => calls.push(call),
      maxBatch,
      sessionSettings,
    });
    return { connector, calls };
  }

  it('makes the context’s session settings in the transaction of each batched read, as parameters, and only there', async () => {
    // A value that would break out of a string-built statement: it must arrive as it is.
    const hostile = "civil-affairs'); drop table insurance_accounts; --";
    const seen: unknown[] = [];
    const { connector, calls } = connect(undefined, undefined, (context) => {
      seen.push(context);
      return { 'isthmus.consumer_bureau': hostile, 'isthmus.request_id': 'req-contract-1' };
    });
    try {
      const keys = [...insured.keys()].slice(0, 3);
      const context = { requestId: 'req-contract-1' };
      const before = (await isthmusReads(upstream.database!)).length;
      const result = await run(connector, 'query ($keys: [ID!]!) { _persons(idNumbers: $keys) { idNumber socialInsurance { insuredStatus } } }', { keys }, context);
      expect(result.errors).toBeUndefined();
      expect(calls).toHaveLength(1);
      expect(seen).toEqual([context]);
      const reads = (await isthmusReads(upstream.database!)).slice(before);
      expect(reads.map((read) => read.idNumber).sort()).toEqual([...keys].sort());
      expect(reads.map((read) => [read.consumerBureau, read.requestId, read.consumerApp])).toEqual(keys.map(() => [hostile, 'req-contract-1', null]));
      expect((await upstream.database!.query<{ n: number }>('select count(*)::int as n from public.insurance_accounts'))[0]!.n).toBe(CITY.insuranceAccounts.length);
    } finally {
      await connector.close();
      await upstream.settled();
    }
  });

  it('refuses a session setting that is not prefix.name, naming no value', async () => {
    const { connector } = connect(undefined, undefined, () => ({ 'consumer bureau': 'civil-affairs' }));
    try {
      const error = await failureOf(connector, { query: '{ _persons(idNumbers: ["1"]) { socialInsurance { insuredStatus } } }', variables: {}, expected: null });
      expect(error).toMatchObject({ code: 'INVALID_CONFIG' });
      expect(error.message).not.toContain('civil-affairs');
    } finally {
      await connector.close();
      await upstream.settled();
    }
  });

  it('reads a single column for an entity: insured employees per enterprise', async () => {
    const { connector, calls } = connect();
    try {
      const keys = CITY.enterprises.slice(0, 60).map((enterprise) => enterprise.creditCode);
      const result = await run(connector, 'query ($keys: [ID!]!) { _enterprises(creditCodes: $keys) { creditCode insuredEmployeeCount } }', { keys });
      expect(result.errors).toBeUndefined();
      expect(calls).toHaveLength(1);
      const active = (code: string) =>
        CITY.insuranceAccounts.filter((account) => account.employerCreditCode === code && account.insuredStatus === 'ACTIVE').length;
      expect(result.data).toEqual({ _enterprises: keys.map((creditCode) => ({ creditCode, insuredEmployeeCount: active(creditCode) })) });
    } finally {
      await connector.close();
      await upstream.settled();
    }
  });

  it('splits a batch beyond maxBatch over several queries', async () => {
    const { connector, calls } = connect(undefined, 40);
    try {
      const scenario = contract.entities(100);
      const result = await run(connector, scenario.query, scenario.variables);
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual(scenario.expected);
      expect(calls.map((call) => call.outcome)).toEqual(['ok', 'ok', 'ok']);
    } finally {
      await connector.close();
      await upstream.settled();
    }
  });

  it('reports a missing table as rejected, without opening the breaker', async () => {
    const sdl = `
      type Query { _persons(idNumbers: [ID!]!): [Person]! @merge }
      type Person @key(field: "idNumber") {
        idNumber: ID! @share(category: OPEN, sensitivity: HIGH)
        months: Int @share(category: OPEN, sensitivity: LOW) @sql(table: "no_such_table", key: "id_number", column: "months")
      }`;
    const { connector } = connect(sdl);
    try {
      for (let attempt = 0; attempt <= FAILURE_THRESHOLD; attempt += 1) {
        const error = await failureOf(connector, { query: '{ _persons(idNumbers: ["1"]) { months } }', variables: {}, expected: null });
        expect(error).toBeInstanceOf(UpstreamRejectedError);
        expect(error).toMatchObject({ code: 'UPSTREAM_REJECTED', detail: 'SQLSTATE 42P01' });
        expect(error.message).not.toMatch(/no_such_table|select/i);
      }
      expect(connector.breakerState()).toBe('closed');
    } finally {
      await connector.close();
      await upstream.settled();
    }
  });
});
