import { isSchema } from 'graphql';
import type { ConnectorKind, ConnectorOptions } from '../connector.ts';
import { ConnectorConfigError } from '../connector-error.ts';

const URL_PROTOCOLS: Readonly<Record<ConnectorKind, readonly string[]>> = {
  graphql: ['http:', 'https:'],
  rest: ['http:', 'https:'],
  sql: ['postgres:', 'postgresql:'],
};

/**
 * Checks what every connector factory receives, before it opens anything.
 * The guard checks `limits`. Messages never repeat the URL, which may carry a
 * password: it goes in `cause`.
 *
 * @returns the parsed URL
 */
export function checkConnectorOptions(kind: ConnectorKind, options: ConnectorOptions): URL {
  const bureau = options?.bureau;
  if (typeof bureau !== 'string' || bureau === '') {
    throw new ConnectorConfigError(String(bureau), 'the bureau id must be a non-empty string');
  }
  if (!isSchema(options.schema)) {
    throw new ConnectorConfigError(bureau, 'schema must be a GraphQLSchema built with the Isthmus directives');
  }
  if (options.observe !== undefined && typeof options.observe !== 'function') {
    throw new ConnectorConfigError(bureau, 'observe must be a function');
  }
  if (options.upstreamHeaders !== undefined && typeof options.upstreamHeaders !== 'function') {
    throw new ConnectorConfigError(bureau, 'upstreamHeaders must be a function');
  }
  if (options.sessionSettings !== undefined && typeof options.sessionSettings !== 'function') {
    throw new ConnectorConfigError(bureau, 'sessionSettings must be a function');
  }
  const protocols = URL_PROTOCOLS[kind];
  let url: URL;
  try {
    url = new URL(options.url);
  } catch (error) {
    throw new ConnectorConfigError(bureau, `the ${kind} connector's url does not parse`, { cause: error });
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConnectorConfigError(bureau, `the ${kind} connector's url must start with ${protocols.join(' or ')}//`, {
      cause: new Error(`protocol ${url.protocol}`),
    });
  }
  return url;
}
