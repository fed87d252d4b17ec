import { randomBytes, randomUUID } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import { generateNoteKey, parseSignerKey, parseVerifierKey, type NoteSigner, type NoteVerifier } from '../../packages/isthmus-log-proofs/src/index.ts';
import { createAccessLogWriter, type AccessLogWriter, type AppendedEntry } from '../../gateway/access-log/access-log-writer.ts';
import { verifyAccessLog, type AccessLogProblem, type AccessLogVerification, type ChainReport } from '../../gateway/access-log/verify-access-log.ts';
import type { Store } from '../../gateway/store/store.ts';
import { hashAccessLogRecord, recordFromRow } from '../../gateway/access-log/access-log-record.ts';
import { sampleEntry } from './access-log-fixtures.ts';
import { createWitnessPublisher } from '../../gateway/access-log/witness-publisher.ts';
import { createWitnessPublisher as createTestPublisher } from './witness-publisher.ts';
import type { WitnessProcess } from './witness-process.ts';

/** Origins of every battery log start with this: the witness accepts only these. */
export const BATTERY_ORIGIN_PREFIX = 'isthmus.battery.test/';
/** One battery gateway's log: its name (also its note key's name) and note key. */
export interface BatteryLog {
  readonly logName: string;
  readonly signer: NoteSigner;
  readonly verifier: NoteVerifier;
}

/** A log of its own for each store of a test file (so a witness shared by the file tells them apart), made before the witness starts. */
export function createBatteryLog(label: string): BatteryLog {
  const logName = `${BATTERY_ORIGIN_PREFIX}${label}-${randomBytes(4).toString('hex')}`;
  const signer = parseSignerKey(generateNoteKey(logName).signerKey);
  return { logName, signer, verifier: parseVerifierKey(signer.verifierKey) };
}

/** A chain written for an attack: its entries, the writer (still open unless closed), and its checkpoints as written. */
export interface WrittenChain {
  readonly chainId: string;
  readonly appended: readonly AppendedEntry[];
  readonly writer: AccessLogWriter;
}

/**
 * One store, one log name, the battery's key and a witness process: writes
 * chains whose checkpoints the witness cosigned, tampers as the database's
 * superuser would (triggers off: `session_replication_role = replica`), and
 * verifies against the witness.
 */
