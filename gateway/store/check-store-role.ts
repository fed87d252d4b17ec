import { sql } from 'kysely';
import type { Store } from './store.ts';

/** The group role a gateway's own login is granted (migration 0006). */
export const GATEWAY_ROLE = 'isthmus_gateway';
/** Bound on the start-up check's one query. */
export const DEFAULT_ROLE_CHECK_TIMEOUT_MS = 5_000;

/** The tables whose rows are evidence: the gateway may add to them and read them, nothing else. */
const EVIDENCE_TABLES = ['access_log', 'access_log_subjects', 'access_log_checkpoints', 'access_log_chains', 'access_log_keys', 'access_log_detachments', 'console_audit', 'agreement_events',
  'access_log_tree_nodes', 'access_log_tree_checkpoints', 'access_log_cosignatures', 'access_log_note_keys'];

/** What the gateway's database login can do that it should not. */
export type StoreRoleProblemCode = 'EMBEDDED_STORE' | 'SUPERUSER' | 'OWNS_LOG' | 'CAN_DISABLE_TRIGGERS' | 'CAN_CHANGE_LOG';

/** One thing the login can do to the evidence; `message` names tables and the login, never data or connection strings. */
export interface StoreRoleProblem {
  readonly code: StoreRoleProblemCode;
  readonly message: string;
}

/** The result of {@link checkStoreRole}: no problems means the login can append and read the log, never alter it. */
export interface StoreRoleReport {
  /** The login's name (`current_user`). */
  readonly login: string;
  readonly problems: readonly StoreRoleProblem[];
}

/** How to separate the roles, for every report with problems. */
export const STORE_ROLE_FIX =
  `run migrations as the tables' owner (ISTHMUS_MIGRATION_DATABASE_URL) and the gateway as a login that owns nothing and is granted ${GATEWAY_ROLE} ` +
  `(create role <login> login password '…'; grant ${GATEWAY_ROLE} to <login>; DATABASE_URL=postgres://<login>@…), see the README's "Database roles"`;

/**
 * Checks, once at start-up, what the gateway's own database login could do
 * to the access log: be a superuser (which can turn the append-only triggers
 * off), own or act as the owner of an evidence table or partition (alter,
 * disable triggers, drop), set `session_replication_role`, or hold UPDATE,
 * DELETE, TRUNCATE or TRIGGER on one. The embedded store has one user, a
 * superuser: it is reported as offering no separation without a query.
 *
 * @example
 * const report = await checkStoreRole(store);
 * if (report.problems.length > 0) log.warn(describeStoreRole(report));
 */
export async function checkStoreRole(store: Store, timeoutMs = DEFAULT_ROLE_CHECK_TIMEOUT_MS): Promise<StoreRoleReport> {
  if (store.kind === 'pglite') {
    return {
      login: 'postgres',
      problems: [{ code: 'EMBEDDED_STORE', message: 'the embedded store (PGlite) has one user, a superuser, who owns the log: it offers no separation between the gateway and the log\'s owner (run on PostgreSQL for that)' }],
    };
  }
  const row = await store.db.transaction().execute(async (trx) => {
    // A bound on the wait: the check must not hang a start on a locked catalogue.
    await sql`select set_config('statement_timeout', ${String(timeoutMs)}, true)`.execute(trx);
    const { rows } = await sql<{ login: string; superuser: boolean; owned: string[]; changeable: string[]; replica: boolean }>`
      with evidence as (
        select c.oid, c.relname, c.relowner from pg_class c
        where c.relnamespace = current_schema()::regnamespace
          and (c.relname = any(${EVIDENCE_TABLES}::text[])
            or c.oid in (select inhrelid from pg_inherits where inhparent in (to_regclass('access_log'), to_regclass('access_log_subjects'))))
      )
      select current_user::text as login,
             r.rolsuper as superuser,
             coalesce((select array_agg(e.relname::text order by e.relname) from evidence e where pg_has_role(current_user, e.relowner, 'MEMBER')), '{}') as owned,
             coalesce((select array_agg(e.relname::text order by e.relname) from evidence e
                        where has_table_privilege(current_user, e.oid, 'UPDATE') or has_table_privilege(current_user, e.oid, 'DELETE')
                           or has_table_privilege(current_user, e.oid, 'TRUNCATE') or has_table_privilege(current_user, e.oid, 'TRIGGER')), '{}') as changeable,
             has_parameter_privilege(current_user, 'session_replication_role', 'SET') as replica
      from pg_roles r where r.rolname = current_user`.execute(trx);
    return rows[0]!;
  });
  const problems: StoreRoleProblem[] = [];
  const login = row.login;
  if (row.superuser) {
    problems.push({ code: 'SUPERUSER', message: `the gateway's database login ${login} is a superuser: it can turn the log's append-only triggers off and rewrite or drop the log` });
  } else {
    if (row.owned.length > 0) problems.push({ code: 'OWNS_LOG', message: `the gateway's database login ${login} owns ${listed(row.owned)}: it can alter them, disable their triggers and drop them` });
    if (row.replica) problems.push({ code: 'CAN_DISABLE_TRIGGERS', message: `the gateway's database login ${login} may set session_replication_role, which turns the log's append-only triggers off` });
    const changeable = row.changeable.filter((table) => !row.owned.includes(table));
    if (changeable.length > 0) problems.push({ code: 'CAN_CHANGE_LOG', message: `the gateway's database login ${login} holds UPDATE, DELETE, TRUNCATE or TRIGGER on ${listed(changeable)}` });
  }
  return { login, problems };
}

/** One loud line for the operator: every problem, then the fix. */
export function describeStoreRole(report: StoreRoleReport): string {
  const fix = report.problems.some((problem) => problem.code === 'EMBEDDED_STORE')
    ? `set DATABASE_URL to PostgreSQL and ${STORE_ROLE_FIX}`
    : STORE_ROLE_FIX;
  return `${report.problems.map((problem) => problem.message).join('; ')}. To fix: ${fix}`;
}

function listed(tables: readonly string[]): string {
  return tables.length <= 4 ? tables.join(', ') : `${tables.slice(0, 4).join(', ')} and ${tables.length - 4} more`;
}
