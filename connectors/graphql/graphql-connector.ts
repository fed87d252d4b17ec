import { print, type DocumentNode, type ExecutionResult } from 'graphql';
import type { ExecutionRequest, Executor } from '@graphql-tools/utils';
import type { Connector, ConnectorOptions } from '../connector.ts';
import { createUpstreamGuard } from '../guard/upstream-guard.ts';
import { checkConnectorOptions } from '../shared/check-connector-options.ts';
import { tracedCall } from '../shared/traced-call.ts';
import { createHttpClient } from '../shared/http-client.ts';
import { errorForStatus, unexpectedShape } from '../shared/http-answer.ts';

const ACCEPT = 'application/graphql-response+json, application/json;q=0.9';

function isExecutionResult(value: unknown): value is ExecutionResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { data, errors } = value as { data?: unknown; errors?: unknown };
  const dataOk = data === undefined || data === null || (typeof data === 'object' && !Array.isArray(data));
  const errorsOk = errors === undefined || Array.isArray(errors);
  return dataOk && errorsOk && (data !== undefined || errors !== undefined);
}

function parseResult(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** What a trace says of every call: the same for all, so made once. */
const POST_CALL = Object.freeze({ operation: 'POST' });

/**
 * Creates the connector of a bureau that runs its own GraphQL service.
 *
 * Its subschema is the bureau's SDL plus an executor that POSTs each
 * delegated operation to `options.url` through the bureau's guard, over a
 * keep-alive connection pool sized to `limits.maxConcurrency`, with the
 * headers `options.upstreamHeaders` computes from the gateway's context.
 *
 * A GraphQL response is passed on as it is, errors included: they are the
 * bureau's answer. A transport failure, a 5xx, a timeout or a body that is not
 * a GraphQL response is *thrown* as {@link UpstreamUnavailableError}, and a 4xx
 * without a GraphQL body as {@link UpstreamRejectedError}, so the stitched
 * gateway resolves the bureau's fields to `null` with that error attached.
 *
 * @example
 * const connector = createGraphqlConnector({ bureau: 'public-security', url, schema, limits });
 * stitchSchemas({ subschemas: [{ ...connector.subschema, merge: { Person: … } }] });
 */
export function createGraphqlConnector(options: ConnectorOptions): Connector {
  const url = checkConnectorOptions('graphql', options);
  const { bureau, limits, upstreamHeaders } = options;
  const guard = createUpstreamGuard({ bureau, limits, observe: options.observe });
  const client = createHttpClient({ baseUrl: url, maxSockets: limits.maxConcurrency });

  // Stitching reuses the delegated document for every request of the same
  // gateway operation, so printing it once per document saves a print per call.
  const printed = new WeakMap<DocumentNode, string>();
  const printOnce = (document: DocumentNode): string => {
    let query = printed.get(document);
    if (query === undefined) {
      query = print(document);
      printed.set(document, query);
    }
    return query;
  };

  async function execute(request: ExecutionRequest): Promise<ExecutionResult> {
    const body = JSON.stringify({
      query: printOnce(request.document),
      variables: request.variables,
      operationName: request.operationName,
    });
    const trace = options.traceCall?.(request.context, POST_CALL);
    const headers = {
      ...upstreamHeaders?.(request.context),
      ...trace?.headers,
      'content-type': 'application/json',
      accept: ACCEPT,
    };
    return tracedCall(trace, guard.run(async (signal) => {
      const response = await client.request({ method: 'POST', path: '', headers, body, signal });
      if (response.status >= 500) throw errorForStatus(bureau, response.status);
      const result = parseResult(response.body);
      // graphql-response+json answers a request it cannot run (invalid, bad
      // variables) with a 4xx and a GraphQL body: the bureau's errors, passed on.
      if (isExecutionResult(result)) return result;
      if (response.status >= 200 && response.status < 300) throw unexpectedShape(bureau, 'not a GraphQL response');
      throw errorForStatus(bureau, response.status);
    }, request.signal ?? request.info?.signal));
  }

  return {
    bureau,
    kind: 'graphql',
    carriesHeaders: true,
    subschema: { schema: options.schema, executor: execute as Executor },
    breakerState: () => guard.state(),
    async close() {
      await guard.close();
      client.close();
    },
  };
}
