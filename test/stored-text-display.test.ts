import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAdminApi } from '../gateway/admin/admin-api.ts';
import { createAccessLogWriter, type AccessLogWriter } from '../gateway/access-log/access-log-writer.ts';
import { createAgreementStore, type AgreementStore } from '../gateway/agreements/agreement-store.ts';
import { openDevIssuer } from '../gateway/auth/dev-issuer.ts';
import { createTokenVerifier } from '../gateway/auth/verify-token.ts';
import { runCli } from '../gateway/cli/run-cli.ts';
import { createConsole } from '../gateway/console/console-app.ts';
import type { ConsolePersona } from '../gateway/console/console-persona.ts';
import type { Store } from '../gateway/store/store.ts';
import type { Agreement } from '../policies/agreement.ts';
import { createTestSigner, sampleEntry } from './support/access-log-fixtures.ts';
import { demoCatalogue, people } from './support/agreement-fixtures.ts';
import { describeEachStore } from './support/describe-each-store.ts';

/**
 * Rows stored before inputs refused control characters (written here
 * straight into the store, past the lifecycle's rules) must not steer the
 * person who reads them: `isthmus agreements show`/`list`, the console's
 * agreement page and the auditor's CSV and JSONL exports show an escape
 * sequence, a bidirectional override or a line break as inert `\uXXXX`, and
 * a forged line ("fields: Person.gender") stays inside its own value.
 */

const ORIGIN = 'http://127.0.0.1:4000';
/** What the finding showed: ESC [8m hides the rest of the line; a line break then forges the field list. */
const FORGED_BASIS = '《社会保险法》第七十三条\u001b[8m\nfields:\n  Person.gender\u202e';
/** Raw characters that must never reach a reader. */
const RAW_UNSAFE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

function legacyAgreement(id: string, now: Date): Agreement {
  const at = now.toISOString();
  return {
    id,
    version: 1,
    consumerBureau: 'human-resources-social-security',
    consumerApp: 'pension-service',
    providerBureau: 'public-security',
    fields: ['Person.name', 'Person.address', 'Person.birthDate'],
    masks: {},
    purpose: 'pension-eligibility-check',
    legalBasis: FORGED_BASIS,
    rowScope: 'ANY',
    scope: `agreement:${id}`,
    validFrom: at,
    validUntil: new Date(now.getTime() + 86_400_000 * 30).toISOString(),
    status: 'PENDING',
    requestedBy: 'u-wang\u001b]0;title\u0007',
    replyBy: new Date(now.getTime() + 86_400_000 * 14).toISOString(),
    createdAt: at,
    updatedAt: at,
  };
}

