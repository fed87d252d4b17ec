import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWitness, type RunningWitness } from '../packages/isthmus-witness/src/index.ts';
import type { GatewayConfig } from '../gateway/config/config.ts';
import { openLogNoteKey } from '../gateway/access-log/log-tree-note-key.ts';
import { DemoStartError, portError } from './demo-ports.ts';

/** The audit office's witness in the demo: its port unless `DEMO_WITNESS_PORT` says otherwise (the contract's default). */
export const DEMO_WITNESS_PORT = 4_100;
/** Its key name: its identity in the cosignatures the demo's receipts show. */
export const DEMO_WITNESS_NAME = 'audit-office.demo-city';

/** The demo's witness, and the settings that point the gateway at it. */
export interface DemoWitness {
  readonly witness: RunningWitness;
  /** `ISTHMUS_WITNESSES` (and `ISTHMUS_KEYS_DIR` when the demo keeps keys in memory), added to the gateway's environment. */
  readonly env: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

/**
 * Starts "the audit office": a witness in this process with its own key and
 * storage (beside the gateway's keys, or in a temporary folder), trusting
 * the gateway's log note key, which is made here first if need be so the
 * witness can be told it. In a real city the audit office runs
 * `isthmus-witness start` on its own machine; the demo shows the protocol,
 * not the independence.
 *
 * @example
 * const auditOffice = await startDemoWitness(loadConfig(env), env);
 * const config = loadConfig({ ...env, ...auditOffice.env });
 */
export async function startDemoWitness(config: GatewayConfig, env: Readonly<Record<string, string | undefined>>): Promise<DemoWitness> {
  const raw = env.DEMO_WITNESS_PORT;
  const port = raw === undefined || raw === '' ? DEMO_WITNESS_PORT : Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new DemoStartError('DEMO_PORT_INVALID', 'DEMO_WITNESS_PORT must be a whole number from 0 to 65535');
  // Keys in memory (ISTHMUS_DATA_DIR=:memory:): a folder for this run, so that the witness can trust the gateway's key.
  const scratch = config.keysDir === undefined ? await mkdtemp(join(tmpdir(), 'isthmus-demo-keys-')) : undefined;
  const keysDir = config.keysDir ?? scratch!;
  const { signer } = await openLogNoteKey({ dir: keysDir, logName: config.logName });
  let witness: RunningWitness;
  try {
    witness = await startWitness({
      dataDir: join(keysDir, 'demo-witness'),
      name: DEMO_WITNESS_NAME,
      logKeys: [signer.verifierKey],
      originPrefixes: [config.logName],
      host: '127.0.0.1',
      port,
      log: () => {},
    });
  } catch (error) {
    if (scratch) await rm(scratch, { recursive: true, force: true });
    throw portError(error, new Map([[port, 'DEMO_WITNESS_PORT']]));
  }
  return {
    witness,
    env: { ISTHMUS_WITNESSES: `${witness.verifierKey}@${witness.url}`, ...(scratch && { ISTHMUS_KEYS_DIR: scratch }) },
    async close() {
      await witness.close();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    },
  };
}
