import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const DEMO_CITY = fileURLToPath(new URL('./demo-city.ts', import.meta.url));
/** A demo that fails must fail long before this; one that boots the gateway first takes a cold start (15–25 s here). */
const EXIT_TIMEOUT_MS = 90_000;

/** Runs `node examples/demo-city.ts` with `env` on top of free ports and an in-memory store, until it exits. */
async function runDemoCity(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [DEMO_CITY], {
    env: {
      ...process.env,
      // Never the test run's PostgreSQL: the demo would migrate its `postgres` database.
      DATABASE_URL: '',
      ISTHMUS_DATA_DIR: ':memory:',
      PORT: '0',
      DEMO_PUBLIC_SECURITY_PORT: '0',
      DEMO_MARKET_SUPERVISION_PORT: '0',
      DEMO_HRSS_PORT: '0',
      DEMO_WITNESS_PORT: '0',
      LOG_LEVEL: 'silent',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
  try {
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, stderr };
  } finally {
    clearTimeout(timer);
  }
}

describe('npm start (examples/demo-city.ts)', () => {
  let holder: Server;
  let held: number;
  beforeAll(async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    held = (holder.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => holder?.close(resolve));
  });

  it.each(['DEMO_PUBLIC_SECURITY_PORT', 'DEMO_MARKET_SUPERVISION_PORT', 'DEMO_HRSS_PORT', 'PORT'])(
    'stops with one line naming the port and %s when that port is taken',
    async (variable) => {
      const { code, stderr } = await runDemoCity({ [variable]: String(held) });
      expect(code).toBe(78);
      expect(stderr).toBe(`isthmus: port ${held} (${variable}) is already in use: stop what holds it (the demo, already running?), or set ${variable} to a free port\n`);
    },
  );

  it('stops with one line naming every DEMO_*_PORT that is not a port', async () => {
    const { code, stderr } = await runDemoCity({ DEMO_HRSS_PORT: 'pg', DEMO_PUBLIC_SECURITY_PORT: '70000' });
    expect(code).toBe(78);
    expect(stderr).toBe('isthmus: DEMO_PUBLIC_SECURITY_PORT must be a whole number from 0 to 65535; DEMO_HRSS_PORT must be a whole number from 0 to 65535\n');
  });
});
