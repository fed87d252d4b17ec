import type { Connector, ConnectorOptions } from '../connector.ts';
import { ConnectorConfigError } from '../connector-error.ts';
import { createUpstreamGuard } from '../guard/upstream-guard.ts';
import { checkConnectorOptions } from '../shared/check-connector-options.ts';
import { tracedCall } from '../shared/traced-call.ts';
import { errorForStatus, parseJson } from '../shared/http-answer.ts';
import { createHttpClient } from '../shared/http-client.ts';
import { buildRestSchema } from './rest-schema.ts';

/**
 * Keys per batch request. 500 eighteen-character keys, comma-joined and
 * URL-encoded, make a request line of about 11 KB, inside the 16 KB that
 * Node's HTTP server accepts by default; more keys are split over requests.
 */
export const DEFAULT_MAX_BATCH = 500;

/** Options of {@link createRestConnector}. */
export interface RestConnectorOptions extends ConnectorOptions {
  /** Keys per batch request (default {@link DEFAULT_MAX_BATCH}). */
  readonly maxBatch?: number;
}

/** What a trace says of every call (never the path, which carries a key). */
const GET_CALL = Object.freeze({ operation: 'GET' });

/**
 * Creates the connector of a bureau that offers a JSON REST API.
 *
 * Its subschema is the bureau's SDL made executable from its `@http` and
 * `@merge` directives (see {@link buildRestSchema}); every GET goes through
 * the bureau's guard over a keep-alive connection pool, with the headers
 * `options.upstreamHeaders` computes from the execution's context.
 *
 * A 404 resolves to null. A transport failure, 5xx, timeout or a body that is
 * not JSON of the field's shape throws {@link UpstreamUnavailableError}; any
 * other non-2xx throws {@link UpstreamRejectedError}, which leaves the breaker
 * alone because the bureau did answer.
 *
 * @example
 * const connector = createRestConnector({ bureau: 'market-supervision', url: 'http://127.0.0.1:4102', schema, limits });
 * await execute({ schema: connector.subschema.schema, document, contextValue: {} });
 */
export function createRestConnector(options: RestConnectorOptions): Connector {
  const url = checkConnectorOptions('rest', options);
  const { bureau, limits, upstreamHeaders } = options;
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new ConnectorConfigError(bureau, 'maxBatch must be a positive integer');

  const guard = createUpstreamGuard({ bureau, limits, observe: options.observe });
  const client = createHttpClient({ baseUrl: url, maxSockets: limits.maxConcurrency });

  const schema = buildRestSchema({
    bureau,
    schema: options.schema,
    maxBatch,
    getJson(path, context, signal) {
      const trace = options.traceCall?.(context, GET_CALL);
      const headers = { ...upstreamHeaders?.(context), ...trace?.headers, accept: 'application/json' };
      return tracedCall(trace, guard.run(async (callSignal) => {
        const response = await client.request({ method: 'GET', path, headers, signal: callSignal });
        if (response.status === 404) return null;
        if (response.status < 200 || response.status > 299) throw errorForStatus(bureau, response.status);
        return parseJson(bureau, response.body);
      }, signal));
    },
  });

  return {
    bureau,
    kind: 'rest',
    carriesHeaders: true,
    subschema: { schema },
    breakerState: () => guard.state(),
    async close() {
      await guard.close();
      client.close();
    },
  };
}
