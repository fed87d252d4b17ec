/** Port of a host the URL names without one, as libpq assumes. */
export const DEFAULT_POSTGRES_PORT = 5432;

/** `target_session_attrs` values the gateway can work with: it writes its tables, so only servers that accept writes will do. */
export type TargetSessionAttrs = 'any' | 'read-write' | 'primary';

/** Values libpq knows that would send the gateway to a server it cannot write. */
const READ_ONLY_TARGETS = new Set(['read-only', 'standby', 'prefer-standby']);

/** One server of a multi-host URL. */
export interface DatabaseHost {
  /** The host as written (an IPv6 address without its brackets). */
  readonly host: string;
  readonly port: number;
}

/**
 * What `DATABASE_URL` asks for. `direct` is a URL to hand to `pg` as it is
 * (one host, no `target_session_attrs`): today's path, with no probe.
 * `hosts` is a list to try in order, keeping only connections to a server
 * that accepts writes when `target` is `read-write` or `primary`.
 */
export type DatabaseTarget =
  | { readonly kind: 'direct'; readonly url: string }
  | {
      readonly kind: 'hosts';
      readonly hosts: readonly DatabaseHost[];
      readonly target: TargetSessionAttrs;
      /** The single-host URL for `hosts[index]`, with `target_session_attrs` taken out: what `pg` is given. */
      urlFor(index: number): string;
    };

/**
 * `DATABASE_URL` (or `ISTHMUS_MIGRATION_DATABASE_URL`) cannot be used. The
 * message names the problem and the host's place in the list, never the
 * URL itself: it may hold a password.
 */
export class DatabaseUrlInvalid extends Error {
  override readonly name = 'DatabaseUrlInvalid';
  readonly code = 'DATABASE_URL_INVALID';
}

const URL_PARTS = /^(postgres(?:ql)?:\/\/)(?:([^@/?#]*)@)?([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/;
const HOST_NAME = /^[A-Za-z0-9._~%-]+$/;
const IPV6 = /^\[([0-9A-Fa-f:.%\w]+)\](?::(.*))?$/;

/**
 * Reads a libpq-style connection URL. Several hosts are written in the
 * authority, `postgres://user:pw@h1:5432,h2:5433/db?target_session_attrs=read-write`
 * (the `host=`/`port=` list form of libpq is not read: name the hosts in
 * the authority). A URL with one host and no `target_session_attrs` is
 * returned untouched as `direct`, so every form `pg` accepted before still
 * works the same.
 *
 * @example
 * parseDatabaseUrl('postgres://db1,db2:5433/isthmus?target_session_attrs=read-write');
 * // { kind: 'hosts', hosts: [{ host: 'db1', port: 5432 }, { host: 'db2', port: 5433 }], target: 'read-write', … }
 */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  const parts = URL_PARTS.exec(url);
  if (!parts) throw new DatabaseUrlInvalid('must be a postgres:// connection string');
  const [, scheme, userinfo, authority, path, query = '', fragment = ''] = parts as unknown as [string, string, string | undefined, string, string, string | undefined, string | undefined];
  const params = new URLSearchParams(query.slice(1));
  const targetParam = params.get('target_session_attrs');
  if (!authority.includes(',') && targetParam === null) return { kind: 'direct', url };

  const target = readTarget(targetParam);
  if (params.has('host') || params.has('hostaddr') || params.has('port')) {
    throw new DatabaseUrlInvalid('names its hosts in the authority (h1:port,h2:port): leave host, hostaddr and port out of the query');
  }
  const list = authority.split(',');
  const hosts = list.map((text, index) => readHost(text, index, list.length));
  params.delete('target_session_attrs');
  const rest = params.toString();
  const prefix = `${scheme}${userinfo === undefined ? '' : `${userinfo}@`}`;
  const suffix = `${path}${rest ? `?${rest}` : ''}${fragment}`;
  return {
    kind: 'hosts',
    hosts,
    target,
    urlFor(index) {
      const host = hosts[index];
      if (!host) throw new RangeError(`no host ${index}`);
      return `${prefix}${host.host.includes(':') ? `[${host.host}]` : host.host}:${host.port}${suffix}`;
    },
  };
}

function readTarget(value: string | null): TargetSessionAttrs {
  if (value === null || value === 'any' || value === 'read-write' || value === 'primary') return value ?? 'any';
  if (READ_ONLY_TARGETS.has(value)) throw new DatabaseUrlInvalid(`target_session_attrs=${value} would send the gateway to a server it cannot write: use read-write (or primary)`);
  throw new DatabaseUrlInvalid('target_session_attrs must be any, read-write or primary');
}

function readHost(text: string, index: number, count: number): DatabaseHost {
  const where = count > 1 ? `host ${index + 1} of ${count}` : 'the host';
  let host: string;
  let port: string | undefined;
  const v6 = IPV6.exec(text);
  if (v6) {
    host = v6[1]!;
    port = v6[2];
  } else {
    const colon = text.indexOf(':');
    host = colon < 0 ? text : text.slice(0, colon);
    port = colon < 0 ? undefined : text.slice(colon + 1);
    if (!HOST_NAME.test(host)) throw new DatabaseUrlInvalid(`${where} has no usable name (a host name or an address, IPv6 in brackets)`);
  }
  if (port === undefined || port === '') return { host, port: DEFAULT_POSTGRES_PORT };
  const number = Number(port);
  if (!/^\d+$/.test(port) || number < 1 || number > 65_535) throw new DatabaseUrlInvalid(`the port of ${where} must be a number from 1 to 65535`);
  return { host, port: number };
}
