import type { ColumnType, JSONColumnType } from 'kysely';

/** The console audit trail's table, as kysely sees it (`StoreSchema` extends this); migration `0005-console-audit` creates it, append-only. */
export interface ConsoleAuditTables {
  console_audit: ConsoleAuditTable;
}

/** One thing a person did in the console. */
export interface ConsoleAuditTable {
  id: ColumnType<string, string, never>;
  occurred_at: ColumnType<Date, Date | string, never>;
  action: ColumnType<string, string, never>;
  outcome: ColumnType<string, string, never>;
  bureau: ColumnType<string, string, never>;
  /** The person (`user`, else the token's `sub`). */
  user_id: ColumnType<string, string, never>;
  roles: JSONColumnType<readonly string[], string, never>;
  /** What the action was about: an agreement id, an export's format. */
  target: ColumnType<string | null, string | null, never>;
  /** The action's particulars, never personal data: a decision's kind, an export's count and filter hash, a verification's counts. */
  detail: JSONColumnType<Readonly<Record<string, string | number | boolean>>, string, never>;
  request_id: ColumnType<string | null, string | null, never>;
}
