import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { isLogProofError, parseVerifierKey, type NoteVerifier } from '../../isthmus-log-proofs/src/index.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { createWitness } from './witness.ts';
import { createWitnessHandler, DEFAULT_MAX_BODY_BYTES } from './witness-http.ts';
import { openWitnessJournal, type WitnessJournal } from './witness-journal.ts';
import { loadWitnessKeys } from './witness-key-store.ts';
import { WitnessSetupError } from './witness-setup-error.ts';

/** The address a witness listens on by default: loopback, so exposing it is a decision. */
export const DEFAULT_HOST = '127.0.0.1';
/** The port a witness listens on by default. */
export const DEFAULT_PORT = 4100;
/** How long `close()` lets requests in flight finish before it cuts their connections. */
export const CLOSE_GRACE_MS = 5_000;

/** How to run a witness. */
export interface WitnessOptions {
  /** Its own storage: key, key history, journal (created if missing). */
  readonly dataDir: string;
  /** Its key's name, its identity in cosignatures, e.g. `audit-office.demo-city`. */
  readonly name: string;
  /** The gateway log verifier keys (`<name>+<8 hex>+<base64>`) it trusts, current and past. */
  readonly logKeys: readonly string[];
  /** The origins it accepts (each prefix and what lies below it at a `/`). */
  readonly originPrefixes: readonly string[];
  readonly host?: string;
  /** 0 for any free port. */
  readonly port?: number;
  readonly maxBodyBytes?: number;
  readonly now?: () => Date;
  /** Warnings (a torn journal line) and unexpected failures; by default, stderr. */
  readonly log?: (message: string, cause?: unknown) => void;
}

/** A running witness. */
export interface RunningWitness {
  /** Its base URL, `http://<host>:<port>`, with the port it got. */
  readonly url: string;
  readonly name: string;
  /** Its current verifier key, for a gateway's `ISTHMUS_WITNESSES`. */
  readonly verifierKey: string;
  /** Stops taking requests, lets those in flight finish, closes the journal and frees the data directory. */
  close(): Promise<void>;
}

function checkOptions(options: WitnessOptions): NoteVerifier[] {
  const problems: string[] = [];
  if (options.dataDir.trim() === '') problems.push('--data names the witness\'s data directory');
  if (!/^[^\s+]{1,256}$/u.test(options.name)) problems.push('--name is a key name: no white space or "+", at most 256 characters');
  if (options.logKeys.length === 0) problems.push('at least one --log-key: the gateway log keys this witness trusts');
  if (options.originPrefixes.length === 0) problems.push('at least one --origin-prefix: the origins this witness accepts');
  if (options.originPrefixes.some((prefix) => prefix === '' || /[\s]/u.test(prefix))) problems.push('an --origin-prefix is non-empty, without white space');
  const port = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) problems.push('--port is 0 to 65535');
  const logKeys: NoteVerifier[] = [];
  options.logKeys.forEach((text, index) => {
    try {
      logKeys.push(parseVerifierKey(text));
    } catch (error) {
      if (!isLogProofError(error)) throw error;
      problems.push(`--log-key ${index + 1} is not a verifier key <name>+<8 hex>+<base64>`);
    }
  });
  if (problems.length > 0) throw new WitnessSetupError('OPTIONS_INVALID', problems.join('; '));
  return logKeys;
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

/**
 * Starts a witness: checks its options, takes its data directory, loads (or
 * makes) its key, rebuilds its state from its journal, then listens. Throws
 * `WitnessSetupError` for anything that keeps it from starting.
 *
 * @example
 * const witness = await startWitness({ dataDir, name: 'audit-office.demo-city', logKeys: [logVkey], originPrefixes: ['isthmus.demo-city/access-log'], port: 0 });
 * // ISTHMUS_WITNESSES=`${witness.verifierKey}@${witness.url}`
 */
export async function startWitness(options: WitnessOptions): Promise<RunningWitness> {
  const logKeys = checkOptions(options);
  const log = options.log ?? ((message: string, cause?: unknown) => console.error(message, ...(cause === undefined ? [] : [cause])));
  const now = options.now ?? (() => new Date());
  const host = options.host ?? DEFAULT_HOST;
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const unlock = await lockDataDir(options.dataDir);
  let journal: WitnessJournal | undefined;
  try {
    const keys = await loadWitnessKeys(options.dataDir, options.name, now());
    journal = await openWitnessJournal(options.dataDir, { warn: (message) => log(`witness: ${message}`) });
    const witness = createWitness({ keys, logKeys, originPrefixes: options.originPrefixes, journal, now });
    const server = createServer(createWitnessHandler(witness, { maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, log }));
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    const port = await listen(server, host, options.port ?? DEFAULT_PORT);
    const opened = journal;
    let closing: Promise<void> | undefined;
    return {
      url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
      name: witness.name,
      verifierKey: witness.verifierKey,
      close() {
        closing ??= (async () => {
          const closed = new Promise<void>((resolve) => server.close(() => resolve()));
          server.closeIdleConnections();
          const timer = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
          await closed;
          clearTimeout(timer);
          await opened.close();
          await unlock();
        })();
        return closing;
      },
    };
  } catch (error) {
    await journal?.close();
    await unlock();
    throw error;
  }
}
