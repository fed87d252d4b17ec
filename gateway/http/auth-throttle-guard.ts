import type { TrustedProxies } from './trusted-proxies.ts';
import type { MiddlewareHandler } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import { THROTTLED_MESSAGE, type AuthThrottle } from '../auth/auth-throttle.ts';
import { ApiError } from '../errors/api-error.ts';
import { clientAddressOf } from './client-address.ts';

/**
 * The failed-authentication throttle for hono routes (the admin API, the
 * access-log API, the console's sign-in): an address in its penalty is
 * refused before the route reads its credentials (429 `AUTH_THROTTLED`
 * with `retry-after`); a 401 answered to a request that presented a
 * credential (an `Authorization` header, or the sign-in's callback from the
 * identity provider) counts as one failure of its address.
 * Without the node request (an in-process `app.request()`), there is no
 * address and the guard stands aside.
 *
 * @example
 * app.use('/admin/api/*', authThrottleGuard(throttle, trustedProxies));
 */
export function authThrottleGuard(throttle: AuthThrottle, trustedProxies: TrustedProxies): MiddlewareHandler<{ Bindings: Partial<HttpBindings> }> {
  return async function authThrottleGuard(c, next) {
    const incoming = c.env?.incoming;
    if (!incoming) return next();
    const address = clientAddressOf(incoming, trustedProxies);
    const wait = throttle.refusal(address);
    if (wait !== undefined) throw new ApiError('AUTH_THROTTLED', THROTTLED_MESSAGE, { retryAfterSeconds: wait });
    const presented = c.req.header('authorization') !== undefined || c.req.path.endsWith('/callback');
    await next();
    if (presented && c.res.status === 401) throttle.fail(address);
  };
}
