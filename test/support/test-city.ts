import { Writable } from 'node:stream';
import { startDemoBureaus, type DemoBureaus } from '../../examples/start-bureaus.ts';
import { loadConfig } from '../../gateway/config/config.ts';
import { startGateway, type Gateway, type StartGatewayOptions } from '../../gateway/gateway.ts';
import { defaultStoreTarget, type GatewayDatabase, type StoreTarget } from './test-stores.ts';
import { sampleQuery, sampleResident } from '../../examples/demo-city.ts';
import { DEMO_CONSUMERS, seedDemoAgreements } from '../../examples/demo-agreements.ts';
import type { DevTokenClaims } from '../../gateway/auth/dev-issuer.ts';
import { GATEWAY_JWKS_PATH } from '../../gateway/auth/consumer-assertion.ts';
import { demoConsole } from '../../examples/demo-console.ts';
import type { ConsolePersona } from '../../gateway/console/console-persona.ts';

/** The demo city on free ports, for one test file. */
export interface TestCity {
  readonly gateway: Gateway;
  readonly bureaus: DemoBureaus;
  /** The gateway's own database (its store), made for this city and dropped by `close()`. */
  readonly database: GatewayDatabase;
  /** JSON log lines the gateway wrote. */
  readonly logs: readonly Record<string, unknown>[];
  /**
   * POSTs a GraphQL request to the gateway and returns status, headers and
   * parsed body. Unless `headers` say otherwise, it goes as the demo's
   * civil-affairs allowance reviewer, with the purpose its agreements name.
   */
  graphql(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphqlReply>;
  /** A token of the gateway's dev issuer. */
  token(claims: DevTokenClaims): Promise<string>;
  /** Headers of the civil-affairs allowance reviewer, who holds the demo's three ACTIVE cross-bureau agreements. */
  readonly reviewer: Readonly<Record<string, string>>;
  /** Headers of the demo's one-stop citizen app signed in as `idNumber` (its SELF agreement's scope and purpose). */
  citizen(idNumber: string, user?: string): Promise<Record<string, string>>;
  close(): Promise<void>;
}

/** A gateway's answer, as a client sees it. */
export interface GraphqlReply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: { data?: any; errors?: { message: string; path?: (string | number)[]; extensions: Record<string, any> }[] };
}

/** Options of {@link startTestCity}. */
export interface TestCityOptions {
  /**
   * The gateway's store: a fresh database of this target. Default
   * {@link defaultStoreTarget}: PostgreSQL when `DATABASE_URL` is set, else
   * PGlite; a suite about the store itself runs once per target
   * (`describeEachStore`) and passes each.
   */
  readonly store?: StoreTarget;
  /**
   * The clock of the console and of the access log writer (the rest of the
   * gateway keeps the real one): a browser test that must see a disclosure
   * delay end moves it forward instead of sleeping. The writer shares it
   * because it refuses entries stamped far from its own clock.
   */
  readonly clock?: () => Date;
  /**
   * Where the social security bureau's tables live: a scratch database on
   * this target's server, or PGlite. Default: `DATABASE_URL`'s server when
   * set, else PGlite.
   */
  readonly bureauDatabase?: StoreTarget;
  /** Timings of the gateway's witness round, shortened by tests of the evidence gate. */
  readonly witnessTiming?: StartGatewayOptions['witnessTiming'];
  /** Personas the console's picker offers besides the demo's (an operator, whom the demo has none of). */
  readonly extraPersonas?: readonly ConsolePersona[];
}

/**
 * Starts the three demo bureaus and a gateway in front of them, all on free
 * ports, the HTTP bureaus trusting the gateway (they refuse calls without its
 * consumer assertion; `bureaus.trustGateway(undefined)` lifts that). The
 * gateway's store is a fresh database of `options.store`; the social security
 * bureau's tables live in a scratch database on `DATABASE_URL`'s server when
 * it is set, else in embedded PGlite. `env` is added to the gateway's
 * configuration last.
 */
export async function startTestCity(env: Record<string, string> = {}, options: TestCityOptions = {}): Promise<TestCity> {
  const serverUrl = options.bureauDatabase ? options.bureauDatabase.serverUrl : process.env.DATABASE_URL;
  const bureaus = await startDemoBureaus(serverUrl ? { databaseServerUrl: serverUrl } : {});
  let database: GatewayDatabase;
  try {
    database = await (options.store ?? defaultStoreTarget()).gatewayDatabase({ prefix: 'isthmus_city' });
  } catch (error) {
    await bureaus.close();
    throw error;
  }
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  let gateway: Gateway;
  try {
    gateway = await startGateway(
      loadConfig({
        PORT: '0',
        LOG_LEVEL: 'info',
        ISTHMUS_DEV_ISSUER: 'true',
        ...database.env,
        ...bureaus.env,
        ...env,
      }),
      {
        logDestination: destination,
        graphiqlQuery: sampleQuery(sampleResident().idNumber),
        console: withPersonas(demoConsole(sampleResident()), options.extraPersonas, options.clock),
        ...(options.clock && { accessLogNow: options.clock }),
        ...(options.witnessTiming && { witnessTiming: options.witnessTiming }),
      },
    );
  } catch (error) {
    await bureaus.close();
    await database.drop();
    throw error;
  }
  // As in the demo: once the gateway serves its key, the HTTP bureaus answer only what comes through it.
  bureaus.trustGateway({ jwksUrl: `${gateway.url}${GATEWAY_JWKS_PATH}` });
  const token = (claims: DevTokenClaims) => gateway.devIssuer!.signDevToken(claims);
  let reviewer: Record<string, string>;
  try {
    await seedDemoAgreements(gateway);
    const { civilAffairs } = DEMO_CONSUMERS;
    reviewer = {
      authorization: `Bearer ${await token({ bureau: civilAffairs.bureau, app: civilAffairs.app, user: 'he.fang@civil-affairs', roles: ['developer'], scopes: [civilAffairs.scope], ttl: '1h' })}`,
      'x-isthmus-purpose': civilAffairs.purpose,
    };
  } catch (error) {
    await gateway.close();
    await bureaus.close();
    await database.drop();
    throw error;
  }
  return {
    gateway,
    bureaus,
    database,
    logs,
    token,
    reviewer,
    async citizen(idNumber, user = 'resident-7781') {
      const { citizenApp } = DEMO_CONSUMERS;
      return {
        authorization: `Bearer ${await token({ bureau: citizenApp.bureau, app: citizenApp.app, user, roles: ['citizen'], citizen: idNumber, scopes: [citizenApp.scope], ttl: '1h' })}`,
        'x-isthmus-purpose': citizenApp.purpose,
      };
    },
    async graphql(query, variables, headers = reviewer) {
      const response = await fetch(`${gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, headers: response.headers, body: await response.json() };
    },
    async close() {
      await gateway.close();
      await bureaus.close();
      await database.drop();
    },
  };
}

/** The demo's console, with more personas and the test's clock when given. */
function withPersonas(demo: ReturnType<typeof demoConsole>, extra: readonly ConsolePersona[] = [], clock?: () => Date) {
  return { ...demo, personas: [...demo.personas, ...extra], ...(clock && { now: clock }) };
}
