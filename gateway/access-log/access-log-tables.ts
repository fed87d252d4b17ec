import type { ColumnType, JSONColumnType } from 'kysely';

/**
 * The access log's tables, as kysely sees them (`StoreSchema` extends this).
 * Every table here is append-only: a trigger refuses UPDATE, DELETE and
 * TRUNCATE, and the `isthmus_log_writer` role holds only INSERT and SELECT.
 * Migration `0003-access-log` creates them.
 */
export interface AccessLogTables {
  access_log: AccessLogTable;
  access_log_subjects: AccessLogSubjectsTable;
  access_log_checkpoints: AccessLogCheckpointsTable;
  access_log_chains: AccessLogChainsTable;
  access_log_keys: AccessLogKeysTable;
  access_log_detachments: AccessLogDetachmentsTable;
  access_log_tree_nodes: AccessLogTreeNodesTable;
  access_log_tree_checkpoints: AccessLogTreeCheckpointsTable;
  access_log_cosignatures: AccessLogCosignaturesTable;
  access_log_note_keys: AccessLogNoteKeysTable;
}

/** `int8` columns: `pg` hands them over as strings, PGlite as numbers. */
type Int8 = ColumnType<string | number, number | bigint | string, never>;
type Timestamp = ColumnType<Date, Date | string, never>;
type Json<T extends object> = JSONColumnType<T, string, never>;

/**
 * One entry per cross-bureau operation, range-partitioned by month on
 * `occurred_at`. Column per field of `AccessLogEntryInput`; lists and maps in
 * jsonb exactly as they were hashed.
 */
export interface AccessLogTable {
  id: ColumnType<string, string, never>;
  occurred_at: Timestamp;
  /** The writing gateway instance: one hash chain per process. */
  chain_id: ColumnType<string, string, never>;
  /** 1, 2, 3, … within the chain, without gaps. */
  seq: Int8;
  /** Hex SHA-256 of the previous entry of the chain; 64 zeros for seq 1. */
  prev_hash: ColumnType<string, string, never>;
  /** Hex SHA-256 of this entry's canonical JSON, which includes `prev_hash`. */
  hash: ColumnType<string, string, never>;
  request_id: ColumnType<string, string, never>;
  action: ColumnType<string, string, never>;
  consumer_bureau: ColumnType<string, string, never>;
  client_app: ColumnType<string, string, never>;
  user_id: ColumnType<string | null, string | null, never>;
  roles: Json<readonly string[]>;
  citizen: ColumnType<string | null, string | null, never>;
  purpose: ColumnType<string | null, string | null, never>;
  case_id: ColumnType<string | null, string | null, never>;
  agreement_ids: Json<readonly string[]>;
  /** 0013: `[{ id, legalBasis, purpose }]` of the agreements used; null on entries written before. */
  agreements_used: ColumnType<readonly { id: string; legalBasis: string; purpose: string }[] | null, string | null, never>;
  provider_bureaus: Json<readonly string[]>;
  fields_requested: Json<readonly string[]>;
  fields_returned: Json<readonly { coordinate: string; mask?: string }[]>;
  denied: Json<readonly { coordinate: string; path: string; reason: string }[]>;
  subjects: Json<readonly { kind: string; id: string }[]>;
  row_counts: Json<Readonly<Record<string, number>>>;
  upstream_errors: Json<readonly { bureau: string; reason: string }[]>;
  duration_ms: ColumnType<number, number, never>;
  operation_hash: ColumnType<string, string, never>;
  operation_name: ColumnType<string | null, string | null, never>;
  outcome: ColumnType<string, string, never>;
  hidden_until: ColumnType<Date | null, Date | string | null, never>;
  hidden_reason: ColumnType<string | null, string | null, never>;
}

/**
 * "Who read me": one row per distinct data subject of an entry, partitioned
 * like `access_log` so that retention detaches both together and a citizen's
 * query prunes by month. Derived from `access_log.subjects`; the verifier
 * checks that the two agree.
 */
export interface AccessLogSubjectsTable {
  entry_id: ColumnType<string, string, never>;
  occurred_at: Timestamp;
  subject_kind: ColumnType<string, string, never>;
  subject_id: ColumnType<string, string, never>;
}

/** A signed statement "chain C had reached seq N with hash H at time T". */
export interface AccessLogCheckpointsTable {
  chain_id: ColumnType<string, string, never>;
  seq: Int8;
  hash: ColumnType<string, string, never>;
  /** Compact JWS over the same fields, by the gateway's signing key. */
  jws: ColumnType<string, string, never>;
  signed_at: Timestamp;
  kid: ColumnType<string, string, never>;
  /** Written once, by a writer's `close()`: nothing follows it in the chain. */
  final: ColumnType<boolean, boolean, never>;
}

/** Every chain a writer ever started, so a chain whose entries were all removed is still known. */
export interface AccessLogChainsTable {
  chain_id: ColumnType<string, string, never>;
  started_at: Timestamp;
}

/**
 * Public keys that signed checkpoints, recorded by the writers. The verifier
 * uses them unless it is given the trusted keys (which it should be, since
 * whoever can edit the log can also edit this table).
 */
export interface AccessLogKeysTable {
  kid: ColumnType<string, string, never>;
  public_jwk: Json<Readonly<Record<string, unknown>>>;
  first_used_at: Timestamp;
}

/**
 * What retention took away from each chain: the highest seq in a detached
 * partition and that entry's hash, so the verifier can excuse the gap and
 * still check the first remaining entry's link.
 */
export interface AccessLogDetachmentsTable {
  partition_name: ColumnType<string, string, never>;
  chain_id: ColumnType<string, string, never>;
  max_seq: Int8;
  max_seq_hash: ColumnType<string, string, never>;
  upper_bound: Timestamp;
  detached_at: Timestamp;
}

/** A complete aligned subtree's hash (hex) at level 4, 8, 12, … of a chain's tree (migration 0007). */
export interface AccessLogTreeNodesTable {
  chain_id: ColumnType<string, string, never>;
  level: ColumnType<number, number, never>;
  /** Covers leaves [idx·2^level, (idx+1)·2^level). */
  idx: Int8;
  hash: ColumnType<string, string, never>;
}

/** A chain's signed-note checkpoint: #0 at start-up (size 0), `final` at clean shutdown. */
export interface AccessLogTreeCheckpointsTable {
  chain_id: ColumnType<string, string, never>;
  number: ColumnType<number, number, never>;
  size: Int8;
  /** Hex of the tree's root at `size`. */
  root_hash: ColumnType<string, string, never>;
  /** The full signed note, as the log signed it (no cosignatures). */
  note: ColumnType<string, string, never>;
  signed_at: Timestamp;
  final: ColumnType<boolean, boolean, never>;
}

/** What one witness returned for one checkpoint: its signature line(s), exactly. */
export interface AccessLogCosignaturesTable {
  chain_id: ColumnType<string, string, never>;
  number: ColumnType<number, number, never>;
  /** The witness key's name. */
  witness: ColumnType<string, string, never>;
  signature: ColumnType<string, string, never>;
  cosigned_at: Timestamp;
}

/** Every log note key that signed checkpoints (convenience: verify trusts pinned keys, never this table). */
export interface AccessLogNoteKeysTable {
  vkey: ColumnType<string, string, never>;
  first_used_at: Timestamp;
}
