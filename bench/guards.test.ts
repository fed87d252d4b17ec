import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { createYoga, type Plugin } from 'graphql-yoga';
import type { Connector } from '../connectors/connector.ts';
import { createConnector } from '../connectors/create-connector.ts';
import { SQL_ROUND_TRIPS_PER_READ } from '../connectors/sql/sql-connector.ts';
import { demoCity } from '../examples/data/generate-city.ts';
import { startDemoBureaus, type DemoBureaus } from '../examples/start-bureaus.ts';
import { loadCatalogue } from '../gateway/catalogue/load-catalogue.ts';
import { stitchBureaus } from '../gateway/graphql/stitch-bureaus.ts';
import { useOperationLimits } from '../gateway/graphql/use-operation-limits.ts';
import { startCountingPgProxy, type CountingPgProxy } from './bureaus/start-counting-pg-proxy.ts';
import { benchScenarios, type BenchScenario, type ScenarioName } from './scenarios/bench-scenarios.ts';
import { catalogueSettings } from './systems/catalogue-settings.ts';
import { listenOnLoopback } from './systems/listen-on-loopback.ts';
import type { RunningSystem, SystemUpstreams } from './systems/running-system.ts';
import { startIsthmusSystem } from './systems/start-isthmus.ts';

// Regression guards for the benchmark's figures that are counts, not times:
// what a request costs the bureaus, and whether a repeated document is parsed
// and validated again. Times live in `npm run bench`, never here.

const city = demoCity();
const scenarios = new Map(benchScenarios(city).map((scenario) => [scenario.name, scenario]));
const scenario = (name: ScenarioName): BenchScenario => scenarios.get(name)!;

async function post(url: string, headers: Readonly<Record<string, string>>, body: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...headers }, body });
  return { status: response.status, body: await response.json() };
}

describe('upstream calls per request: Isthmus over the demo city, counted by the bureaus', () => {
  let bureaus: DemoBureaus;
  let sql: CountingPgProxy;
  let isthmus: RunningSystem;

  beforeAll(async () => {
    const databaseServerUrl = process.env.DATABASE_URL || undefined;
    bureaus = await startDemoBureaus(databaseServerUrl ? { databaseServerUrl } : {});
    sql = await startCountingPgProxy(bureaus.env.HRSS_DATABASE_URL);
    const upstreams: SystemUpstreams = {
      variant: 'mixed',
      publicSecurity: bureaus.env.PUBLIC_SECURITY_URL,
      marketSupervision: bureaus.env.MARKET_SUPERVISION_URL,
      hrss: sql.url,
      // The shipped manifest's limit, so the gateway reads the shipped catalogue.
      sqlConnections: 1,
      ...(databaseServerUrl ? { databaseServerUrl } : {}),
    };
    isthmus = await startIsthmusSystem(upstreams, { quiet: true });
  });
  afterAll(async () => {
    await isthmus?.close();
    await sql?.close();
    await bureaus?.close();
  });

  /** Sends one request and returns the calls each bureau received meanwhile; nothing else calls them. */
  async function callsFor(name: ScenarioName): Promise<Record<string, number>> {
    const before = { ps: bureaus.publicSecurity.requestCount(), ms: bureaus.marketSupervision.requestCount(), hrss: sql.queryCount() };
    const reply = await post(isthmus.url, isthmus.headers, scenario(name).bodies[0]!);
    // A wrong answer makes the counts meaningless. If authentication or
    // enforcement just changed, bench/systems/start-isthmus.ts is the one
    // place that gives the bench's principal its token and agreements.
    expect(scenario(name).check(0, reply.status, reply.body), 'Isthmus must answer the bench scenario exactly (see bench/systems/start-isthmus.ts)').toBeUndefined();
    return {
      'public-security': bureaus.publicSecurity.requestCount() - before.ps,
      'market-supervision': bureaus.marketSupervision.requestCount() - before.ms,
      'human-resources-social-security': sql.queryCount() - before.hrss,
    };
  }

  // The gateway reads HRSS in a transaction that first tells the database who
  // is asking (begin, set_config, the read, commit), so one batched read is
  // SQL_ROUND_TRIPS_PER_READ queries at the bureau's door.
  const hrssReads = (reads: number): number => reads * SQL_ROUND_TRIPS_PER_READ;

  it('costs four calls for one person across three bureaus', async () => {
    // public security: the person; market supervision: their enterprises;
    // HRSS: their social insurance, then the enterprises' insured employee counts.
    expect(await callsFor('single')).toEqual({ 'public-security': 1, 'market-supervision': 1, 'human-resources-social-security': hrssReads(2) });
  });

  it('costs the same four calls for 100 persons: one per bureau for the first level, one more for the nested enterprises', async () => {
    expect(await callsFor('list100')).toEqual({ 'public-security': 1, 'market-supervision': 1, 'human-resources-social-security': hrssReads(2) });
  });

  it('costs no more the second time: nothing is fetched twice or per item', async () => {
    await callsFor('list100');
    expect(await callsFor('list100')).toEqual({ 'public-security': 1, 'market-supervision': 1, 'human-resources-social-security': hrssReads(2) });
  });
});

