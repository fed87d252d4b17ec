import { describe, expect, it } from 'vitest';
import type { Principal } from '../../policies/principal.ts';
import { createConsoleSessions, DEFAULT_SESSION_IDLE_MS, DEFAULT_SESSION_TTL_MS } from './console-sessions.ts';

const MINUTE = 60_000;
const START = Date.parse('2026-03-06T02:00:00Z');

function officer(user: string, expiresAt = START / 1_000 + 24 * 3_600): Principal {
  return { issuer: 'isthmus-dev', subject: user, user, bureau: 'public-security', app: 'isthmus-console', roles: ['data_officer'], scopes: [], expiresAt };
}

describe('console sessions', () => {
  it('gives each sign-in a new opaque id and its own CSRF token, and resumes it by id', () => {
    let clock = START;
    const sessions = createConsoleSessions({ now: () => clock });
    const a = sessions.create(officer('u-li'), 'persona');
    const b = sessions.create(officer('u-li'), 'persona');
    expect(a.id).not.toBe(b.id);
    expect(a.csrfToken).not.toBe(a.id);
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    clock += MINUTE;
    expect(sessions.resume(a.id)).toMatchObject({ id: a.id, csrfToken: a.csrfToken, principal: { user: 'u-li' }, lastSeenAt: clock, method: 'persona' });
    expect(sessions.resume('not-a-session')).toBeUndefined();
  });

  it('ends a session left alone for the idle timeout, and forgets it', () => {
    let clock = START;
    const sessions = createConsoleSessions({ now: () => clock });
    const session = sessions.create(officer('u-li'), 'persona');
    clock += DEFAULT_SESSION_IDLE_MS - 1;
    expect(sessions.resume(session.id)).toBeDefined();
    clock += DEFAULT_SESSION_IDLE_MS;
    expect(sessions.resume(session.id)).toBeUndefined();
    expect(sessions.size).toBe(0);
    clock -= DEFAULT_SESSION_IDLE_MS;
    expect(sessions.resume(session.id), 'an ended session does not come back').toBeUndefined();
  });

  it('ends a busy session at its lifetime, or at the token’s expiry if that is sooner', () => {
    let clock = START;
    const sessions = createConsoleSessions({ now: () => clock });
    const busy = sessions.create(officer('u-li'), 'persona');
    while (clock + 20 * MINUTE < START + DEFAULT_SESSION_TTL_MS) {
      clock += 20 * MINUTE;
      expect(sessions.resume(busy.id)).toBeDefined();
    }
    clock = START + DEFAULT_SESSION_TTL_MS;
    expect(sessions.resume(busy.id)).toBeUndefined();

    clock = START;
    const short = sessions.create(officer('u-sun', START / 1_000 + 600), 'persona');
    expect(short.expiresAt).toBe(START + 600_000);
    clock += 10 * MINUTE;
    expect(sessions.resume(short.id)).toBeUndefined();
  });

  it('stays bounded: past the limit the least recently used session goes first', () => {
    let clock = START;
    const sessions = createConsoleSessions({ now: () => clock, maxSessions: 3 });
    const [a, b, c] = ['u-a', 'u-b', 'u-c'].map((user) => {
      clock += 1;
      return sessions.create(officer(user), 'persona');
    });
    clock += 1;
    sessions.resume(a!.id);
    const d = sessions.create(officer('u-d'), 'persona');
    expect(sessions.size).toBe(3);
    expect(sessions.resume(b!.id)).toBeUndefined();
    for (const kept of [a!, c!, d]) expect(sessions.resume(kept.id)).toBeDefined();
  });

  it('signs out at once', () => {
    const sessions = createConsoleSessions({ now: () => START });
    const session = sessions.create(officer('u-li'), 'persona');
    sessions.end(session.id);
    expect(sessions.resume(session.id)).toBeUndefined();
  });

  it('refuses settings that are not positive whole numbers', () => {
    expect(() => createConsoleSessions({ idleMs: 0 })).toThrow(/idleMs/);
    expect(() => createConsoleSessions({ maxSessions: 1.5 })).toThrow(/maxSessions/);
  });
});
