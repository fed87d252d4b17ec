import type { BureauDatabase, BureauServer } from './bureau-server.ts';
import { demoCity, type City } from './data/generate-city.ts';
import type { GatewayTrustOptions } from './gateway-trust.ts';
import { startHrssDatabase } from './human-resources-social-security/hrss-database.ts';
import { startMarketSupervision } from './market-supervision/market-supervision-server.ts';
import { startPublicSecurity } from './public-security/public-security-server.ts';

/** Options of {@link startDemoBureaus}. */
export interface DemoBureausOptions {
  /** Each 0 or absent picks a free port; the demo launcher passes 4101, 4102 and 4103. */
  readonly ports?: {
    readonly publicSecurity?: number;
    readonly marketSupervision?: number;
    readonly hrss?: number;
  };
  /** A PostgreSQL server for the HRSS database (see {@link startHrssDatabase}); without it, PGlite. */
  readonly databaseServerUrl?: string;
  /** Defaults to {@link demoCity}; all three bureaus serve the same city. */
  readonly city?: City;
}

/** The environment variables the bureau manifests in `schemas/` read their connector URLs from. */
export interface DemoBureausEnv {
  readonly PUBLIC_SECURITY_URL: string;
  readonly MARKET_SUPERVISION_URL: string;
  readonly HRSS_DATABASE_URL: string;
}

/** The demo city's three running bureau systems. */
export interface DemoBureaus {
  readonly publicSecurity: BureauServer;
  readonly marketSupervision: BureauServer;
  readonly hrss: BureauDatabase;
  /** Pass to the gateway's config, e.g. `{ ...process.env, ...bureaus.env }`. */
  readonly env: DemoBureausEnv;
  /**
   * Applies {@link BureauServer.trustGateway} to both HTTP bureaus: from now on
   * they serve only requests the gateway vouches for (`undefined`: everyone
   * again). The HRSS database checks no assertion: it learns who is asking from
   * the settings of each read's transaction (see {@link BureauDatabase}).
   *
   * @example
   * bureaus.trustGateway({ jwksUrl: `${gateway.url}/.well-known/isthmus-gateway-jwks.json` });
   */
  trustGateway(options: GatewayTrustOptions | undefined): void;
  /** Stops both servers and closes the database; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts the demo city's bureaus: public security (GraphQL), market
 * supervision (REST) and human resources and social security (PostgreSQL),
 * all on 127.0.0.1 and all serving one city. If one fails to start, the others
 * are shut down again and the first error is thrown.
 *
 * @example
 * const bureaus = await startDemoBureaus({ ports: { publicSecurity: 4101, marketSupervision: 4102, hrss: 4103 } });
 * const gateway = await startGateway({ env: { ...process.env, ...bureaus.env } });
 */
export async function startDemoBureaus(options: DemoBureausOptions = {}): Promise<DemoBureaus> {
  const city = options.city ?? demoCity();
  const ports = options.ports ?? {};
  const [publicSecurity, marketSupervision, hrss] = await Promise.allSettled([
    startPublicSecurity({ port: ports.publicSecurity, city }),
    startMarketSupervision({ port: ports.marketSupervision, city }),
    startHrssDatabase({ port: ports.hrss, city, serverUrl: options.databaseServerUrl }),
  ]);
  if (publicSecurity.status === 'rejected' || marketSupervision.status === 'rejected' || hrss.status === 'rejected') {
    await Promise.allSettled([
      publicSecurity.status === 'fulfilled' ? publicSecurity.value.stop() : undefined,
      marketSupervision.status === 'fulfilled' ? marketSupervision.value.stop() : undefined,
      hrss.status === 'fulfilled' ? hrss.value.close() : undefined,
    ]);
    const failed = [publicSecurity, marketSupervision, hrss].find(
      (result): result is PromiseRejectedResult => result.status === 'rejected',
    );
    throw failed?.reason;
  }

  let closing: Promise<void> | undefined;
  return {
    publicSecurity: publicSecurity.value,
    marketSupervision: marketSupervision.value,
    hrss: hrss.value,
    env: {
      PUBLIC_SECURITY_URL: publicSecurity.value.url,
      MARKET_SUPERVISION_URL: marketSupervision.value.url,
      HRSS_DATABASE_URL: hrss.value.url,
    },
    trustGateway(trust) {
      publicSecurity.value.trustGateway(trust);
      marketSupervision.value.trustGateway(trust);
    },
    close() {
      closing ??= Promise.all([publicSecurity.value.stop(), marketSupervision.value.stop(), hrss.value.close()]).then(
        () => undefined,
      );
      return closing;
    },
  };
}
