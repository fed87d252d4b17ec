import type { Connector, ConnectorKind, ConnectorOptions } from './connector.ts';
import { ConnectorConfigError } from './connector-error.ts';
import { createGraphqlConnector } from './graphql/graphql-connector.ts';
import { createRestConnector } from './rest/rest-connector.ts';
import { createSqlConnector } from './sql/sql-connector.ts';

/**
 * Creates the connector of a bureau by its manifest's kind.
 *
 * @example
 * const connector = createConnector(manifest.connector.kind, { bureau: manifest.id, url, schema, limits, observe });
 */
export function createConnector(kind: ConnectorKind, options: ConnectorOptions): Connector {
  switch (kind) {
    case 'graphql':
      return createGraphqlConnector(options);
    case 'rest':
      return createRestConnector(options);
    case 'sql':
      return createSqlConnector(options);
    default:
      // A manifest is data: its kind can be anything until checked.
      throw new ConnectorConfigError(options.bureau, `unknown connector kind "${String(kind satisfies never)}"`);
  }
}
