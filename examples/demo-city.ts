import { startDemoBureaus } from './start-bureaus.ts';
import { demoCity, type City, type CityPerson } from './data/generate-city.ts';
import { loadConfig, ConfigError } from '../gateway/config/config.ts';
import { CatalogueError } from '../gateway/catalogue/catalogue-error.ts';
import { startGateway } from '../gateway/gateway.ts';
import { DEMO_CONSUMERS, seedDemoAgreements } from './demo-agreements.ts';
import { GATEWAY_JWKS_PATH } from '../gateway/auth/consumer-assertion.ts';
import { demoConsole } from './demo-console.ts';

/** Ports of the demo bureaus unless the environment says otherwise. */
export const DEMO_PORTS = { publicSecurity: 4101, marketSupervision: 4102, hrss: 4103 } as const;

/** The resident the demo's first query reads: one who represents an enterprise and has a social insurance account. */
export function sampleResident(city: City = demoCity()): CityPerson {
  return city.persons.find(
    (person) =>
      city.enterprises.some((enterprise) => enterprise.legalRepresentativeId === person.idNumber) &&
      city.insuranceAccounts.some((account) => account.idNumber === person.idNumber),
  )!;
}

/** What GraphiQL opens with in the demo: one resident, three bureaus. */
export function sampleQuery(idNumber: string): string {
  return `# One person, read from three bureaus in one query:
# public-security (GraphQL), market-supervision (REST), human-resources-social-security (SQL).
{
  person(idNumber: "${idNumber}") {
    name
    socialInsurance { insuredStatus contributionMonths }
    enterprises { name status insuredEmployeeCount }
  }
}
`;
}

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
  const sample = sampleResident();
  const consoleWiring = demoConsole(sample);
  let gateway;
  try {
    // The demo trusts its own dev issuer, so `npx isthmus token` makes working tokens.
    gateway = await startGateway(loadConfig({ ISTHMUS_DEV_ISSUER: 'true', ...process.env, ...bureaus.env }), { graphiqlQuery: sampleQuery(sample.idNumber), console: consoleWiring });
    const seeded = await seedDemoAgreements(gateway);
    if (seeded.length > 0) gateway.log.info({ agreements: seeded }, 'demo agreements stored');
    // Only now is the gateway's key served; from here on the HTTP bureaus answer only what comes through it.
    bureaus.trustGateway({ jwksUrl: `${gateway.url}${GATEWAY_JWKS_PATH}` });
  } catch (error) {
    await bureaus.close();
    if (error instanceof ConfigError || error instanceof CatalogueError) {
      process.stderr.write(`isthmus: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const { civilAffairs } = DEMO_CONSUMERS;
  process.stdout.write(
    [
      '',
      `  Isthmus demo city is up: ${gateway.url}/graphql  (GraphiQL in a browser)`,
      `  console: ${gateway.url}/console  (sign in as: ${consoleWiring.personas.map((persona) => persona.id).join(', ')})`,
      `  bureaus: public-security ${bureaus.env.PUBLIC_SECURITY_URL}`,
      `           market-supervision ${bureaus.env.MARKET_SUPERVISION_URL}`,
      `           human-resources-social-security (PostgreSQL) ${bureaus.env.HRSS_DATABASE_URL}`,
      `  try:     TOKEN=$(npx isthmus token --bureau ${civilAffairs.bureau} --app ${civilAffairs.app} --user he.fang --role developer --scope ${civilAffairs.scope})`,
      `           curl -s ${gateway.url}/graphql -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" -H 'x-isthmus-purpose: ${civilAffairs.purpose}' \\`,
      `             -d '{"query":"{ person(idNumber: \\"${sample.idNumber}\\") { name socialInsurance { contributionMonths } enterprises { name insuredEmployeeCount } } }"}'`,
      `  more:    README.md walks through the sample agreements, a citizen's view, explain and the access log`,
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
