/** An answer of the admin API: its status and parsed JSON body. */
export interface AdminReply {
  readonly status: number;
  readonly body: any;
}

/**
 * Calls a running gateway's admin API (`/admin/api<path>`) with `headers`
 * (a bearer token), sending `body` as JSON when given.
 *
 * @example
 * const created = await adminCall(testCity.gateway.url, 'POST', '/agreements', developer, request);
 */
export async function adminCall(gatewayUrl: string, method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: unknown, timeoutMs = 10_000): Promise<AdminReply> {
  const response = await fetch(`${gatewayUrl}/admin/api${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: response.status, body: await response.json() };
}
