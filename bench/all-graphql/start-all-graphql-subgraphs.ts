import { createYoga } from 'graphql-yoga';
import pg from 'pg';
import type { BureauServer } from '../../examples/bureau-server.ts';
import type { City } from '../../examples/data/generate-city.ts';
import { startHttpBureau } from '../../examples/start-http-bureau.ts';
import { createHrssLoaders, createHrssSubgraph } from './hrss-subgraph.ts';
import { createMarketSupervisionSubgraph } from './market-supervision-subgraph.ts';
import { createPublicSecuritySubgraph } from './public-security-subgraph.ts';

/** Options of {@link startAllGraphqlSubgraphs}. */
export interface AllGraphqlSubgraphsOptions {
  readonly city: City;
  /** The HRSS database (see `startHrssDatabase`) the social insurance subgraph reads. */
  readonly hrssDatabaseUrl: string;
  /** Connections the HRSS subgraph keeps to it: as many as each gateway of the mixed city may (1 on PGlite). */
  readonly sqlConnections: number;
}

/** The all-GraphQL demo city: three federation subgraphs on 127.0.0.1. */
export interface AllGraphqlSubgraphs {
  readonly publicSecurity: BureauServer;
  readonly marketSupervision: BureauServer;
  readonly hrss: BureauServer;
  close(): Promise<void>;
}

/**
 * Starts the all-GraphQL variant of the demo city: public security, market
 * supervision and HRSS each as an Apollo Federation v2 subgraph served by
 * graphql-yoga on its own port (`/graphql`), with request counters. The first
 * two serve the city from memory like the demo bureaus; HRSS reads its tables
 * through `pg`, so its work per request matches the SQL bureau's.
 *
 * @example
 * const subgraphs = await startAllGraphqlSubgraphs({ city: demoCity(), hrssDatabaseUrl: hrss.url });
 * subgraphs.hrss.requestCount();
 */
export async function startAllGraphqlSubgraphs(options: AllGraphqlSubgraphsOptions): Promise<AllGraphqlSubgraphs> {
  const pool = new pg.Pool({ connectionString: options.hrssDatabaseUrl, max: options.sqlConnections });
  // An idle connection the database drops must not crash the bureaus' process.
  pool.on('error', () => {});
  // No logging, no landing page: like the demo bureaus, these run under load,
  // where a log line per request would be what we measure.
  const serve = { graphqlEndpoint: '/graphql', logging: false, landingPage: false, graphiql: false } as const;
  const started: BureauServer[] = [];
  try {
    const publicSecurity = await startHttpBureau(createYoga({ ...serve, schema: createPublicSecuritySubgraph(options.city) }), { path: '/graphql' });
    started.push(publicSecurity);
    const marketSupervision = await startHttpBureau(createYoga({ ...serve, schema: createMarketSupervisionSubgraph(options.city) }), { path: '/graphql' });
    started.push(marketSupervision);
    const hrss = await startHttpBureau(createYoga({ ...serve, schema: createHrssSubgraph(), context: () => createHrssLoaders(pool) }), { path: '/graphql' });
    started.push(hrss);
    return {
      publicSecurity,
      marketSupervision,
      hrss,
      async close() {
        await Promise.all(started.map((server) => server.stop()));
        await pool.end();
      },
    };
  } catch (error) {
    await Promise.allSettled(started.map((server) => server.stop()));
    await pool.end();
    throw error;
  }
}
