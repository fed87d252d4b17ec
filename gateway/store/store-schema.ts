import type { ColumnType } from 'kysely';
import type { AgreementTables } from '../agreements/agreement-tables.ts';

/** A gateway process that has run against this store; later chains and checkpoints hang off it. */
export interface GatewayInstancesTable {
  id: string;
  hostname: string;
  version: string;
  started_at: ColumnType<Date, Date | string, never>;
  last_seen_at: ColumnType<Date, Date | string, Date | string>;
}

/** The gateway's own tables, as kysely sees them. */
export interface StoreSchema extends AgreementTables {
  gateway_instances: GatewayInstancesTable;
}
