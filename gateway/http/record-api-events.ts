import { NO_TRUSTED_PROXIES, type TrustedProxies } from './trusted-proxies.ts';
import type { IncomingMessage } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Principal } from '../../policies/principal.ts';
import type { SecurityEventRecorder } from '../observability/security-events.ts';
import type { SecurityEvent } from '../observability/security-event-store.ts';
import { claimedToken } from '../observability/claimed-token.ts';
import { refusalKind } from '../observability/refusal-kind.ts';
import { REQUEST_ID_HEADER } from '../graphql/gateway-context.ts';
import { clientAddressOf, UNKNOWN_CLIENT_ADDRESS } from './client-address.ts';

/** What {@link recordApiEvents} needs. */
export interface RecordApiEventsDeps {
  readonly recorder: Pick<SecurityEventRecorder, 'record'>;
  /** The load balancers in front of the gateway (`clientAddressOf`); none by default. */
  readonly trustedProxies?: TrustedProxies;
}

/**
 * Records, at the edge of the JSON APIs and the console (mounted before
 * them, so it sees every answer, errors included): every refusal (status 401
 * or 403, and 429) with the code and reason of the answer's error, and every
 * change a person made (any method but GET/HEAD) with its outcome. The
 * route's pattern names the action, never the path with its ids; who is the
 * principal the route authenticated (the API's `principal`, the console's
 * session), or for a refused token the issuer and key id it claimed.
 *
 * A GET answered is not recorded: reading is the access log's and the
 * console trail's business, and would flood this table.
 */
export function recordApiEvents(deps: RecordApiEventsDeps): MiddlewareHandler {
  const trusted = deps.trustedProxies ?? NO_TRUSTED_PROXIES;
  return async (c, next) => {
    await next();
    const status = c.res.status;
    const change = c.req.method !== 'GET' && c.req.method !== 'HEAD';
    const refused = status === 401 || status === 403 || status === 429;
    if (!refused && !(change && status < 400)) return;
    const pattern = matchedRoutes(c).findLast((route) => route.method !== 'ALL')?.path ?? c.req.routePath;
    const route = `${c.req.method} ${pattern}`;
    const principal = principalOf(c.var as Record<string, unknown>);
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    const base = {
      route,
      status,
      clientAddress: incoming ? clientAddressOf(incoming, trusted) : UNKNOWN_CLIENT_ADDRESS,
      ...(c.res.headers.get(REQUEST_ID_HEADER) ?? c.req.header(REQUEST_ID_HEADER) ? { requestId: (c.res.headers.get(REQUEST_ID_HEADER) ?? c.req.header(REQUEST_ID_HEADER))! } : {}),
      ...(principal
        ? { bureau: principal.bureau, app: principal.app, ...(principal.user !== undefined && { user: principal.user }), issuer: principal.issuer, subject: principal.subject }
        : claimedToken(c.req.raw.headers)),
      ...(c.req.param('id') !== undefined && { detail: { target: c.req.param('id')! } }),
    } satisfies Partial<SecurityEvent>;
    if (!refused) {
      deps.recorder.record({ ...base, kind: 'ADMIN_ACTION', reason: actionOf(c.req.method, pattern), outcome: 'DONE' });
      return;
    }
    const { code, reason } = await errorCodeOf(c.res, status);
    deps.recorder.record({ ...base, kind: change ? refusalKind(code, reason, 'ADMIN_ACTION') : refusalKind(code, reason, 'ACCESS_REFUSED'), reason, outcome: 'REFUSED' });
  };
}

/** `POST /admin/api/agreements/:id/approve` → `AGREEMENTS_APPROVE`; a collection's POST → `…_CREATE`. Bounded: one per route. */
export function actionOf(method: string, pattern: string): string {
  const words = pattern
    .split('/')
    .filter((part) => part !== '' && !part.startsWith(':') && part !== '*' && part !== 'admin' && part !== 'api')
    .map((part) => part.replaceAll(/[^A-Za-z0-9]+/g, '_').toUpperCase());
  if (words.length === 0) return method;
  return words.length === 1 && method === 'POST' ? `${words[0]}_CREATE` : words.join('_');
}

function principalOf(variables: Record<string, unknown>): Principal | undefined {
  const direct = variables['principal'] as Principal | undefined;
  if (direct) return direct;
  return (variables['session'] as { principal?: Principal } | undefined)?.principal;
}

/** The first error's code and reason of a JSON answer; an HTML page (the console's) by its status. */
async function errorCodeOf(response: Response, status: number): Promise<{ code: string; reason: string }> {
  const fallback = status === 401 ? 'UNAUTHENTICATED' : status === 429 ? 'LIMIT_EXCEEDED' : 'FORBIDDEN';
  if (!response.headers.get('content-type')?.includes('application/json')) return { code: fallback, reason: fallback };
  try {
    const body = (await response.clone().json()) as { errors?: { extensions?: { code?: unknown; reason?: unknown } }[] };
    const extensions = body.errors?.[0]?.extensions;
    const code = typeof extensions?.code === 'string' ? extensions.code : fallback;
    const reason = typeof extensions?.reason === 'string' ? extensions.reason : code;
    return { code, reason };
  } catch {
    return { code: fallback, reason: fallback };
  }
}
