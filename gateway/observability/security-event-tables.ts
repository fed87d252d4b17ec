import type { ColumnType, JSONColumnType } from 'kysely';

/** The security events' table as kysely sees it (`StoreSchema` extends this); migration `0012-security-events` creates it, append-only. */
export interface SecurityEventTables {
  security_events: SecurityEventTable;
}

type Fixed<T> = ColumnType<T, T, never>;

/** One refusal or admin action; every column is written once and never updated. */
export interface SecurityEventTable {
  id: Fixed<string>;
  occurred_at: ColumnType<Date, Date | string, never>;
  kind: Fixed<string>;
  /** The module's code (`TOKEN_EXPIRED`, `QUOTA_EXCEEDED`) or, for a done admin action, the action (`AGREEMENT_APPROVE`). */
  reason: Fixed<string>;
  outcome: Fixed<string>;
  route: Fixed<string>;
  request_id: Fixed<string | null>;
  client_address: Fixed<string | null>;
  bureau: Fixed<string | null>;
  app: Fixed<string | null>;
  user_id: Fixed<string | null>;
  issuer: Fixed<string | null>;
  subject: Fixed<string | null>;
  key_id: Fixed<string | null>;
  status: Fixed<number | null>;
  detail: JSONColumnType<Readonly<Record<string, string | number | boolean>>, string, never>;
}
