import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import pg from 'pg';
import { createHttpClient } from '../../connectors/shared/http-client.ts';
import type { EnterpriseRecord } from '../../examples/market-supervision/market-supervision-server.ts';
import { LIST_OPERATION, SINGLE_OPERATION } from '../scenarios/scenario-documents.ts';
import { serveSystem } from './listen-on-loopback.ts';
import type { RunningSystem, SystemUpstreams } from './running-system.ts';

/**
 * Sockets per HTTP bureau: the limit the demo manifests give Isthmus's HTTP
 * connectors (`maxConcurrency` 32); SQL connections are
 * `upstreams.sqlConnections`, as for the gateways. The floor waits on the
 * bureaus under the same rules.
 */
const HTTP_SOCKETS = 32;
const UPSTREAM_TIMEOUT_MS = 3_000;

const PERSONS_QUERY = 'query DirectPersons($idNumbers: [ID!]!) { persons(idNumbers: $idNumbers) { idNumber name } }';

interface PersonAnswer {
  readonly idNumber: string;
  readonly name: string | null;
  readonly socialInsurance: { readonly contributionMonths: number } | null;
  readonly enterprises: readonly { readonly name: string; readonly insuredEmployeeCount: number | null }[];
}

/**
 * Starts `direct`, the floor: a small node:http service that answers the
 * benchmark's two operations by calling the mixed city's bureaus itself —
 * public security over GraphQL, market supervision over REST, HRSS over SQL —
 * with the fewest calls the answer needs (the same four the gateways make)
 * and no GraphQL of its own: it picks the operation by `operationName` and
 * reads the keys from `variables`.
 *
 * Why a service and not a function inside the load generator: so that it is
 * measured exactly like the gateways, over the same HTTP hop from the same
 * load generator, in its own process, with its own memory.
 *
 * @example
 * const direct = await startDirect({ variant: 'mixed', publicSecurity, marketSupervision, hrss });
 */
export async function startDirect(upstreams: SystemUpstreams): Promise<RunningSystem> {
  if (upstreams.variant !== 'mixed') throw new Error('direct calls the mixed city (GraphQL, REST and SQL bureaus)');
  const publicSecurity = createHttpClient({ baseUrl: new URL(upstreams.publicSecurity), maxSockets: HTTP_SOCKETS });
  const marketSupervision = createHttpClient({ baseUrl: new URL(upstreams.marketSupervision), maxSockets: HTTP_SOCKETS });
  const pool = new pg.Pool({ connectionString: upstreams.hrss, max: upstreams.sqlConnections });
  pool.on('error', () => {});

  async function persons(idNumbers: readonly string[], signal: AbortSignal): Promise<Map<string, string | null>> {
    const body = JSON.stringify({ query: PERSONS_QUERY, variables: { idNumbers } });
    const response = await publicSecurity.request({ method: 'POST', path: '', headers: { 'content-type': 'application/json' }, body, signal });
    const parsed = JSON.parse(response.body) as { data?: { persons: ({ idNumber: string; name: string | null } | null)[] }; errors?: unknown };
    if (response.status !== 200 || !parsed.data) throw new Error(`public-security answered ${response.status}`);
    return new Map(parsed.data.persons.flatMap((person) => (person ? [[person.idNumber, person.name] as const] : [])));
  }

  async function enterprises(idNumbers: readonly string[], signal: AbortSignal): Promise<readonly EnterpriseRecord[]> {
    const response = await marketSupervision.request({ method: 'GET', path: `/enterprises?legalRepresentativeId=${idNumbers.map(encodeURIComponent).join(',')}`, signal });
    if (response.status !== 200) throw new Error(`market-supervision answered ${response.status}`);
    return JSON.parse(response.body) as EnterpriseRecord[];
  }

  async function contributionMonths(idNumbers: readonly string[]): Promise<Map<string, number>> {
    const { rows } = await pool.query<{ id_number: string; contribution_months: number }>(
      'select id_number, contribution_months from insurance_accounts where id_number = any($1::text[])',
      [idNumbers],
    );
    return new Map(rows.map((row) => [row.id_number, row.contribution_months]));
  }

  async function insuredEmployeeCounts(creditCodes: readonly string[]): Promise<Map<string, number>> {
    if (creditCodes.length === 0) return new Map();
    const { rows } = await pool.query<{ credit_code: string; insured_employee_count: number }>(
      'select credit_code, insured_employee_count from enterprise_insurance_summary where credit_code = any($1::text[])',
      [creditCodes],
    );
    return new Map(rows.map((row) => [row.credit_code, row.insured_employee_count]));
  }

  /** Three bureaus at once (none needs another's answer), then HRSS once more for the enterprises found. */
  async function lookUp(idNumbers: readonly string[], signal: AbortSignal): Promise<(PersonAnswer | null)[]> {
    const [names, represented, months] = await Promise.all([persons(idNumbers, signal), enterprises(idNumbers, signal), contributionMonths(idNumbers)]);
    const counts = await insuredEmployeeCounts(represented.map((enterprise) => enterprise.creditCode));
    const byRepresentative = new Map<string, EnterpriseRecord[]>();
    for (const enterprise of represented) {
      const list = byRepresentative.get(enterprise.legalRepresentativeId);
      if (list) list.push(enterprise);
      else byRepresentative.set(enterprise.legalRepresentativeId, [enterprise]);
    }
    return idNumbers.map((idNumber) => {
      if (!names.has(idNumber)) return null;
      const contribution = months.get(idNumber);
      return {
        idNumber,
        name: names.get(idNumber) ?? null,
        socialInsurance: contribution === undefined ? null : { contributionMonths: contribution },
        enterprises: (byRepresentative.get(idNumber) ?? []).map((enterprise) => ({ name: enterprise.name, insuredEmployeeCount: counts.get(enterprise.creditCode) ?? null })),
      };
    });
  }

  async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const signal = AbortSignal.timeout(UPSTREAM_TIMEOUT_MS);
    let body = '';
    request.setEncoding('utf8');
    for await (const chunk of request) body += chunk;
    const { operationName, variables } = JSON.parse(body) as { operationName?: string; variables?: { idNumber?: string; idNumbers?: string[] } };
    let data: unknown;
    // The fields both documents select, in their order.
    const present = (person: PersonAnswer | null) => (person ? { name: person.name, socialInsurance: person.socialInsurance, enterprises: person.enterprises } : null);
    if (operationName === SINGLE_OPERATION && typeof variables?.idNumber === 'string') {
      const [person] = await lookUp([variables.idNumber], signal);
      data = { person: present(person ?? null) };
    } else if (operationName === LIST_OPERATION && Array.isArray(variables?.idNumbers)) {
      data = { persons: (await lookUp(variables.idNumbers, signal)).map(present) };
    } else {
      send(response, 400, { errors: [{ message: `direct answers only ${SINGLE_OPERATION} and ${LIST_OPERATION}` }] });
      return;
    }
    send(response, 200, { data });
  }

  const server = createServer((request, response) => {
    answer(request, response).catch((error: unknown) => {
      send(response, 502, { errors: [{ message: error instanceof Error ? error.message : 'upstream failed' }] });
    });
  });
  return serveSystem(server, () => {
    publicSecurity.close();
    marketSupervision.close();
    return pool.end();
  });
}

function send(response: ServerResponse, status: number, payload: unknown): void {
  if (response.headersSent) return;
  const body = JSON.stringify(payload);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
