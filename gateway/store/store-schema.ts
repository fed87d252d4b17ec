import type { ColumnType } from 'kysely';
import type { AgreementTables } from '../agreements/agreement-tables.ts';
import type { AccessLogTables } from '../access-log/access-log-tables.ts';
import type { ConsoleAuditTables } from '../console/console-audit-tables.ts';
import type { SecurityEventTables } from '../observability/security-event-tables.ts';
import type { OperationTables } from '../operations/operation-tables.ts';

/** A gateway process that has run against this store; later chains and checkpoints hang off it. */
export interface GatewayInstancesTable {
  id: string;
  hostname: string;
  version: string;
  started_at: ColumnType<Date, Date | string, never>;
  last_seen_at: ColumnType<Date, Date | string, Date | string>;
  /** Set by the access log writer's `close()`, with the chain's final checkpoint (migration 0003). */
  stopped_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** The gateway's own tables, as kysely sees them. */
export interface StoreSchema extends AgreementTables, AccessLogTables, ConsoleAuditTables, SecurityEventTables, OperationTables {
  gateway_instances: GatewayInstancesTable;
}
