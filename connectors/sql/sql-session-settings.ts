import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import { ConnectorConfigError } from '../connector-error.ts';

/**
 * A PostgreSQL custom setting's name: `prefix.name`, plain lower-case
 * identifiers. Checked although it travels as a parameter, because a name
 * PostgreSQL refuses would fail every read of the bureau.
 */
export const SETTING_NAME = /^[a-z_][a-z0-9_]{0,62}\.[a-z_][a-z0-9_]{0,62}$/;

/**
 * `read` with `settings` made first, in ONE statement (one round trip):
 *
 * ```sql
 * select isthmus_read.* from (select set_config($1, $2, true), … offset 0) as isthmus_settings
 *   cross join lateral (<read> and isthmus_settings is not null offset 0) as isthmus_read
 * ```
 *
 * Names and values are parameters, never part of the SQL text. `true` makes
 * each setting local to the statement's own transaction, so a pooled
 * connection never carries one request's identity into the next. The order
 * is guaranteed, not left to the planner: the read is a lateral subquery that
 * refers to the settings row, so it runs only once that row — and with it
 * every `set_config` — has been computed; `offset 0` keeps either subquery
 * from being merged into the other. The bureau's policies, views and
 * triggers therefore see who is asking on every row they touch.
 *
 * @throws ConnectorConfigError naming the bad setting when a name is not `prefix.name` or a value is not a string.
 */
export async function readWithSessionSettings<Row>(
  bureau: string,
  db: Kysely<any>,
  settings: readonly (readonly [name: string, value: string])[],
  read: SelectQueryBuilder<any, any, Row>,
): Promise<Row[]> {
  for (const [name, value] of settings) {
    if (!SETTING_NAME.test(name)) throw new ConnectorConfigError(bureau, 'a session setting name is not prefix.name in plain lower-case identifiers');
    if (typeof value !== 'string') throw new ConnectorConfigError(bureau, `the session setting ${name} is not a string`);
  }
  const calls = settings.map(([name, value]) => sql`set_config(${name}, ${value}, true)`);
  const afterSettings = read.where(sql<boolean>`isthmus_settings is not null`).modifyEnd(sql`offset 0`);
  const { rows } = await sql<Row>`select isthmus_read.* from (select ${sql.join(calls)} offset 0) as isthmus_settings cross join lateral (${afterSettings}) as isthmus_read`.execute(db);
  return rows;
}
