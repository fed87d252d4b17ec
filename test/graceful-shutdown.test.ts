import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoBureaus, type DemoBureaus } from '../examples/start-bureaus.ts';
import { demoCity } from '../examples/data/generate-city.ts';
import { describeEachStore } from './support/describe-each-store.ts';
import type { GatewayDatabase } from './support/test-stores.ts';
import { spawnGateway } from './support/spawn-gateway.ts';
import { waitFor } from './support/wait-for.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDevIssuer } from '../gateway/auth/dev-issuer.ts';

const MAIN = fileURLToPath(new URL('../gateway/main.ts', import.meta.url));

describe('graceful shutdown', () => {
  describeEachStore('store on $name', (target) => {
    let bureaus: DemoBureaus;
    let database: GatewayDatabase | undefined;
    beforeAll(async () => {
      const serverUrl = process.env.DATABASE_URL;
      bureaus = await startDemoBureaus(serverUrl ? { databaseServerUrl: serverUrl } : {});
      database = await target.gatewayDatabase({ prefix: 'isthmus_shutdown' });
    });
    afterAll(async () => {
      await bureaus?.close();
      await database?.drop();
    });

    it('on SIGTERM, finishes the request in flight, refuses new ones, and exits 0', { timeout: 120_000 }, async () => {
      // The test signs its token with the same dev issuer key the gateway process reads.
      const keysDir = mkdtempSync(join(tmpdir(), 'isthmus-keys-'));
      const devIssuer = await openDevIssuer({ keysDir });
      const token = await devIssuer.signDevToken({ bureau: 'public-security', app: 'household-desk', roles: ['developer'], ttl: '10m' });
      const { child, url, lines } = await spawnGateway({
        PORT: '0',
        ISTHMUS_KEYS_DIR: keysDir,
        ISTHMUS_DEV_ISSUER: 'true',
        ...database!.env,
        ...bureaus.env,
      });
      const person = demoCity().persons[0]!;
      bureaus.publicSecurity.setLatency(800);
      const reached = bureaus.publicSecurity.requestCount();
      try {
        const inFlight = fetch(`${url}/graphql`, {
          method: 'POST',
          // The bureau reads its own records: no agreement needed, the request goes to the (slowed) bureau.
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: `{ person(idNumber: "${person.idNumber}") { name } }` }),
        });
        // SIGTERM once the request is in flight: it has reached the (slowed) bureau, whose answer is 800 ms away.
        await waitFor(() => bureaus.publicSecurity.requestCount() > reached, { what: 'the request reaches the bureau' });
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const response = await inFlight;
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ data: { person: { name: person.name } } });
        const [code] = await exited;
        expect(code).toBe(0);
        await expect(fetch(`${url}/healthz`)).rejects.toThrow();
        const messages = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line).msg);
        expect(messages).toContain('shutting down');
        expect(messages).toContain('gateway stopped');
      } finally {
        bureaus.publicSecurity.setLatency(0);
        child.kill('SIGKILL');
        rmSync(keysDir, { recursive: true, force: true });
      }
    });
  });

  it('stops with a clear message and no stack on bad configuration', async () => {
    const child = spawn(process.execPath, [MAIN], { env: { ...process.env, PORT: 'eighty', ISTHMUS_MAX_DEPTH: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = await once(child, 'exit');
    expect(code).toBe(78);
    expect(stderr).toContain('PORT must be a whole number from 0 to 65535');
    expect(stderr).toContain('ISTHMUS_MAX_DEPTH must be a whole number from 2 to 100');
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
