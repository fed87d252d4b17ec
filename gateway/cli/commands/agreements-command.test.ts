import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import type { Store } from '../../store/store.ts';
import type { Principal } from '../../../policies/principal.ts';
import { describeEachStore } from '../../../test/support/describe-each-store.ts';
import { demoCatalogue, people, principal } from '../../../test/support/agreement-fixtures.ts';
import { createAgreementStore } from '../../agreements/agreement-store.ts';
import { createAdminApi } from '../../admin/admin-api.ts';
import { runCli } from '../run-cli.ts';

const BIN = fileURLToPath(new URL('../isthmus.ts', import.meta.url));
const tokens = new Map<string, Principal>(Object.entries({ ...people, requesterAsProvider: principal('u-wang', 'public-security', ['data_officer']) }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `isthmus …` in this process, as the given token's holder. */
async function isthmus(argv: readonly string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
  });
  return { code, stdout, stderr };
}

describeEachStore('isthmus agreements against a running server, store on $name', (target) => {
  let store: Store;
  let server: Server;
  let url: string;

  const as = (who: string, ...argv: string[]) => isthmus(['agreements', ...argv, '--url', url], { ISTHMUS_TOKEN: who });

  beforeAll(async () => {
    store = await target.open();
    const root = new Hono();
    root.route(
      '/admin/api',
      createAdminApi({
        authenticate: async (request) => {
          const token = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
          const found = token === undefined ? undefined : tokens.get(token);
          if (!found) throw Object.assign(new Error('the token is not valid'), { code: 'SIGNATURE_INVALID' });
          return found;
        },
        agreements: createAgreementStore(store.db),
        catalogue: demoCatalogue(),
        now: () => new Date('2026-03-06T10:00:00Z'),
        workingDaysToReply: 10,
      }),
    );
    server = createServer(getRequestListener(root.fetch, { overrideGlobalObjects: false }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await store?.close();
  });

  it('requests an agreement that requires a case id of a format, refuses a format that could backtrack, and shows the term', async () => {
    const requestWith = (...extra: string[]) =>
      as(
        'requester',
        'request',
        '--provider', 'public-security',
        '--app', 'pension-service',
        '--fields', 'Person.name',
        '--purpose', 'pension-eligibility-check',
        '--legal-basis', '《社会保险法》第七十三条',
        '--row-scope', 'ANY',
        '--from', '2026-03-06T10:00:00Z',
        '--until', '2027-03-01T00:00:00Z',
        ...extra,
        '--json',
      );
    const backtracking = await requestWith('--case-id-required', '--case-id-format', '^(\\d+)+$');
    expect(backtracking.code).toBe(1);
    expect(backtracking.stderr).toMatch(/^BAD_USER_INPUT: .*nested quantifiers.* \(field caseId\.format\)\n$/);
    expect((await requestWith('--case-id-format', '^SB-\\d{6}$')).stderr).toContain('--case-id-format needs --case-id-required');
    const requested = await requestWith('--case-id-required', '--case-id-format', '^SB-\\d{6}$');
    expect(requested.code).toBe(0);
    const { agreement } = JSON.parse(requested.stdout);
    expect(agreement.caseId).toEqual({ required: true, format: '^SB-\\d{6}$' });
    const shown = await as('providerOfficer', 'show', agreement.id);
    expect(shown.stdout).toContain('case id:          required, format ^SB-\\d{6}$\n');
  });

  it('requests, lists, refuses, approves, revokes and shows, with exit codes', async () => {
    const requested = await as(
      'requester',
      'request',
      '--provider', 'public-security',
      '--app', 'pension-service',
      '--fields', 'Person.name, Person.address',
      '--mask', 'Person.address=ADDRESS',
      '--purpose', 'pension-eligibility-check',
      '--legal-basis', '《社会保险法》第七十三条',
      '--row-scope', 'SELF',
      '--from', '2026-03-06T10:00:00Z',
      '--until', '2027-03-01T00:00:00Z',
      '--submit',
      '--json',
    );
    expect(requested.stderr).toBe('');
    expect(requested.code).toBe(0);
    const { agreement } = JSON.parse(requested.stdout);
    expect(agreement).toMatchObject({ status: 'PENDING', rowScope: 'SELF', masks: { 'Person.address': 'ADDRESS' }, replyBy: '2026-03-20T10:00:00.000Z' });
    const id: string = agreement.id;

    const listed = await as('providerOfficer', 'list', '--status', 'PENDING');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^ID\s+STATUS\s+CONSUMER\s+PROVIDER\s+PURPOSE\s+VALID UNTIL\s+REPLY BY\n/);
    expect(listed.stdout).toContain(`${id}  PENDING  human-resources-social-security/pension-service  public-security`);

    const own = await as('requesterAsProvider', 'approve', id);
    expect(own.code).toBe(1);
    expect(own.stderr).toBe('FORBIDDEN: you requested this agreement, so another data officer must approve it (rule SEPARATION_OF_DUTIES)\n');

    const approved = await as('providerOfficer', 'approve', id, '--version', '1');
    expect(approved).toEqual({ code: 0, stdout: `${id} is ACTIVE (version 2)\n`, stderr: '' });

    expect((await as('otherProviderOfficer', 'revoke', id)).code).toBe(2);
    const tooShort = await as('otherProviderOfficer', 'revoke', id, '--reason', 'no');
    expect(tooShort.code).toBe(1);
    expect(tooShort.stderr).toMatch(/^BAD_USER_INPUT: .* \(field reason\)\n$/);
    const revoked = await as('otherProviderOfficer', 'revoke', id, '--reason', 'Reads outside the stated purpose were reported.');
    expect(revoked.code).toBe(0);

    const shown = await as('requester', 'show', id);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('status:           REVOKED\n');
    expect(shown.stdout).toContain('revoked because:  Reads outside the stated purpose were reported.\n');
    expect(shown.stdout).toContain('  Person.address (mask ADDRESS)\n');
    expect(shown.stdout).toMatch(/REVOKE\s+u-sun\s+public-security\s+Reads outside/);

    const audit = await as('providerOfficer', 'audit', '--agreement', id);
    expect(audit.code).toBe(0);
    expect(audit.stdout.trim().split('\n')).toHaveLength(1 + 3);
  });

  it('answers bad usage with exit code 2 before calling the server', async () => {
    expect((await as('requester', 'show')).code).toBe(2);
    expect((await as('requester', 'list', '--colour')).code).toBe(2);
    expect((await as('requester', 'frobnicate')).code).toBe(2);
    expect((await as('requester', 'request', '--provider', 'public-security')).stderr).toContain('--app is required');
    const tokenless = await isthmus(['agreements', 'list', '--url', url], {});
    expect(tokenless.code).toBe(2);
    expect(tokenless.stderr).toContain('ISTHMUS_TOKEN');
  });

  it('reports a refusal of the server (401, 404) with exit code 1', async () => {
    const stranger = await as('nobody', 'list');
    expect(stranger).toMatchObject({ code: 1, stderr: 'UNAUTHENTICATED: the token is not valid\n' });
    expect((await as('operator', 'show', 'agr-missing')).stderr).toMatch(/^NOT_FOUND: /);
  });

  it('says so when the gateway cannot be reached', async () => {
    const down = await isthmus(['agreements', 'list', '--url', 'http://127.0.0.1:1'], { ISTHMUS_TOKEN: 'operator' });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('cannot reach the gateway at http://127.0.0.1:1');
  });

  it('works as the installed bin, exit code included', async () => {
    const run = (token: string, ...argv: string[]) =>
      new Promise<Run>((resolve) => {
        execFile(process.execPath, [BIN, 'agreements', ...argv, '--url', url], { env: { ...process.env, ISTHMUS_TOKEN: token } }, (error, stdout, stderr) => {
          resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
        });
      });
    const listed = await run('operator', 'list', '--json');
    expect(listed.code).toBe(0);
    expect(Array.isArray(JSON.parse(listed.stdout).agreements)).toBe(true);
    const refused = await run('citizen', 'list');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('FORBIDDEN');
  });
});
