import type { ColumnType, Generated, JSONColumnType } from 'kysely';

/** One change of an app's registered operations (migration 0010): append-only. */
export interface OperationManifestsTable {
  seq: Generated<string>;
  bureau: string;
  app: string;
  /** The app's mode set with this change; null leaves it to the settings. */
  mode: string | null;
  manifest: JSONColumnType<Record<string, string>, string, never>;
  changed_by: string;
  changed_at: ColumnType<Date, Date | string, never>;
}

/** The trusted-operations tables, as kysely sees them. */
export interface OperationTables {
  operation_manifests: OperationManifestsTable;
}
