import type { Principal } from '../../policies/principal.ts';
import { newRandomToken } from './csrf-token.ts';

/** A working day: a session lasts at most this long, however busy. */
export const DEFAULT_SESSION_TTL_MS = 8 * 60 * 60 * 1_000;
/** Level-3 protection asks for a session that ends when left alone; half an hour without a request ends it. */
export const DEFAULT_SESSION_IDLE_MS = 30 * 60 * 1_000;
/** Sessions held at once; past it the oldest is dropped, so memory stays bounded whatever arrives. */
export const DEFAULT_MAX_SESSIONS = 10_000;

/** How a person signed in: the demo's persona picker now, the city's identity provider (OIDC) next. */
export type SignInMethod = 'persona' | 'oidc';

/** One signed-in person. Readonly: a touch makes a new record. */
export interface ConsoleSession {
  /** The opaque id the session cookie carries; nothing else about the session leaves the server. */
  readonly id: string;
  /** Who, as the gateway's token verification mapped them: the same principal the APIs see. */
  readonly principal: Principal;
  /** The synchronizer token every form of this session carries. */
  readonly csrfToken: string;
  readonly method: SignInMethod;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  /** The session ends here at the latest: its lifetime, or the token's own expiry if sooner. */
  readonly expiresAt: number;
  readonly lastSeenAt: number;
}

/** Settings of {@link createConsoleSessions}; each has a named default. */
export interface ConsoleSessionOptions {
  readonly ttlMs?: number;
  readonly idleMs?: number;
  readonly maxSessions?: number;
  /** Milliseconds since the epoch; tests move it. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * The console's sessions, by opaque id. A sign-in method (the persona picker,
 * later an OIDC callback) verifies a token with the gateway's verifier and
 * hands the principal to {@link ConsoleSessions.create}; every page resumes
 * the session its cookie names.
 */
export interface ConsoleSessions {
  /** A new session with a new id and CSRF token; never reuses the id a browser sent (no session fixation). */
  create(principal: Principal, method: SignInMethod): ConsoleSession;
  /** The live session `id` names, its idle clock restarted; undefined when unknown, idle too long or past its end (and then forgotten). */
  resume(id: string): ConsoleSession | undefined;
  /** Signs out: the id stops working at once. */
  end(id: string): void;
  /** Sessions held now, live or not yet swept. */
  readonly size: number;
}

/**
 * An in-memory, bounded session table: a process restart signs everyone
 * out, which is the safe way to fail. Replicas behind a load balancer need
 * sticky sessions with it, or a shared table with the same interface.
 *
 * @example
 * const sessions = createConsoleSessions({ idleMs: 15 * 60_000 });
 * const session = sessions.create(await verifier.verify(token, signal), 'persona');
 */
export function createConsoleSessions(options: ConsoleSessionOptions = {}): ConsoleSessions {
  const ttlMs = positive('ttlMs', options.ttlMs ?? DEFAULT_SESSION_TTL_MS);
  const idleMs = positive('idleMs', options.idleMs ?? DEFAULT_SESSION_IDLE_MS);
  const maxSessions = positive('maxSessions', options.maxSessions ?? DEFAULT_MAX_SESSIONS);
  const now = options.now ?? Date.now;
  // A Map keeps insertion order, and resume re-inserts: the first entry is always the least recently used.
  const table = new Map<string, ConsoleSession>();
  const live = (session: ConsoleSession, at: number) => at < session.expiresAt && at - session.lastSeenAt < idleMs;

  return {
    create(principal, method) {
      const at = now();
      if (table.size >= maxSessions) {
        for (const [id, session] of table) if (!live(session, at)) table.delete(id);
      }
      while (table.size >= maxSessions) table.delete(table.keys().next().value!);
      const session: ConsoleSession = {
        id: newRandomToken(),
        principal,
        csrfToken: newRandomToken(),
        method,
        createdAt: at,
        expiresAt: Math.min(at + ttlMs, principal.expiresAt * 1_000),
        lastSeenAt: at,
      };
      table.set(session.id, session);
      return session;
    },
    resume(id) {
      const session = table.get(id);
      if (!session) return undefined;
      const at = now();
      table.delete(id);
      if (!live(session, at)) return undefined;
      const touched: ConsoleSession = { ...session, lastSeenAt: at };
      table.set(id, touched);
      return touched;
    },
    end(id) {
      table.delete(id);
    },
    get size() {
      return table.size;
    },
  };
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`${name} must be a positive whole number`);
  return value;
}
