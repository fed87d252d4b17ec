/** An answer of the admin API: its status and parsed JSON body. */
export interface AdminReply {
  readonly status: number;
  readonly body: any;
}

/**
 * Calls the admin API of the gateway at `gatewayUrl` (`/admin/api` + `path`)
 * with `headers` (a bearer token) and, when given, `body` as JSON; bounded
 * at 10 s.
 */
export async function adminRequest(gatewayUrl: string, method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: unknown): Promise<AdminReply> {
  const response = await fetch(`${gatewayUrl}/admin/api${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: await response.json() };
}
