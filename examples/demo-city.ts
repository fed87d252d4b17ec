import { startDemoBureaus } from './start-bureaus.ts';
import { demoCity } from './data/generate-city.ts';
import { loadConfig, ConfigError } from '../gateway/config/config.ts';
import { CatalogueError } from '../gateway/catalogue/catalogue-error.ts';
import { startGateway } from '../gateway/gateway.ts';

/** Ports of the demo bureaus unless the environment says otherwise. */
export const DEMO_PORTS = { publicSecurity: 4101, marketSupervision: 4102, hrss: 4103 } as const;

/**
 * `npm start`: the demo city. Three bureau systems — a GraphQL service, a
 * REST API and a PostgreSQL database — and the gateway in front of them on
 * http://127.0.0.1:4000. Ctrl-C (or SIGTERM) stops everything gracefully.
 */
async function runDemoCity(): Promise<void> {
  const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  const bureaus = await startDemoBureaus({
    ports: {
      publicSecurity: port('DEMO_PUBLIC_SECURITY_PORT', DEMO_PORTS.publicSecurity),
      marketSupervision: port('DEMO_MARKET_SUPERVISION_PORT', DEMO_PORTS.marketSupervision),
      hrss: port('DEMO_HRSS_PORT', DEMO_PORTS.hrss),
    },
  });
  let gateway;
  try {
    gateway = await startGateway(loadConfig({ ...process.env, ...bureaus.env }));
  } catch (error) {
    await bureaus.close();
    if (error instanceof ConfigError || error instanceof CatalogueError) {
      process.stderr.write(`isthmus: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const sample = demoCity().persons.find((person) => demoCity().enterprises.some((enterprise) => enterprise.legalRepresentativeId === person.idNumber))!;
  process.stdout.write(
    [
      '',
      `  Isthmus demo city is up: ${gateway.url}/graphql  (GraphiQL in a browser)`,
      `  bureaus: public-security ${bureaus.env.PUBLIC_SECURITY_URL}`,
      `           market-supervision ${bureaus.env.MARKET_SUPERVISION_URL}`,
      `           human-resources-social-security (PostgreSQL) ${bureaus.env.HRSS_DATABASE_URL}`,
      `  try:     curl -s ${gateway.url}/graphql -H 'content-type: application/json' \\`,
      `             -d '{"query":"{ person(idNumber: \\"${sample.idNumber}\\") { name socialInsurance { contributionMonths } enterprises { name insuredEmployeeCount } } }"}'`,
      '',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await gateway.close();
    await bureaus.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (import.meta.main) await runDemoCity();