/** Counts the parse and validate work yoga really does: hooks wrap the functions, so a cache hit never reaches them. */
function useWorkCounter(counts: { parse: number; validate: number }): Plugin {
  return {
    onParse({ parseFn, setParseFn }) {
      setParseFn((source, options) => {
        counts.parse += 1;
        return parseFn(source, options);
      });
    },
    onValidate({ validateFn, setValidationFn }) {
      setValidationFn((...args) => {
        counts.validate += 1;
        return validateFn(...args);
      });
    },
  };
}

describe('parse and validate caches: a repeated document costs no parse or validate work', () => {
  let bureaus: DemoBureaus;
  let connectors: Map<string, Connector>;
  let server: Server;
  let url: string;
  const counts = { parse: 0, validate: 0 };

  beforeAll(async () => {
    bureaus = await startDemoBureaus();
    const settings = catalogueSettings({
      variant: 'mixed',
      publicSecurity: bureaus.env.PUBLIC_SECURITY_URL,
      marketSupervision: bureaus.env.MARKET_SUPERVISION_URL,
      hrss: bureaus.env.HRSS_DATABASE_URL,
      sqlConnections: 1,
    });
    const { catalogue, schemas } = loadCatalogue({ dir: settings.schemasDir, env: settings.env });
    connectors = new Map();
    for (const bureau of catalogue.bureaus.values()) {
      const { kind, url: bureauUrl, timeoutMs, maxConcurrency, breaker } = bureau.connector;
      connectors.set(bureau.id, createConnector(kind, { bureau: bureau.id, url: bureauUrl, schema: schemas.get(bureau.id)!, limits: { timeoutMs, maxConcurrency, breaker } }));
    }
    // The gateway's graph and its validation-time plugin (operation limits
    // add a validation rule per request: exactly what could defeat yoga's
    // validation cache, which is keyed by the rules), plus the counter.
    const yoga = createYoga({
      schema: stitchBureaus(catalogue, connectors),
      logging: false,
      plugins: [useOperationLimits({ maxDepth: 12, maxAliases: 30 }), useWorkCounter(counts)],
    });
    server = createServer(yoga);
    url = `${await listenOnLoopback(server)}/graphql`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await Promise.allSettled([...(connectors?.values() ?? [])].map((connector) => connector.close()));
    await bureaus?.close();
  });

  it('parses and validates a document once, however often it is sent, and again for a new document', async () => {
    const single = scenario('single');
    const first = await post(url, {}, single.bodies[0]!);
    expect(single.check(0, first.status, first.body)).toBeUndefined();
    expect(counts).toEqual({ parse: 1, validate: 1 });

    const second = await post(url, {}, single.bodies[0]!);
    expect(single.check(0, second.status, second.body)).toBeUndefined();
    expect(counts).toEqual({ parse: 1, validate: 1 });

    // Same document, another person: still no parse or validate work.
    const third = await post(url, {}, single.bodies[1]!);
    expect(single.check(1, third.status, third.body)).toBeUndefined();
    expect(counts).toEqual({ parse: 1, validate: 1 });

    const list = scenario('list100');
    const fourth = await post(url, {}, list.bodies[0]!);
    expect(list.check(0, fourth.status, fourth.body)).toBeUndefined();
    expect(counts).toEqual({ parse: 2, validate: 2 });
  });
});