export function createTamperFixture(store: Store, witness: Pick<WitnessProcess, 'name' | 'url' | 'config'>, keys: BatteryLog) {
  const { logName } = keys;
  /** Sends checkpoints of chains written without the fixture (in the test's own time). */
  const publisher = createTestPublisher(store.db, witness);

  /**
   * Appends `count` entries in rounds of `every` (one checkpoint a round)
   * through a writer wired to the witness by the gateway's own publisher
   * (`onCheckpoint` → `notify`), waits until the witness cosigned the last
   * checkpoint, and with `close` shuts down cleanly (the final checkpoint,
   * cosigned too). The last `unwitnessedTail` of the `count` entries are
   * appended after the publisher stopped: a tail no witness has seen.
   */
  async function writeChain(options: { count: number; every?: number; close?: boolean; register?: boolean; unwitnessedTail?: number }): Promise<WrittenChain> {
    const chainId = `gw-${randomUUID()}`;
    if (options.register) await store.db.insertInto('gateway_instances').values({ id: chainId, hostname: 'battery', version: '0', started_at: new Date(), last_seen_at: new Date() }).execute();
    const every = options.every ?? 10;
    const publisher = createWitnessPublisher({ db: store.db, chainId, witnesses: [witness.config], retryMinMs: 20, retryMaxMs: 200 });
    let last = -1;
    let publishing = true;
    const writer = createAccessLogWriter({
      db: store.db,
      chainId,
      noteSigner: keys.signer,
      logName,
      checkpointEvery: every,
      maxBatch: every,
      checkpointIntervalMs: 3_600_000,
      onCheckpoint: (checkpoint) => {
        if (!publishing) return;
        last = checkpoint.number;
        publisher.notify(checkpoint);
      },
    });
    const cosigned = async () => {
      if (!(await publisher.waitForCoverage(last, 20_000))) throw new Error(`the witness did not cosign checkpoint #${last} of ${chainId} within 20 s`);
    };
    await writer.ready();
    const appended: AppendedEntry[] = [];
    const witnessedPart = options.count - (options.unwitnessedTail ?? 0);
    for (let written = 0; written < witnessedPart; written += every) {
      const round = Math.min(every, witnessedPart - written);
      appended.push(...(await Promise.all(Array.from({ length: round }, () => writer.append(sampleEntry())))));
    }
    await cosigned();
    if (options.unwitnessedTail) {
      publishing = false;
      await publisher.close();
      for (let index = 0; index < options.unwitnessedTail; index++) appended.push(await writer.append(sampleEntry()));
    } else if (options.close) {
      await writer.close();
      await cosigned();
    }
    if (publishing) await publisher.close();
    return { chainId, appended, writer };
  }

  /** Runs statements as the superuser, with the append-only triggers switched off. */
  async function tamper(...statements: RawBuilder<unknown>[]): Promise<void> {
    await store.db.transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx);
      for (const statement of statements) await statement.execute(trx);
    });
  }

  /** Verifies the whole store against the witness, with the gateway's key pinned. */
  function verify(): Promise<AccessLogVerification> {
    return verifyAccessLog(store.db, { witnesses: [witness.config], logKeys: [keys.verifier], logName, pageSize: 50 });
  }

  const problemsOf = (result: AccessLogVerification, chainId: string): readonly AccessLogProblem[] => result.problems.filter((p) => p.chainId === chainId);
  const chainOf = (result: AccessLogVerification, chainId: string): ChainReport | undefined => result.chainReports.find((c) => c.chainId === chainId);
  const checkpointsOf = (chainId: string) =>
    store.db.selectFrom('access_log_tree_checkpoints').select(['number', 'size', 'final', 'note']).where('chain_id', '=', chainId).orderBy('number').execute();

  return { logName, writeChain, tamper, verify, problemsOf, chainOf, checkpointsOf, publisher };
}

/** The entry's row as the writer stored it (the hash columns and the content), to forge from. */
export async function rowOf(store: Store, chainId: string, seq: number) {
  return store.db.selectFrom('access_log').selectAll().where('chain_id', '=', chainId).where('seq', '=', seq).executeTakeFirstOrThrow();
}

/**
 * A forged entry with a valid hash: a genuine entry's content under a new id
 * (and purpose), placed at `seq` of `chainId` and linked to `prevHash`, with
 * its subject index rows, inserted as the superuser would. Returns its id.
 */
export async function forgeEntry(store: Store, options: { chainId: string; seq: number; prevHash: string; from: { chainId: string; seq: number } }): Promise<{ id: string; hash: string }> {
  const template = await rowOf(store, options.from.chainId, options.from.seq);
  const row = { ...template, id: randomUUID(), request_id: randomUUID(), chain_id: options.chainId, seq: options.seq, prev_hash: options.prevHash, purpose: 'forged' };
  const hash = hashAccessLogRecord(recordFromRow({ ...row, hash: '' }));
  const forged = { ...row, hash };
  await store.db.transaction().execute(async (trx) => {
    await sql`set local session_replication_role = replica`.execute(trx);
    await sql`insert into access_log select * from jsonb_populate_record(null::access_log, ${JSON.stringify(forged)}::jsonb)`.execute(trx);
    for (const subject of forged.subjects) {
      await sql`insert into access_log_subjects (entry_id, occurred_at, subject_kind, subject_id) values (${forged.id}, ${forged.occurred_at}, ${subject.kind}, ${subject.id})`.execute(trx);
    }
  });
  return { id: forged.id, hash };
}
