import { SignJWT } from 'jose';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoCity } from '../examples/data/generate-city.ts';
import { sampleResident } from '../examples/demo-city.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';
import { describeEachStore } from './support/describe-each-store.ts';
import { bearer, HRSS } from './support/upstream-calls.ts';
import { waitFor } from './support/wait-for.ts';
import { signingKeys as keyPair, type SigningKeys as Keys } from './support/signing-keys.ts';

/**
 * Security events through a running gateway: refused tokens on `/graphql`
 * (forged, expired) and on the admin API, a refused admin action and a done
 * one, each readable by an auditor through `GET /admin/api/security-events`
 * with its address and reason, never by a data officer; no token text in
 * any stored row; and the counters on `/metrics` move.
 */

const city = demoCity();
const me = sampleResident(city);
const SSO = 'https://sso.security-events.example/realms/staff';
const SSO_KID = 'sso-se-2026';
const AUDIENCE = 'isthmus-gateway';
const PERSON_NAME = 'query($id: ID!) { person(idNumber: $id) { idNumber name } }';

function ssoToken(keys: Keys, times: { issuedAt: number; expiresAt: number }): Promise<string> {
  return new SignJWT({ bureau: 'civil-affairs', azp: 'marriage-registry', preferred_username: 'he.fang@civil-affairs', roles: ['developer'] })
    .setProtectedHeader({ alg: 'ES256', kid: SSO_KID, typ: 'JWT' })
    .setIssuer(SSO)
    .setAudience(AUDIENCE)
    .setSubject('he.fang@civil-affairs')
    .setIssuedAt(times.issuedAt)
    .setExpirationTime(times.expiresAt)
    .sign(keys.privateKey);
}

