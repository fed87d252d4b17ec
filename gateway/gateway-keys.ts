import type { GatewayConfig } from './config/config.ts';
import type { ConsumerAssertionSigner } from './auth/consumer-assertion.ts';
import type { AccessLogWriter } from './access-log/access-log-writer.ts';
import { logKeysDocument, type LogKeysDocument } from './access-log/log-tree-keys.ts';
import { openLogNoteKey, type LogNoteKey } from './access-log/log-tree-note-key.ts';

/** What a keys reload found. */
export interface GatewayKeysReload {
  /** The consumer-assertion key signing from now on. */
  readonly consumerAssertionKid: string;
  /** The log note key signing this chain's checkpoints from now on (its verifier key). */
  readonly logNoteKey: string;
  /** The keys that changed; empty when the folder held no new key. */
  readonly changed: readonly ('consumer-assertion' | 'log-note')[];
}

/**
 * The gateway's own keys that an operator rotates in the shared keys folder
 * (`ISTHMUS_KEYS_DIR`): the consumer-assertion key and the log's note key,
 * with the documents that publish them. One reload (SIGHUP, with the
 * catalogue) moves both to the highest-numbered file of their rotation.
 */
export interface GatewayKeys {
  /** `/.well-known/isthmus-log-keys` as of the last reload: every note key, current first. */
  logKeys(): LogKeysDocument;
  /**
   * Reads the keys folder again. A new note key signs this chain's next
   * checkpoint (the earlier ones stay verifiable by the old key, which stays
   * in the history); a new consumer-assertion key signs the next assertion,
   * the old one published until its assertions have expired.
   *
   * @throws SigningKeyError or LogNoteKeyError naming a file that cannot be used, read before
   *   anything changes (the running keys stay); a failed write of the new note key to the
   *   database leaves the chain on the old one, tried again on the next reload.
   */
  reload(signal?: AbortSignal): Promise<GatewayKeysReload>;
}

/** What {@link createGatewayKeys} works over: keys already opened at start-up. */
export interface GatewayKeysDeps {
  readonly config: Pick<GatewayConfig, 'keysDir' | 'logName' | 'witnesses' | 'witnessQuorum'>;
  readonly consumerAssertions: ConsumerAssertionSigner;
  readonly accessLog: Pick<AccessLogWriter, 'useNoteSigner'>;
  readonly noteKey: LogNoteKey;
}

/**
 * @example
 * const keys = createGatewayKeys({ config, consumerAssertions: auth.consumerAssertions, accessLog, noteKey });
 * process.on('SIGHUP', () => void keys.reload());
 */
export function createGatewayKeys(deps: GatewayKeysDeps): GatewayKeys {
  const { config } = deps;
  const documentOf = (noteKey: LogNoteKey) => logKeysDocument({ logName: config.logName, keys: noteKey.history, witnesses: config.witnesses, quorum: config.witnessQuorum });
  let noteKey = deps.noteKey;
  let logKeys = documentOf(noteKey);
  let reloading: Promise<GatewayKeysReload> | undefined;

  const reload = async (signal?: AbortSignal): Promise<GatewayKeysReload> => {
    // Without a keys folder the keys live in memory: there is nothing to read again.
    const nextNoteKey = config.keysDir === undefined ? noteKey : await openLogNoteKey({ dir: config.keysDir, logName: config.logName });
    signal?.throwIfAborted();
    const assertion = await deps.consumerAssertions.reload(signal);
    const changed: ('consumer-assertion' | 'log-note')[] = assertion.changed ? ['consumer-assertion'] : [];
    if (nextNoteKey.signer.verifierKey !== noteKey.signer.verifierKey) {
      await deps.accessLog.useNoteSigner(nextNoteKey.signer);
      changed.push('log-note');
    }
    noteKey = nextNoteKey;
    logKeys = documentOf(noteKey);
    return { consumerAssertionKid: assertion.kid, logNoteKey: noteKey.signer.verifierKey, changed };
  };

  return {
    logKeys: () => logKeys,
    // One reload at a time: two SIGHUPs in a row must not race on the writer's signer.
    reload(signal) {
      const run = (reloading ?? Promise.resolve()).catch(() => undefined).then(() => reload(signal));
      reloading = run;
      return run;
    },
  };
}
