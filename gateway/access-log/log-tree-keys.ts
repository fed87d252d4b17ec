import type { LogNoteKeyRecord } from './log-tree-note-key.ts';
import type { WitnessConfig } from './witness-config.ts';

/** Where the gateway publishes its log note keys and its witnesses (issue 12, contract section 4). */
export const LOG_KEYS_PATH = '/.well-known/isthmus-log-keys';

/** The published document: what `isthmus log verify --log-keys` reads. */
export interface LogKeysDocument {
  readonly logName: string;
  /** Current and past log note keys, current first. */
  readonly keys: readonly LogNoteKeyRecord[];
  readonly witnesses: readonly { readonly name: string; readonly vkey: string; readonly url: string }[];
  /** How many witnesses must cosign a checkpoint for it to count. */
  readonly quorum: number;
}

/**
 * The document served at {@link LOG_KEYS_PATH}: public keys only. The keys
 * come from the keys folder's history, never from the database.
 *
 * @example
 * logKeysDocument({ logName, keys: noteKey.history, witnesses: config.witnesses, quorum: config.witnessQuorum });
 */
export function logKeysDocument(input: { readonly logName: string; readonly keys: readonly LogNoteKeyRecord[]; readonly witnesses: readonly WitnessConfig[]; readonly quorum: number }): LogKeysDocument {
  return {
    logName: input.logName,
    keys: input.keys.map(({ vkey, current, firstUsedAt }) => ({ vkey, current, firstUsedAt })),
    witnesses: input.witnesses.map(({ name, vkey, url }) => ({ name, vkey, url })),
    quorum: input.quorum,
  };
}
