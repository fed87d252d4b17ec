import type { BureauCalls } from '../bureaus/system-upstreams.ts';
import { bureauCallsBetween } from '../bureaus/system-upstreams.ts';
import type { BenchScenario } from '../scenarios/bench-scenarios.ts';
import type { BenchEndpoint } from '../systems/running-system.ts';

/** Bound on one probe request: a system that takes longer is broken, not slow. */
const PROBE_TIMEOUT_MS = 10_000;

/** What probing one system with one scenario found, before any timing. */
export interface ProbeResult {
  /** Undefined when the answer was exactly right. */
  readonly problem: string | undefined;
  /** Upstream calls per request, per bureau and in all, as the bureaus counted them. */
  readonly callsPerRequest: BureauCalls & { readonly total: number };
}

/**
 * Sends the first `requests` bodies of `scenario` to a system, one at a
 * time: checks every answer against the city's data, and divides the calls
 * the bureaus received meanwhile by the number of requests. Nothing else
 * talks to the bureaus while it runs, so the counts are exact.
 *
 * @example
 * const probe = await probeSystem(endpoint, headers, scenario, 10, readCalls);
 * if (probe.problem) throw new Error(probe.problem);
 */
export async function probeSystem(
  endpoint: BenchEndpoint,
  headers: Readonly<Record<string, string>>,
  scenario: BenchScenario,
  requests: number,
  readCalls: () => Promise<BureauCalls>,
): Promise<ProbeResult> {
  const before = await readCalls();
  let problem: string | undefined;
  for (let sent = 0; sent < requests; sent += 1) {
    const index = sent % scenario.bodies.length;
    const response = await fetch(endpoint.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: scenario.bodies[index],
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    problem ??= scenario.check(index, response.status, body) ?? (scenario.verifyBody(text) ? undefined : 'the timed check would count this answer as an error');
  }
  const calls = bureauCallsBetween(before, await readCalls());
  const per = (count: number): number => Math.round((count / requests) * 100) / 100;
  const callsPerRequest = {
    'public-security': per(calls['public-security']),
    'market-supervision': per(calls['market-supervision']),
    'human-resources-social-security': per(calls['human-resources-social-security']),
  };
  return {
    problem,
    callsPerRequest: { ...callsPerRequest, total: Math.round((callsPerRequest['public-security'] + callsPerRequest['market-supervision'] + callsPerRequest['human-resources-social-security']) * 100) / 100 },
  };
}
