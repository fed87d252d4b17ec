import { createServer } from 'node:net';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config/config.ts';
import { startGateway } from './gateway.ts';
import { STORE_LOCK_FILE } from './store/store-lock.ts';

const schemasDir = fileURLToPath(new URL('../schemas', import.meta.url));

/** A port on loopback that something else holds for the test. */
async function holdPort(): Promise<{ port: number; release(): Promise<void> }> {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const address = holder.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return { port: address.port, release: () => new Promise((resolve) => holder.close(() => resolve())) };
}

describe('startGateway', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'isthmus-gateway-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  const configAt = (port: number) =>
    loadConfig({ PORT: String(port), HOST: '127.0.0.1', ISTHMUS_SCHEMAS_DIR: schemasDir, ISTHMUS_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });

  it('closes what it opened when it cannot listen, so the next start on the same data folder succeeds', async () => {
    const held = await holdPort();
    try {
      await expect(startGateway(configAt(held.port))).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await held.release();
    }
    // The failed start released the embedded store's lock (a leaked store would refuse this one with STORE_LOCKED).
    expect(await readdir(dataDir)).not.toContain(STORE_LOCK_FILE);
    const gateway = await startGateway(configAt(0));
    try {
      expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
    } finally {
      await gateway.close();
    }
    expect(await readdir(dataDir)).not.toContain(STORE_LOCK_FILE);
  });
});
