import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/config.ts';
import { GATEWAY_ROLE } from '../store/check-store-role.ts';
import type { Store } from '../store/store.ts';
import { describeEachStore } from '../../test/support/describe-each-store.ts';
import { createSecurityEventStore } from './security-event-store.ts';
import { createSecurityEventRetention, pruneSecurityEvents } from './security-event-retention.ts';

const DAY = 86_400_000;

describe('ISTHMUS_SECURITY_EVENT_RETENTION_DAYS', () => {
  it('defaults to 180 days and accepts more', () => {
    expect(loadConfig({}).securityEventRetentionDays).toBe(180);
    expect(loadConfig({ ISTHMUS_SECURITY_EVENT_RETENTION_DAYS: '400' }).securityEventRetentionDays).toBe(400);
  });

  it('refuses less than six months at start-up, naming the setting', () => {
    for (const days of ['179', '7', '0', 'forever']) {
      let error: unknown;
      try {
        loadConfig({ ISTHMUS_SECURITY_EVENT_RETENTION_DAYS: days });
      } catch (caught) {
        error = caught;
      }
      expect(error, days).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.join('\n'), days).toMatch(/ISTHMUS_SECURITY_EVENT_RETENTION_DAYS/);
    }
  });
});

describeEachStore('security event retention on $name', (target) => {
  let store: Store;
  const now = new Date();
  const route = `GET /retention-test/${randomUUID()}`;
  const ages = [400, 200, 181, 179, 30, 0];

  const remainingAges = async () => {
    const rows = await store.db.selectFrom('security_events').select('occurred_at').where('route', '=', route).orderBy('occurred_at').execute();
    return rows.map((row) => Math.round((now.getTime() - new Date(row.occurred_at).getTime()) / DAY));
  };
  const refusal = (run: () => Promise<unknown>) =>
    run().then(
      () => undefined,
      (error: { code?: string; message: string }) => error,
    );

  beforeAll(async () => {
    store = await target.open();
    await createSecurityEventStore(store.db).insert(
      ages.map((days) => ({ at: new Date(now.getTime() - days * DAY), event: { kind: 'TOKEN_REFUSED', reason: 'TOKEN_EXPIRED', outcome: 'REFUSED', route, clientAddress: '192.0.2.7' } })),
    );
  });
  afterAll(async () => {
    await store?.close();
  });

  it('refuses a retention shorter than 180 days before touching the table', async () => {
    await expect(pruneSecurityEvents(store.db, now, { retentionDays: 179 })).rejects.toMatchObject({ code: 'SECURITY_EVENT_RETENTION_TOO_SHORT' });
    expect(await remainingAges()).toEqual(ages);
  });

  it('the owner’s function refuses a cutoff younger than six months, whatever the caller’s clock says', async () => {
    const error = await refusal(() => sql`select security_events_prune(now() - interval '179 days', 100)`.execute(store.db));
    expect(error?.message).toMatch(/within the six months/);
    // A caller whose clock runs a year ahead asks for a cutoff six months after now: refused by the database's clock.
    await expect(pruneSecurityEvents(store.db, new Date(now.getTime() + 365 * DAY))).rejects.toThrow(/within the six months/);
    expect(await remainingAges()).toEqual(ages);
  });

  it('a DELETE, UPDATE or TRUNCATE outside the function is refused', async () => {
    for (const statement of [sql`delete from security_events where route = ${route}`, sql`update security_events set reason = 'X' where route = ${route}`, sql`truncate security_events`]) {
      const error = await refusal(() => statement.execute(store.db));
      expect(error?.message).toMatch(/append-only/);
    }
    expect(await remainingAges()).toEqual(ages);
  });

  it('removes only the events older than the retention, in batches, and counts them in /metrics', async () => {
    const registry = new Registry();
    const retention = createSecurityEventRetention(store.db, registry, 180);
    // Other suites' rows share no route with these; the oldest three go, in batches of one.
    expect(await pruneSecurityEvents(store.db, now, { batch: 1 })).toBeGreaterThanOrEqual(3);
    expect(await remainingAges()).toEqual([179, 30, 0]);
    expect(await retention(now)).toBe(0);
    expect(await registry.getSingleMetricAsString('isthmus_security_events_pruned_total')).toMatch(/isthmus_security_events_pruned_total 0$/m);
    await createSecurityEventStore(store.db).insert([{ at: new Date(now.getTime() - 500 * DAY), event: { kind: 'THROTTLED', reason: 'AUTH_THROTTLED', outcome: 'REFUSED', route } }]);
    expect(await retention(now)).toBe(1);
    expect(await registry.getSingleMetricAsString('isthmus_security_events_pruned_total')).toMatch(/isthmus_security_events_pruned_total 1$/m);
    expect(await remainingAges()).toEqual([179, 30, 0]);
  });

  it.runIf(target.name === 'postgres')('the gateway’s login can prune old events but cannot delete one itself, even with the function’s flag set', async () => {
    const login = `isthmus_se_${randomBytes(5).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    const { rows } = await sql<{ db: string }>`select current_database() as db`.execute(store.db);
    const url = new URL(target.serverUrl!);
    url.pathname = `/${rows[0]!.db}`;
    const admin = new pg.Client({ connectionString: url.toString() });
    await admin.connect();
    try {
      await admin.query(`create role ${login} login password '${password}'`);
      await admin.query(`grant ${GATEWAY_ROLE} to ${login}`);
      url.username = login;
      url.password = password;
      const gateway = new pg.Client({ connectionString: url.toString() });
      await gateway.connect();
      try {
        const failed = (statement: string) =>
          gateway.query(statement).then(
            () => undefined,
            (error: { code?: string }) => error.code,
          );
        expect(await failed(`delete from security_events where route = '${route}'`)).toBe('42501');
        expect(await failed(`begin; set local isthmus.security_events_prune = 'on'; delete from security_events where route = '${route}'`)).toBe('42501');
        await gateway.query('rollback');
        expect(await failed(`truncate security_events`)).toBe('42501');
        expect(await failed(`select security_events_prune(now() - interval '1 day', 100)`)).toBe('42501');
        await admin.query(`insert into security_events (id, occurred_at, kind, reason, outcome, route, detail) values ($1, now() - interval '300 days', 'TOKEN_REFUSED', 'TOKEN_MISSING', 'REFUSED', $2, '{}')`, [randomUUID(), route]);
        const pruned = await gateway.query<{ removed: number }>(`select security_events_prune(now() - interval '181 days', 100) as removed`);
        expect(pruned.rows[0]!.removed).toBeGreaterThanOrEqual(1);
        expect(await remainingAges()).toEqual([179, 30, 0]);
      } finally {
        await gateway.end();
      }
    } finally {
      await admin.query(`drop owned by ${login}`).catch(() => undefined);
      await admin.query(`drop role if exists ${login}`);
      await admin.end();
    }
  });
});
