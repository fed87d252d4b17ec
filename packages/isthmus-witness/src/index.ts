/**
 * `@isthmus/witness`: a witness for Isthmus access-log checkpoints. It checks
 * that each checkpoint a gateway sends extends the last one it cosigned for
 * that chain (C2SP tlog-witness), cosigns it with its own Ed25519 note key,
 * journals it durably, and serves what it cosigned. Run by an independent
 * party: the city's audit office, a bureau.
 */
export { startWitness, DEFAULT_HOST, DEFAULT_PORT, type RunningWitness, type WitnessOptions } from './start-witness.ts';
export { createWitness, type Witness, type WitnessDeps, type WitnessKeyList } from './witness.ts';
export { createWitnessHandler, DEFAULT_MAX_BODY_BYTES, type WitnessHandler, type WitnessHandlerOptions } from './witness-http.ts';
export { openWitnessJournal, JOURNAL_FILE, type WitnessJournal, type JournalOptions } from './witness-journal.ts';
export { FINAL_EXTENSION, isFinalCheckpoint, type JournalEntry, type JournalRecord } from './journal-record.ts';
export { loadWitnessKeys, rotateWitnessKeys, KEY_FILE, KEY_HISTORY_FILE, type WitnessKeyRecord, type WitnessKeys } from './witness-key-store.ts';
export { parseAddCheckpointRequest, MAX_PROOF_LINES, type AddCheckpointRequest } from './add-checkpoint-request.ts';
export { isUnderPrefix } from './origin-prefix.ts';
export * from './witness-error.ts';
export { WitnessSetupError, type WitnessSetupErrorCode } from './witness-setup-error.ts';
