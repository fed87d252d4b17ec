import { Writable } from 'node:stream';
import { startDemoBureaus, type DemoBureaus } from '../../examples/start-bureaus.ts';
import { loadConfig } from '../../gateway/config/config.ts';
import { startGateway, type Gateway } from '../../gateway/gateway.ts';
import { createScratchDatabase } from './test-stores.ts';
import { sampleQuery, sampleResident } from '../../examples/demo-city.ts';

/** The demo city on free ports, for one test file. */
export interface TestCity {
  readonly gateway: Gateway;
  readonly bureaus: DemoBureaus;
  /** JSON log lines the gateway wrote. */
  readonly logs: readonly Record<string, unknown>[];
  /** POSTs a GraphQL request to the gateway and returns status, headers and parsed body. */
  graphql(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphqlReply>;
  close(): Promise<void>;
}

/** A gateway's answer, as a client sees it. */
export interface GraphqlReply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: { data?: any; errors?: { message: string; path?: (string | number)[]; extensions: Record<string, any> }[] };
}

/**
 * Starts the three demo bureaus and a gateway in front of them, all on free
 * ports. With `DATABASE_URL` set, the gateway's store and the social
 * security bureau's tables live in scratch databases on that PostgreSQL
 * server; otherwise both are embedded PGlite in memory.
 */
export async function startTestCity(env: Record<string, string> = {}): Promise<TestCity> {
  const serverUrl = process.env.DATABASE_URL;
  const bureaus = await startDemoBureaus(serverUrl ? { databaseServerUrl: serverUrl } : {});
  const scratch = serverUrl ? await createScratchDatabase(serverUrl) : undefined;
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
        ISTHMUS_DATA_DIR: ':memory:',
        ...(scratch ? { DATABASE_URL: scratch.url } : {}),
        ...bureaus.env,
        ...env,
      }),
      { logDestination: destination, graphiqlQuery: sampleQuery(sampleResident().idNumber) },
    );
  } catch (error) {
    await bureaus.close();
    await scratch?.drop();
    throw error;
  }
  return {
    gateway,
    bureaus,
    logs,
    async graphql(query, variables, headers = {}) {
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
      await scratch?.drop();
    },
  };
}
