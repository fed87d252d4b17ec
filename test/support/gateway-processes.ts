import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemoBureaus, type DemoBureaus } from '../../examples/start-bureaus.ts';
import { openDevIssuer, type DevIssuer } from '../../gateway/auth/dev-issuer.ts';
import type { SpawnedGateway } from './spawn-gateway.ts';

/**
 * What a suite of spawned gateway processes (`spawnGateway`) shares: the
 * demo bureaus in this process (on `serverUrl`'s PostgreSQL when given),
 * one keys folder whose dev issuer every spawned gateway trusts, and what to
 * stop and drop at the end.
 */
export interface GatewayProcesses {
  readonly bureaus: DemoBureaus;
  /** The dev issuer of the shared keys folder: its tokens verify at every spawned gateway. */
  readonly devIssuer: DevIssuer;
  /** Gateways to kill at the end: a test pushes what it spawns. */
  readonly spawned: SpawnedGateway[];
  /** Run last first at the end (scratch databases, stores, connections). */
  readonly cleanups: (() => Promise<void> | void)[];
  /** The configuration of a spawned gateway on the store `store` configures (`DATABASE_URL`, …), with the shared keys and the bureaus. */
  gatewayEnv(store: Record<string, string>): Record<string, string>;
  /** Kills what was spawned, runs the cleanups, stops the bureaus, removes the keys folder. */
  close(): Promise<void>;
}

/** Starts the bureaus and opens the shared keys folder; `close()` undoes everything, what tests added included. */
export async function openGatewayProcesses(serverUrl: string | undefined): Promise<GatewayProcesses> {
  const bureaus = await startDemoBureaus(serverUrl ? { databaseServerUrl: serverUrl } : {});
  const keysDir = mkdtempSync(join(tmpdir(), 'isthmus-keys-'));
  const spawned: SpawnedGateway[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  const close = async () => {
    for (const gateway of spawned) gateway.child.kill('SIGKILL');
    await Promise.allSettled(spawned.map((gateway) => gateway.exited));
    for (const cleanup of cleanups.reverse()) await cleanup();
    await bureaus.close();
    rmSync(keysDir, { recursive: true, force: true });
  };
  try {
    const devIssuer = await openDevIssuer({ keysDir });
    return {
      bureaus,
      devIssuer,
      spawned,
      cleanups,
      gatewayEnv: (store) => ({ PORT: '0', ISTHMUS_KEYS_DIR: keysDir, ISTHMUS_DEV_ISSUER: 'true', ISTHMUS_GRAPHIQL: 'false', ...store, ...bureaus.env }),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
