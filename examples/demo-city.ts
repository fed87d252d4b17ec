import { startDemoBureaus, type DemoBureaus } from './start-bureaus.ts';
import { demoCity, type City, type CityPerson } from './data/generate-city.ts';
import { loadConfig } from '../gateway/config/config.ts';
import { EXIT_CONFIG, startRefusal } from '../gateway/main.ts';
import { startGateway, type Gateway } from '../gateway/gateway.ts';
import { DEMO_CONSUMERS, seedDemoAgreements } from './demo-agreements.ts';
import { GATEWAY_JWKS_PATH } from '../gateway/auth/consumer-assertion.ts';
import { DEMO_PORT_VARIABLES, DemoStartError, demoPorts, portError, type DemoBureauName } from './demo-ports.ts';
import { demoConsole } from './demo-console.ts';
import { startDemoWitness, type DemoWitness } from './demo-witness.ts';

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
 * A port that is taken, or a `DEMO_*_PORT` that is not a port, stops it
 * before anything is served, with one line naming the port and its variable.
 */
async function runDemoCity(): Promise<void> {
  const sample = sampleResident();
  const consoleWiring = demoConsole(sample);
  let bureaus: DemoBureaus | undefined;
  let auditOffice: DemoWitness | undefined;
  let gateway: Gateway;
  try {
    const ports = demoPorts(process.env);
    bureaus = await startDemoBureaus({ ports }).catch((error: unknown) => {
      throw portError(error, new Map(Object.entries(ports).map(([bureau, port]) => [port, DEMO_PORT_VARIABLES[bureau as DemoBureauName]])));
    });
    // The demo trusts its own dev issuer, so `npx isthmus token` makes working tokens.
    const settings = { ISTHMUS_DEV_ISSUER: 'true', ...process.env, ...bureaus.env };
    let config = loadConfig(settings);
    // The audit office witnesses the demo's log, unless witnesses are configured (or DEMO_WITNESS=off).
    if (config.witnesses.length === 0 && process.env.DEMO_WITNESS !== 'off') {
      auditOffice = await startDemoWitness(config, process.env);
      config = loadConfig({ ...settings, ...auditOffice.env });
    }
    gateway = await startGateway(config, { graphiqlQuery: sampleQuery(sample.idNumber), console: consoleWiring }).catch((error: unknown) => {
      throw portError(error, new Map([[config.port, 'PORT']]));
    });
    const seeded = await seedDemoAgreements(gateway);
    if (seeded.length > 0) gateway.log.info({ agreements: seeded }, 'demo agreements stored');
    // Only now is the gateway's key served; from here on the HTTP bureaus answer only what comes through it.
    bureaus.trustGateway({ jwksUrl: `${gateway.url}${GATEWAY_JWKS_PATH}` });
  } catch (error) {
    await bureaus?.close();
    await auditOffice?.close();
    if (error instanceof DemoStartError) {
      process.stderr.write(`isthmus: ${error.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    // A bad setting or catalogue, or a data folder another gateway holds: one line, as `isthmus start` says it.
    const refusal = startRefusal(error);
    if (refusal) {
      process.stderr.write(`isthmus: ${refusal.message}\n`);
      process.exit(refusal.exitCode);
    }
    throw error;
  }
  const running = bureaus;
  const { civilAffairs } = DEMO_CONSUMERS;
  process.stdout.write(
    [
      '',
      `  Isthmus demo city is up: ${gateway.url}/graphql  (GraphiQL in a browser)`,
      `  console: ${gateway.url}/console  (sign in as: ${consoleWiring.personas.map((persona) => persona.id).join(', ')})`,
      `  bureaus: public-security ${running.env.PUBLIC_SECURITY_URL}`,
      `           market-supervision ${running.env.MARKET_SUPERVISION_URL}`,
      `           human-resources-social-security (PostgreSQL) ${running.env.HRSS_DATABASE_URL}`,
      ...(auditOffice ? [`  witness: the audit office (${auditOffice.witness.name}) ${auditOffice.witness.url}  cosigns the access log's checkpoints`] : []),
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
    await running.close();
    await auditOffice?.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (import.meta.main) await runDemoCity();