describeEachStore('security events through a running gateway, store on $name', (target) => {
  let testCity: TestCity;
  let sso: Keys;
  let auditor: Record<string, string>;
  let officer: Record<string, string>;
  const tokens: string[] = [];

  beforeAll(async () => {
    sso = await keyPair(SSO_KID);
    testCity = await startTestCity({ ISTHMUS_ISSUERS: JSON.stringify([{ issuer: SSO, audience: AUDIENCE, algorithms: ['ES256'], keys: [sso.publicJwk] }]) }, { store: target });
    auditor = bearer(await testCity.token({ bureau: 'audit-office', app: 'isthmus-console', user: 'sun.yue@audit', roles: ['auditor'], ttl: '1h' }));
    officer = bearer(await testCity.token({ bureau: HRSS, app: 'isthmus-console', user: 'li.na@hrss', roles: ['data_officer'], ttl: '1h' }));
  }, 120_000);
  afterAll(async () => {
    await testCity?.close();
  });

  const events = async (headers: Record<string, string>, query = '') => {
    const response = await fetch(`${testCity.gateway.url}/admin/api/security-events${query}`, { headers, signal: AbortSignal.timeout(10_000) });
    return { status: response.status, body: (await response.json()) as any };
  };
  const eventsWhere = async (query: string, count: number) => {
    let items: any[] = [];
    await waitFor(async () => ((items = (await events(auditor, query)).body.items), items.length >= count), { what: `${count} security events for ${query}` });
    return items;
  };
  const metric = async (line: string) => {
    const text = await (await fetch(`${testCity.gateway.url}/metrics`)).text();
    const found = text.split('\n').find((one) => one.startsWith(line));
    return found === undefined ? 0 : Number(found.slice(line.length).trim());
  };

  it('a forged and an expired token on /graphql are recorded with the claimed issuer, the address and the reason, and no token text', async () => {
    const now = Math.floor(Date.now() / 1_000);
    const before = await metric('isthmus_security_events_total{kind="TOKEN_REFUSED",reason="TOKEN_EXPIRED"}');
    const forged = await ssoToken(await keyPair(SSO_KID), { issuedAt: now, expiresAt: now + 600 });
    const expired = await ssoToken(sso, { issuedAt: now - 3_600, expiresAt: now - 600 });
    tokens.push(forged, expired);
    for (const token of [forged, expired]) {
      const reply = await testCity.graphql(PERSON_NAME, { id: me.idNumber }, bearer(token));
      expect(reply.status).toBe(401);
    }
    const [expiredEvent] = await eventsWhere('?kind=TOKEN_REFUSED&reason=TOKEN_EXPIRED', 1);
    expect(expiredEvent).toMatchObject({ kind: 'TOKEN_REFUSED', reason: 'TOKEN_EXPIRED', outcome: 'REFUSED', route: 'POST /graphql', issuer: SSO, keyId: SSO_KID, clientAddress: '127.0.0.1' });
    expect(expiredEvent.requestId).toEqual(expect.any(String));
    // Claimed, not verified: the subject of a refused token is not taken.
    expect(expiredEvent.subject).toBeUndefined();
    const forgedEvents = (await eventsWhere('?kind=TOKEN_REFUSED', 2)).filter((event) => event.reason !== 'TOKEN_EXPIRED');
    expect(forgedEvents[0]).toMatchObject({ kind: 'TOKEN_REFUSED', route: 'POST /graphql', issuer: SSO, clientAddress: '127.0.0.1' });
    expect(forgedEvents[0].reason).toMatch(/SIGNATURE|TOKEN_/);
    expect(await metric('isthmus_security_events_total{kind="TOKEN_REFUSED",reason="TOKEN_EXPIRED"}')).toBe(before + 1);
  });

  it('a refused token and a refused admin action on the admin API, and a done one, are recorded; a data officer may not read them', async () => {
    const refusedToken = await fetch(`${testCity.gateway.url}/admin/api/agreements`, { headers: { authorization: 'Bearer not.a.token' } });
    expect(refusedToken.status).toBe(401);
    tokens.push('not.a.token');
    // An auditor is not staff of the admin API: creating an agreement is refused.
    const refusedAction = await fetch(`${testCity.gateway.url}/admin/api/agreements`, { method: 'POST', headers: { ...auditor, 'content-type': 'application/json' }, body: '{}' });
    expect(refusedAction.status).toBe(403);
    const catalogueReload = await fetch(`${testCity.gateway.url}/admin/api/catalogue/reload`, { method: 'POST', headers: { ...officer, 'content-type': 'application/json' }, body: '{}' });
    expect(catalogueReload.status).toBe(403);

    const [tokenEvent] = await eventsWhere('?kind=TOKEN_REFUSED&reason=TOKEN_MALFORMED', 1);
    expect(tokenEvent).toMatchObject({ route: 'GET /admin/api/agreements', status: 401, clientAddress: '127.0.0.1' });
    const actions = await eventsWhere('?kind=ADMIN_ACTION', 2);
    expect(actions.find((event) => event.route === 'POST /admin/api/agreements')).toMatchObject({ outcome: 'REFUSED', reason: 'FORBIDDEN', status: 403, user: 'sun.yue@audit', bureau: 'audit-office', clientAddress: '127.0.0.1' });
    expect(actions.find((event) => event.route === 'POST /admin/api/catalogue/reload')).toMatchObject({ outcome: 'REFUSED', user: 'li.na@hrss' });

    const denied = await events(officer);
    expect(denied.status).toBe(403);
    expect(denied.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', rule: 'AUDITORS_AND_OPERATORS' });
    expect((await events({})).status).toBe(401);
    expect((await events(auditor, '?kind=NOPE')).body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'kind' });
  });

  it('no stored row holds any token text or the resident queried', async () => {
    await eventsWhere('', 5);
    const rows = await sql<{ row: string }>`select row_to_json(e)::text as row from security_events e`.execute(testCity.gateway.store.db);
    const all = rows.rows.map((one) => one.row).join('\n');
    expect(rows.rows.length).toBeGreaterThanOrEqual(5);
    for (const token of tokens) for (const part of [token, ...token.split('.')]) if (part.length > 8) expect(all).not.toContain(part);
    expect(all).not.toContain(me.idNumber);
  });

  it('a committed access record moves isthmus_access_decisions_total', async () => {
    const developer = bearer(await testCity.token({ bureau: 'market-supervision', app: 'licensing-portal', user: 'qian.li@market-supervision', roles: ['developer'], ttl: '1h' }));
    const records = async () => {
      const text = await (await fetch(`${testCity.gateway.url}/metrics`)).text();
      return text.split('\n').filter((line) => line.startsWith('isthmus_access_decisions_total{') && line.includes('reason="NONE"')).reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    };
    const before = await records();
    const reply = await testCity.graphql(PERSON_NAME, { id: me.idNumber }, developer);
    expect(reply.status).toBeLessThan(500);
    await waitFor(async () => (await records()) === before + 1, { what: 'one access decision counted' });
  });
});
