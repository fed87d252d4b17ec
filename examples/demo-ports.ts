/** Ports of the demo bureaus unless the environment says otherwise. */
export const DEMO_PORTS = { publicSecurity: 4101, marketSupervision: 4102, hrss: 4103 } as const;

/** The demo's bureau systems, as `startDemoBureaus`' `ports` option names them. */
export type DemoBureauName = keyof typeof DEMO_PORTS;

/** The environment variable that moves each demo bureau to another port (0: any free one). */
export const DEMO_PORT_VARIABLES: Readonly<Record<DemoBureauName, string>> = {
  publicSecurity: 'DEMO_PUBLIC_SECURITY_PORT',
  marketSupervision: 'DEMO_MARKET_SUPERVISION_PORT',
  hrss: 'DEMO_HRSS_PORT',
};

/** What the demo stops with: a setting or a port it cannot use, said in one line. */
export class DemoStartError extends Error {
  readonly code: 'DEMO_PORT_INVALID' | 'DEMO_PORT_UNAVAILABLE';
  constructor(code: DemoStartError['code'], message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DemoStartError';
    this.code = code;
  }
}

/**
 * The demo bureaus' ports from `DEMO_*_PORT`, each a whole number from 0 to
 * 65535 or its default.
 *
 * @throws DemoStartError naming every variable that is not a port.
 */
export function demoPorts(env: Readonly<Record<string, string | undefined>>): Record<DemoBureauName, number> {
  const problems: string[] = [];
  const read = (bureau: DemoBureauName): number => {
    const name = DEMO_PORT_VARIABLES[bureau];
    const raw = env[name];
    if (raw === undefined || raw === '') return DEMO_PORTS[bureau];
    const port = Number(raw);
    if (Number.isInteger(port) && port >= 0 && port <= 65_535) return port;
    problems.push(`${name} must be a whole number from 0 to 65535`);
    return DEMO_PORTS[bureau];
  };
  const ports = { publicSecurity: read('publicSecurity'), marketSupervision: read('marketSupervision'), hrss: read('hrss') };
  if (problems.length > 0) throw new DemoStartError('DEMO_PORT_INVALID', problems.join('; '));
  return ports;
}

/**
 * A failed listen (the port is taken, or may not be used) as a
 * {@link DemoStartError} naming the port and the variable that sets it;
 * anything else is returned as it is. `variables` maps the ports that were
 * being opened to their variables.
 */
export function portError(error: unknown, variables: ReadonlyMap<number, string>): unknown {
  const { code, port } = (error ?? {}) as { code?: unknown; port?: unknown };
  if (typeof port !== 'number' || (code !== 'EADDRINUSE' && code !== 'EACCES')) return error;
  const variable = variables.get(port);
  const named = variable ? `port ${port} (${variable})` : `port ${port}`;
  const message =
    code === 'EADDRINUSE'
      ? `${named} is already in use${variable ? `: stop what holds it (the demo, already running?), or set ${variable} to a free port` : ''}`
      : `${named} may not be opened by this user${variable ? `: set ${variable} to a port above 1023` : ''}`;
  return new DemoStartError('DEMO_PORT_UNAVAILABLE', message, { cause: error });
}
