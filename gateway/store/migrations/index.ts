import type { Migration, MigrationProvider } from 'kysely';
import * as gatewayInstances from './0001-gateway-instances.ts';
import * as agreements from './0002-agreements.ts';
import * as accessLog from './0003-access-log.ts';
import * as accessLogAppend from './0004-access-log-append.ts';
import * as consoleAudit from './0005-console-audit.ts';
import * as gatewayRole from './0006-gateway-role.ts';
import * as accessLogTree from './0007-access-log-tree.ts';
import * as accessLogTimestamps from './0008-access-log-timestamps.ts';
import * as accessLogDetachmentFrontier from './0009-access-log-detachment-frontier.ts';
import * as trustedOps from './0010-trusted-ops.ts';
import * as agreementQuotas from './0011-agreement-quotas.ts';
import * as securityEvents from './0012-security-events.ts';
import * as caseBasis from './0013-case-basis.ts';
import * as pinnedOperations from './0014-pinned-operations.ts';

/**
 * Every migration, in order. Listed here rather than read from the folder so
 * that the set is fixed at build time and a missing file is a type error.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-gateway-instances': gatewayInstances,
  '0002-agreements': agreements,
  '0003-access-log': accessLog,
  '0004-access-log-append': accessLogAppend,
  '0005-console-audit': consoleAudit,
  '0006-gateway-role': gatewayRole,
  '0007-access-log-tree': accessLogTree,
  '0008-access-log-timestamps': accessLogTimestamps,
  '0009-access-log-detachment-frontier': accessLogDetachmentFrontier,
  '0010-trusted-ops': trustedOps,
  '0011-agreement-quotas': agreementQuotas,
  '0012-security-events': securityEvents,
  '0013-case-basis': caseBasis,
  '0014-pinned-operations': pinnedOperations,
};

/** The kysely migration provider over {@link MIGRATIONS}. */
export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...MIGRATIONS }),
};
