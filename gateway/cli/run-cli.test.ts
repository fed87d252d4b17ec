import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.ts';
import { GATEWAY_VERSION } from '../version.ts';

async function run(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  // No settings at all: a command that got past its flags would fail for want of them, not start anything.
  const code = await runCli(argv, { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, env: { ISTHMUS_DATA_DIR: ':memory:' } });
  return { code, stdout, stderr };
}

describe('isthmus', () => {
  it('prints the version of package.json with --version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(GATEWAY_VERSION).toBe(version);
    expect(await run(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect(await run(['-v'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect((await run(['--version', '--json'])).code).toBe(2);
  });

  const unknownFlags: readonly (readonly string[])[] = [
    ['--bogus'],
    ['start', '--bogus'],
    ['start', '--port', '5000', '--bogus'],
    ['log', '--bogus'],
    ['log', 'verify', '--bogus'],
    ['log', 'export', '--since', '2026-01-01', '--format', 'jsonl', '--bogus'],
    ['agreements', '--bogus'],
    ['agreements', 'list', '--bogus'],
    ['token', '--bureau', 'b', '--app', 'a', '--bogus'],
  ];
  for (const argv of unknownFlags) {
    it(`refuses an unknown flag with exit code 2, naming it: isthmus ${argv.join(' ')}`, async () => {
      const { code, stdout, stderr } = await run(argv);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/^isthmus[^\n]*: unknown option '--bogus'\n/i);
    });
  }

  it('refuses a --port that is no port, and a --port or --host without a value', async () => {
    for (const port of ['abc', '-1', '65536', '80.5', '']) {
      const { code, stderr } = await run(['start', `--port=${port}`]);
      expect(code, port).toBe(2);
      expect(stderr).toContain(`isthmus start: --port must be a whole number from 0 to 65535, not '${port}'`);
    }
    expect(await run(['start', '--port'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^isthmus start: Option '--port <value>' argument missing\n/) });
    expect(await run(['start', '--host='])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^isthmus start: --host must not be empty\n/) });
    expect((await run(['start', 'now'])).stderr).toMatch(/^isthmus start: Unexpected argument 'now'\n/);
  });

  it('explains isthmus start with --help', async () => {
    const { code, stdout } = await run(['start', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('usage: isthmus start [--port <port>] [--host <host>]');
    expect(stdout).toContain('(overrides PORT)');
  });
});
