import type { ColumnType, Generated, JSONColumnType } from 'kysely';
import type { AgreementStatus, RowScope } from '../../policies/agreement.ts';
import type { MaskKind } from '../../policies/catalogue.ts';
import type { Role } from '../../policies/principal.ts';
import type { AgreementAction } from '../../policies/agreement-lifecycle.ts';
import type { Agreement } from '../../policies/agreement.ts';
import type { OperationHash } from '../../policies/agreement-operations.ts';

type Instant = ColumnType<Date, Date | string, Date | string>;
type MaybeInstant = ColumnType<Date | null, Date | string | null, Date | string | null>;

/** `agreements`: each agreement's current version. Never updated without an `agreement_events` row in the same transaction. */
export interface AgreementsTable {
  id: string;
  version: number;
  consumer_bureau: string;
  consumer_app: string;
  provider_bureau: string;
  fields: JSONColumnType<readonly string[], string, string>;
  masks: JSONColumnType<Readonly<Record<string, MaskKind>>, string, string>;
  purpose: string;
  legal_basis: string;
  row_scope: RowScope;
  scope: string;
  valid_from: Instant;
  valid_until: Instant;
  status: AgreementStatus;
  requested_by: string;
  approved_by: string | null;
  reply_by: MaybeInstant;
  rejection_reason: string | null;
  revocation_reason: string | null;
  disclosure_delay_days: number | null;
  disclosure_delay_reason: string | null;
  /** The `quota` term (migration 0011); null: no limit of that kind. */
  quota_requests_per_minute: number | null;
  quota_records_per_day: number | null;
  /** 0013: reads must name a case id; `case_id_format` is its pattern, if any. Defaults false for agreements stored before. */
  case_id_required: Generated<boolean>;
  case_id_format: string | null;
  /** 0014: the pinned documents' hashes (`sha256:<hex>`); null: the agreement pins none. */
  operations: JSONColumnType<readonly OperationHash[] | null, string | null, string | null>;
  created_at: Instant;
  updated_at: Instant;
}

/** `agreement_events`: append-only history; a trigger refuses updates and deletes. */
export interface AgreementEventsTable {
  id: Generated<number>;
  agreement_id: string;
  /** The agreement's version after the step; unique per agreement. */
  version: number;
  action: AgreementAction;
  actor_user: string;
  actor_bureau: string;
  actor_roles: JSONColumnType<readonly Role[], string, string>;
  /** Copied from the agreement (they never change) so the audit can filter and scope by bureau. */
  consumer_bureau: string;
  provider_bureau: string;
  at: Instant;
  reason: string | null;
  /** The agreement set's version this step produced (see `agreement_set_version`). */
  set_version: number;
  snapshot: JSONColumnType<Agreement, string, string>;
}

/** `agreement_set_version`: one row counting every change of the agreement set, so readers can tell whether theirs is current. */
export interface AgreementSetVersionTable {
  id: ColumnType<boolean, boolean | undefined, never>;
  version: number;
}

/** `agreement_quota_use`: units of a quota leased by the replicas, per agreement, kind and window (migration 0011). */
export interface AgreementQuotaUseTable {
  agreement_id: string;
  kind: 'requestsPerMinute' | 'recordsPerDay';
  window_start: Instant;
  used: ColumnType<string | number, number, number>;
}

/** The agreement tables, merged into the store's `StoreSchema`. */
export interface AgreementTables {
  agreements: AgreementsTable;
  agreement_quota_use: AgreementQuotaUseTable;
  agreement_events: AgreementEventsTable;
  agreement_set_version: AgreementSetVersionTable;
}