describeEachStore('stored text cannot steer its reader, store on $name', (target) => {
  let store: Store;
  let agreements: AgreementStore;
  let writer: AccessLogWriter;
  let server: Server;
  let url: string;
  let consoleApp: Hono;
  const run = randomUUID().slice(0, 8);
  const id = `agr-legacy-${target.name}-${run}`;
  const consumer = `display-test-${run}`;
  const now = new Date();

  beforeAll(async () => {
    store = await target.open();
    agreements = createAgreementStore(store.db);
    const agreement = legacyAgreement(id, now);
    await agreements.create({ agreement, event: { agreementId: id, version: 1, action: 'SUBMIT', actor: { user: agreement.requestedBy, bureau: agreement.consumerBureau, roles: ['developer'] }, at: agreement.createdAt, agreement } });
    writer = createAccessLogWriter({ db: store.db, chainId: `display-${run}`, signer: await createTestSigner(), checkpointEvery: 1 });
    await writer.append(sampleEntry({ occurredAt: new Date(now.getTime() - 1_000), consumerBureau: consumer, user: 'u-wang\u001b[8m', purpose: 'pension\u202ereview' }));

    const root = new Hono();
    root.route('/admin/api', createAdminApi({ authenticate: async () => people.providerOfficer, agreements, catalogue: demoCatalogue(), now: () => now, workingDaysToReply: 10 }));
    server = createServer(getRequestListener(root.fetch, { overrideGlobalObjects: false }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const dev = await openDevIssuer({ keysDir: undefined });
    const personas: ConsolePersona[] = [
      { id: 'ps-officer', name: { zh: 'u-li', en: 'u-li' }, claims: { bureau: 'public-security', app: 'isthmus-console', user: 'u-li', roles: ['data_officer'] } },
      { id: 'auditor', name: { zh: 'u-xu', en: 'u-xu' }, claims: { bureau: 'audit-office', app: 'isthmus-console', user: 'u-xu', roles: ['auditor'] } },
    ];
    consoleApp = new Hono().route(
      '/console',
      createConsole({ agreements, catalogue: demoCatalogue(), verifier: createTokenVerifier({ issuers: [dev.issuerConfig] }), personas: { issuer: dev, list: personas }, now: () => new Date(), accessLog: { db: store.db, writer } }),
    );
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await writer?.close();
    await store?.close();
  });

  const cli = async (...argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['agreements', ...argv, '--url', url], { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, env: { ISTHMUS_TOKEN: 'any' } });
    return { code, stdout, stderr };
  };

  it('agreements show prints the stored legal basis inert, on its own line, and the real field list once', async () => {
    const shown = await cli('show', id);
    expect(shown.stderr).toBe('');
    expect(shown.code).toBe(0);
    expect(shown.stdout).not.toMatch(RAW_UNSAFE);
    const lines = shown.stdout.split('\n');
    expect(lines.find((line) => line.startsWith('legal basis:'))).toBe('legal basis:      《社会保险法》第七十三条\\u001b[8m\\u000afields:\\u000a  Person.gender\\u202e');
    expect(lines.filter((line) => line.startsWith('fields:'))).toEqual(['fields:']);
    expect(lines.filter((line) => line.startsWith('  Person.'))).toEqual(['  Person.name', '  Person.address', '  Person.birthDate']);
    expect(lines.find((line) => line.startsWith('requested by:'))).toBe('requested by:     u-wang\\u001b]0;title\\u0007');
  });

  it('agreements list and --json cannot be steered either; the JSON still parses to the stored value', async () => {
    const listed = await cli('list', '--provider', 'public-security', '--status', 'PENDING');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).not.toMatch(RAW_UNSAFE);
    const json = await cli('show', id, '--json');
    expect(json.stdout).not.toMatch(RAW_UNSAFE);
    expect(JSON.parse(json.stdout).agreement.legalBasis).toBe(FORGED_BASIS);
  });

  it('the console shows the agreement and the auditor’s log inert: hono/html escapes markup, not control characters', async () => {
    const officer = browserOf(consoleApp);
    await officer.signIn('ps-officer');
    const page = await officer.get(`/console/agreements/${id}`);
    expect(page.status, page.body).toBe(200);
    expect(page.body).not.toMatch(RAW_UNSAFE);
    // Line breaks stay (HTML shows them as a space: no console style keeps them), escape sequences and overrides do not.
    expect(page.body).toContain('第七十三条\\u001b[8m');
    expect(page.body).toContain('Person.gender\\u202e');

    const auditor = browserOf(consoleApp);
    await auditor.signIn('auditor');
    const log = await auditor.get(`/console/audit/log?consumer=${consumer}`);
    expect(log.status).toBe(200);
    expect(log.body).not.toMatch(RAW_UNSAFE);
  });

  it('the CSV and JSONL exports carry stored control characters inert, and JSONL keeps the exact value', async () => {
    const auditor = browserOf(consoleApp);
    await auditor.signIn('auditor');
    const csv = await (await auditor.download(`/console/audit/export/csv?consumer=${consumer}`)).text();
    expect(csv.split('\r\n').filter(Boolean)).toHaveLength(2);
    expect(csv.replaceAll('\r\n', '')).not.toMatch(RAW_UNSAFE);
    expect(csv).toContain('u-wang\\u001b[8m');
    expect(csv).toContain('pension\\u202ereview');
    const jsonl = await (await auditor.download(`/console/audit/export/jsonl?consumer=${consumer}`)).text();
    expect(jsonl).not.toMatch(RAW_UNSAFE);
    const [item] = jsonl.trim().split('\n').map((line) => JSON.parse(line));
    expect(item).toMatchObject({ user: 'u-wang\u001b[8m', purpose: 'pension\u202ereview' });
  });
});

/** Cookies kept between requests, and the CSRF token of the last page. */
function browserOf(app: Hono) {
  const cookies = new Map<string, string>();
  let csrf = '';
  const send = async (path: string, init: RequestInit = {}) => {
    const cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await app.request(`${ORIGIN}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) } });
    for (const line of response.headers.getSetCookie()) {
      const [name, value] = line.split(';')[0]!.split('=') as [string, string];
      cookies.set(name, value);
    }
    const body = await response.text();
    csrf = /name="_csrf" value="([^"]*)"/.exec(body)?.[1] ?? csrf;
    return { status: response.status, body, location: response.headers.get('location') };
  };
  const post = (path: string, fields: Record<string, string>) =>
    send(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, ...fields }).toString() });
  return {
    get: (path: string) => send(path),
    download: (path: string) => app.request(`${ORIGIN}${path}`, { headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') } }),
    async signIn(persona: string) {
      await send('/console/sign-in');
      const answer = await post('/console/sign-in/persona', { persona });
      expect(answer.status, answer.body).toBe(303);
      return send(answer.location!);
    },
  };
}
