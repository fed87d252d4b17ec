import { Hono, type MiddlewareHandler } from 'hono';
import type { Principal } from '../../policies/principal.ts';
import { ApiError } from '../errors/api-error.ts';
import { apiRoutes } from '../http/api-routes.ts';
import { authenticateCaller, type Authenticate } from '../http/authenticate-caller.ts';
import { onlyKnownNames } from '../http/only-known-names.ts';
import { parseInstant } from '../http/parse-instant.ts';
import type { Logger } from './logger.ts';
import { SECURITY_EVENT_KINDS, MAX_SECURITY_EVENTS_PAGE_SIZE, type SecurityEventKind, type SecurityEventQuery, type SecurityEventRecord, type SecurityEventStore } from './security-event-store.ts';

/** A GET carries no body; the edge's limit only has to be positive. */
const NO_BODY_BYTES = 1;
/** A reason is a module code: capitals, digits and underscores. */
export const SECURITY_EVENT_REASON_FORMAT = /^[A-Z][A-Z0-9_]{0,63}$/;
/** A client address as recorded: an IPv4 or IPv6 address (hex digits, dots, colons), or `unknown`. */
export const CLIENT_ADDRESS_FORMAT = /^(?:[0-9A-Fa-f:.]{2,45}|unknown)$/;

/** What the security events API needs. */
export interface SecurityEventsApiDeps {
  readonly authenticate: Authenticate;
  readonly store: Pick<SecurityEventStore, 'list'>;
  readonly log?: Pick<Logger, 'error'>;
}

type Env = { Variables: { principal: Principal } };

/** Who may read the security events: auditors and operators, and nobody else (a data officer's refusals are in here too). */
export function maySeeSecurityEvents(principal: Pick<Principal, 'roles'>): boolean {
  return principal.roles.includes('auditor') || principal.roles.includes('operator');
}

/**
 * `GET /security-events?kind&reason&from&to&limit&cursor`, mounted at
 * `/admin/api`: the security events newest first, for auditors and
 * operators (others: 403 `FORBIDDEN`, rule `AUDITORS_AND_OPERATORS`).
 * `from` inclusive, `to` exclusive, both ISO 8601 instants.
 *
 * @example
 * app.route('/admin/api', createSecurityEventsApi({ authenticate, store: createSecurityEventStore(db) }));
 */
export function createSecurityEventsApi(deps: SecurityEventsApiDeps): Hono<Env> {
  const app = new Hono<Env>();
  const auditorsOnly: MiddlewareHandler<Env> = async (c, next) => {
    const principal = await authenticateCaller(deps.authenticate, c.req.raw);
    if (!maySeeSecurityEvents(principal)) throw new ApiError('FORBIDDEN', 'the security events are for auditors and operators', { rule: 'AUDITORS_AND_OPERATORS' });
    c.set('principal', principal);
    await next();
  };
  const routes = apiRoutes(app, { maxBodyBytes: NO_BODY_BYTES, guard: auditorsOnly, ...(deps.log && { log: deps.log }) });
  routes.on('GET', '/security-events', async (c) => {
    const query = parseSecurityEventQuery(c.req.query());
    let page;
    try {
      page = await deps.store.list(query);
    } catch (error) {
      if (error instanceof RangeError) throw new ApiError('BAD_CURSOR', 'cursor is not one this API gave out', { field: 'cursor' });
      throw error;
    }
    return c.json({ items: page.items.map(securityEventJson), ...(page.nextCursor && { nextCursor: page.nextCursor }) });
  });
  return app;
}

/** The query of `GET /security-events`, every problem named by its parameter. */
export function parseSecurityEventQuery(query: Readonly<Record<string, string>>): SecurityEventQuery {
  onlyKnownNames(query, ['kind', 'reason', 'clientAddress', 'from', 'to', 'limit', 'cursor'], { top: 'query' });
  const { kind, reason, clientAddress, from, to, limit, cursor } = query;
  if (kind !== undefined && !SECURITY_EVENT_KINDS.includes(kind as SecurityEventKind)) throw new ApiError('BAD_USER_INPUT', `kind must be one of ${SECURITY_EVENT_KINDS.join(', ')}`, { field: 'kind' });
  if (reason !== undefined && !SECURITY_EVENT_REASON_FORMAT.test(reason)) throw new ApiError('BAD_USER_INPUT', 'reason must be a code such as TOKEN_EXPIRED', { field: 'reason' });
  if (clientAddress !== undefined && !CLIENT_ADDRESS_FORMAT.test(clientAddress)) throw new ApiError('BAD_USER_INPUT', 'clientAddress must be an IPv4 or IPv6 address', { field: 'clientAddress' });
  const pageSize = limit === undefined ? undefined : Number(limit);
  if (pageSize !== undefined && (!/^\d{1,3}$/.test(limit!) || pageSize < 1 || pageSize > MAX_SECURITY_EVENTS_PAGE_SIZE)) {
    throw new ApiError('BAD_USER_INPUT', `limit must be a whole number from 1 to ${MAX_SECURITY_EVENTS_PAGE_SIZE}`, { field: 'limit' });
  }
  return {
    ...(kind !== undefined && { kind: kind as SecurityEventKind }),
    ...(reason !== undefined && { reason }),
    ...(clientAddress !== undefined && { clientAddress }),
    ...(from !== undefined && { from: parseInstant(from, 'from') }),
    ...(to !== undefined && { to: parseInstant(to, 'to') }),
    ...(pageSize !== undefined && { limit: pageSize }),
    ...(cursor !== undefined && { cursor }),
  };
}

/** One event as JSON: the time as an ISO instant. */
export function securityEventJson(record: SecurityEventRecord): Record<string, unknown> {
  return { ...record, occurredAt: record.occurredAt.toISOString() };
}
