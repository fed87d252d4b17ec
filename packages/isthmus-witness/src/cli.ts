#!/usr/bin/env node
import { mkdir } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { lockDataDir } from './data-dir-lock.ts';
import { DEFAULT_HOST, DEFAULT_PORT, startWitness } from './start-witness.ts';
import { loadWitnessKeys, rotateWitnessKeys } from './witness-key-store.ts';
import { WitnessSetupError } from './witness-setup-error.ts';

const USAGE = `usage:
  isthmus-witness start --data <dir> --name <key name> --log-key <vkey> [--log-key …] --origin-prefix <prefix> [--origin-prefix …] [--host ${DEFAULT_HOST}] [--port ${DEFAULT_PORT}]
  isthmus-witness key --data <dir> --name <key name>          prints the witness's verifier key (made on first use)
  isthmus-witness rotate-key --data <dir> --name <key name>   makes a new current key; the old ones stay published
flags may come from ISTHMUS_WITNESS_DATA, _NAME, _LOG_KEYS (comma-separated), _ORIGIN_PREFIXES (comma-separated), _HOST, _PORT`;

/** Exit code for bad flags (as for a usage error). */
const EXIT_USAGE = 2;

function list(values: string[] | undefined, env: string | undefined): string[] {
  if (values !== undefined && values.length > 0) return values;
  return (env ?? '').split(',').map((part) => part.trim()).filter((part) => part !== '');
}

function fail(error: WitnessSetupError): never {
  process.stderr.write(`isthmus-witness: ${error.code}: ${error.message}\n`);
  process.exit(error.code === 'OPTIONS_INVALID' ? EXIT_USAGE : 1);
}

async function main(argv: readonly string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    if (command === undefined) process.exit(EXIT_USAGE);
    return;
  }
  let flags;
  try {
    flags = parseArgs({
      args: [...rest],
      strict: true,
      allowPositionals: false,
      options: {
        data: { type: 'string' },
        name: { type: 'string' },
        'log-key': { type: 'string', multiple: true },
        'origin-prefix': { type: 'string', multiple: true },
        host: { type: 'string' },
        port: { type: 'string' },
      },
    }).values;
  } catch (error) {
    throw new WitnessSetupError('OPTIONS_INVALID', `${(error as Error).message.split('\n')[0]} (see isthmus-witness --help)`);
  }
  const env = process.env;
  const dataDir = flags.data ?? env.ISTHMUS_WITNESS_DATA ?? '';
  const name = flags.name ?? env.ISTHMUS_WITNESS_NAME ?? '';
  if (dataDir === '' || name === '') throw new WitnessSetupError('OPTIONS_INVALID', '--data and --name are required (or ISTHMUS_WITNESS_DATA and ISTHMUS_WITNESS_NAME)');

  if (command === 'key' || command === 'rotate-key') {
    if (!/^[^\s+]{1,256}$/u.test(name)) throw new WitnessSetupError('OPTIONS_INVALID', '--name is a key name: no white space or "+", at most 256 characters');
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    let unlock = async () => {};
    try {
      unlock = await lockDataDir(dataDir);
    } catch (error) {
      // A running witness has made its key already: printing it only reads.
      if (!(command === 'key' && error instanceof WitnessSetupError && error.code === 'DATA_DIR_LOCKED')) throw error;
    }
    try {
      const keys = command === 'key' ? await loadWitnessKeys(dataDir, name, new Date()) : await rotateWitnessKeys(dataDir, name, new Date());
      process.stdout.write(`${keys.signer.verifierKey}\n`);
    } finally {
      await unlock();
    }
    return;
  }
  if (command !== 'start') throw new WitnessSetupError('OPTIONS_INVALID', `unknown command "${command}" (start, key, rotate-key)`);

  const portText = flags.port ?? env.ISTHMUS_WITNESS_PORT ?? String(DEFAULT_PORT);
  if (!/^[0-9]{1,5}$/u.test(portText)) throw new WitnessSetupError('OPTIONS_INVALID', '--port is 0 to 65535');
  const host = flags.host ?? env.ISTHMUS_WITNESS_HOST ?? DEFAULT_HOST;
  const witness = await startWitness({
    dataDir,
    name,
    logKeys: list(flags['log-key'], env.ISTHMUS_WITNESS_LOG_KEYS),
    originPrefixes: list(flags['origin-prefix'], env.ISTHMUS_WITNESS_ORIGIN_PREFIXES),
    host,
    port: Number(portText),
  });
  process.stdout.write(`isthmus-witness listening on ${witness.url} as ${witness.name}\n`);
  const stop = (signal: string) => {
    process.stderr.write(`isthmus-witness: ${signal}, closing\n`);
    witness.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('isthmus-witness: closing failed', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof WitnessSetupError) fail(error);
  console.error('isthmus-witness: failed to start', error);
  process.exit(1);
});
