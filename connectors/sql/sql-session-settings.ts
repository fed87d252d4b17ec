import { sql, type Kysely } from 'kysely';
import { ConnectorConfigError } from '../connector-error.ts';

/**
 * A PostgreSQL custom setting's name: `prefix.name`, plain lower-case
 * identifiers. Checked although it travels as a parameter, because a name
 * PostgreSQL refuses would fail every read of the bureau.
 */
export const SETTING_NAME = /^[a-z_][a-z0-9_]{0,62}\.[a-z_][a-z0-9_]{0,62}$/;

/**
 * Makes `settings` in the current transaction with one statement,
 * `select set_config($1, $2, true), set_config($3, $4, true), …`: names and
 * values are parameters, never part of the SQL text, and `true` makes each
 * setting transaction-local (`SET LOCAL`), so a pooled connection never
 * carries one request's identity into the next.
 *
 * @throws ConnectorConfigError naming the bad setting when a name is not `prefix.name` or a value is not a string.
 */
export async function applySessionSettings(bureau: string, trx: Kysely<any>, settings: readonly (readonly [name: string, value: string])[]): Promise<void> {
  for (const [name, value] of settings) {
    if (!SETTING_NAME.test(name)) throw new ConnectorConfigError(bureau, 'a session setting name is not prefix.name in plain lower-case identifiers');
    if (typeof value !== 'string') throw new ConnectorConfigError(bureau, `the session setting ${name} is not a string`);
  }
  const calls = settings.map(([name, value]) => sql`set_config(${name}, ${value}, true)`);
  await sql`select ${sql.join(calls)}`.execute(trx);
}
