import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { runCli } from '../run-cli.ts';
import { DEV_ISSUER_KEY_FILE, openDevIssuer } from '../../auth/dev-issuer.ts';
import { createTokenVerifier } from '../../auth/verify-token.ts';

const BIN = fileURLToPath(new URL('../isthmus.ts', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'isthmus-token-cli-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(argv: readonly string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, env });
  return { code, stdout, stderr };
}

/** Verifies a printed token the way a demo gateway with the same key folder would. */
async function verifyPrinted(stdout: string, keysDir: string) {
  const dev = await openDevIssuer({ keysDir });
  return createTokenVerifier({ issuers: [dev.issuerConfig] }).verify(stdout.trim());
}

describe('isthmus token', () => {
  it('prints one line: a token the dev issuer of the same key folder verifies', async () => {
    const keysDir = join(dir, 'keys');
    const { code, stdout, stderr } = await run(
      ['token', '--bureau', 'market-supervision', '--app', 'licensing-portal', '--user', 'li.wei', '--role', 'developer', '--role', 'data_officer', '--scope', 'hrss.social-insurance', '--scope', 'psb.household hrss.pension', '--citizen', '110101199003071234', '--purpose', 'licence-review', '--case', 'MS-2026-0042', '--ttl', '30m'],
      { ISTHMUS_KEYS_DIR: keysDir },
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const principal = await verifyPrinted(stdout, keysDir);
    expect(principal).toMatchObject({
      bureau: 'market-supervision',
      app: 'licensing-portal',
      user: 'li.wei',
      roles: ['developer', 'data_officer'],
      scopes: ['hrss.social-insurance', 'psb.household', 'hrss.pension'],
      citizen: '110101199003071234',
      purpose: 'licence-review',
      caseId: 'MS-2026-0042',
    });
    const { iat, exp } = decodeJwt(stdout.trim());
    expect(exp! - iat!).toBe(1_800);
  });

  it('uses the key beside ISTHMUS_DATA_DIR, as the running demo does, and defaults to one hour', async () => {
    const { code, stdout } = await run(['token', '--bureau', 'hrss', '--app', 'pension-batch'], { ISTHMUS_DATA_DIR: join(dir, 'demo', 'data') });
    expect(code).toBe(0);
    expect((await stat(join(dir, 'demo', DEV_ISSUER_KEY_FILE))).isFile()).toBe(true);
    expect((await verifyPrinted(stdout, join(dir, 'demo'))).bureau).toBe('hrss');
    const { iat, exp } = decodeJwt(stdout.trim());
    expect(exp! - iat!).toBe(3_600);
  });

  const misuses: readonly [string, readonly string[], RegExp][] = [
    ['a missing --bureau', ['--app', 'a'], /--bureau is required/],
    ['a missing --app', ['--bureau', 'b'], /--app is required/],
    ['an unknown option', ['--bureau', 'b', '--app', 'a', '--colour', 'blue'], /Unknown option '--colour'/],
    ['an unknown role', ['--bureau', 'b', '--app', 'a', '--role', 'root'], /--role "root" is not one of developer, data_officer, citizen, operator/],
    ['a ttl past the maximum', ['--bureau', 'b', '--app', 'a', '--ttl', '90d'], /--ttl must be a duration such as 30m, 1h or 7d, at most 30d/],
    ['a ttl that is no duration', ['--bureau', 'b', '--app', 'a', '--ttl', 'soon'], /--ttl must be a duration/],
    ['a positional argument', ['--bureau', 'b', '--app', 'a', 'extra'], /Unexpected argument 'extra'/],
    ['an empty --citizen', ['--bureau', 'b', '--app', 'a', '--citizen', ' '], /--citizen must not be empty/],
  ];
  for (const [name, argv, message] of misuses) {
    it(`answers ${name} with a message, the usage and exit code 2`, async () => {
      const { code, stdout, stderr } = await run(['token', ...argv], { ISTHMUS_KEYS_DIR: join(dir, 'misuse') });
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(message);
      expect(stderr).toContain('usage: isthmus token');
    });
  }

  it('prints help with --help, and says why when the key would only live in memory', async () => {
    const help = await run(['token', '--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--citizen <idNumber>');
    const memory = await run(['token', '--bureau', 'b', '--app', 'a'], { ISTHMUS_DATA_DIR: ':memory:' });
    expect(memory.code).toBe(1);
    expect(memory.stderr).toContain('ISTHMUS_KEYS_DIR');
    expect(memory.stdout).toBe('');
  });

  it('works as the real command: `isthmus token` in its own process', async () => {
    const keysDir = join(dir, 'spawned');
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'token', '--bureau', 'public-security', '--app', 'household-lookup', '--scope', 'hrss.social-insurance'], {
      env: { ...process.env, ISTHMUS_KEYS_DIR: keysDir, ISTHMUS_ISSUERS: '', ISTHMUS_ISSUERS_FILE: '' },
      timeout: 20_000,
    });
    expect((await verifyPrinted(stdout, keysDir)).scopes).toEqual(['hrss.social-insurance']);
  });
});
