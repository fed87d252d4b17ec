import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { Writable } from 'node:stream';
import { createLogger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import type { Store } from '../store/store.ts';
import { describeEachStore } from '../../test/support/describe-each-store.ts';
import { createSecurityEventStore, type SecurityEvent, type SecurityEventStore } from './security-event-store.ts';
import { createSecurityEventRecorder, MAX_SECURITY_EVENT_TEXT } from './security-events.ts';

const refused = (reason: string, extra: Partial<SecurityEvent> = {}): SecurityEvent => ({
  kind: 'TOKEN_REFUSED',
  reason,
  outcome: 'REFUSED',
  route: 'POST /graphql',
  clientAddress: '203.0.113.7',
  requestId: 'req-1',
  ...extra,
});

function quietLog() {
  const lines: string[] = [];
  const log = createLogger('warn', new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }));
  return { log, lines };
}

describeEachStore('security events on $name', (target) => {
  let store: Store;
  let events: SecurityEventStore;
  beforeAll(async () => {
    store = await target.open();
    events = createSecurityEventStore(store.db);
  });
  afterAll(() => store?.close());

  it('stores a batch and reads it back newest first, filtered by kind, reason and time, page by page', async () => {
    const t0 = new Date('2026-03-01T10:00:00Z');
    await events.insert([
      { at: t0, event: refused('TOKEN_EXPIRED') },
      { at: new Date(t0.getTime() + 1_000), event: refused('TOKEN_BAD_SIGNATURE', { issuer: 'https://forger.example', keyId: 'k1' }) },
      { at: new Date(t0.getTime() + 2_000), event: { kind: 'ADMIN_ACTION', reason: 'AGREEMENTS_APPROVE', outcome: 'DONE', route: 'POST /admin/api/agreements/:id/approve', bureau: 'hrss', user: 'li.na', detail: { target: 'agr-1' } } },
    ]);
    const all = await events.list({ from: t0, to: new Date(t0.getTime() + 3_000) });
    expect(all.items.map((item) => item.reason)).toEqual(['AGREEMENTS_APPROVE', 'TOKEN_BAD_SIGNATURE', 'TOKEN_EXPIRED']);
    expect(all.items[1]).toMatchObject({ kind: 'TOKEN_REFUSED', issuer: 'https://forger.example', keyId: 'k1', clientAddress: '203.0.113.7', requestId: 'req-1' });
    expect(all.items[0]).toMatchObject({ detail: { target: 'agr-1' }, user: 'li.na' });
    expect((await events.list({ kind: 'ADMIN_ACTION', from: t0 })).items.map((item) => item.reason)).toEqual(['AGREEMENTS_APPROVE']);
    expect((await events.list({ reason: 'TOKEN_EXPIRED', from: t0 })).items).toHaveLength(1);
    expect((await events.list({ from: t0, to: new Date(t0.getTime() + 1_000) })).items.map((item) => item.reason)).toEqual(['TOKEN_EXPIRED']);
    const first = await events.list({ from: t0, limit: 2 });
    expect(first.items).toHaveLength(2);
    const second = await events.list({ from: t0, limit: 2, cursor: first.nextCursor! });
    expect(second.items.map((item) => item.reason)).toEqual(['TOKEN_EXPIRED']);
    expect(second.nextCursor).toBeUndefined();
    await expect(events.list({ cursor: 'not-a-cursor' })).rejects.toThrow(RangeError);
  });

  it('is append-only at the database: update, delete and truncate are refused', async () => {
    await events.insert([{ at: new Date(), event: refused('TOKEN_MALFORMED') }]);
    await expect(sql`update security_events set reason = 'NOTHING'`.execute(store.db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from security_events`.execute(store.db)).rejects.toThrow(/append-only/);
    await expect(sql`truncate security_events`.execute(store.db)).rejects.toThrow(/append-only/);
    expect((await events.list({ reason: 'TOKEN_MALFORMED' })).items).toHaveLength(1);
  });

  it("grants the gateway's role select and insert only", async () => {
    const role = await sql<{ exists: boolean }>`select exists (select 1 from pg_roles where rolname = 'isthmus_gateway') as exists`.execute(store.db);
    expect(role.rows[0]!.exists).toBe(true);
    const privileges = await sql<{ privilege: string; held: boolean }>`
      select p as privilege, has_table_privilege('isthmus_gateway', 'security_events', p) as held
      from unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) as p`.execute(store.db);
    expect(Object.fromEntries(privileges.rows.map((row) => [row.privilege, row.held]))).toEqual({ SELECT: true, INSERT: true, UPDATE: false, DELETE: false, TRUNCATE: false });
  });

  it('the recorder writes in batches off the caller, cuts long claimed text, and counts every event', async () => {
    const metrics = createMetrics();
    const { log } = quietLog();
    const recorder = createSecurityEventRecorder({ store: events, metrics, log, flushMs: 60_000 });
    const longIssuer = `https://${'x'.repeat(1_000)}.example`;
    recorder.record(refused('TOKEN_UNKNOWN_ISSUER', { issuer: longIssuer, requestId: 'req-batch' }));
    recorder.record(refused('TOKEN_UNKNOWN_ISSUER', { requestId: 'req-batch' }));
    expect((await events.list({ reason: 'TOKEN_UNKNOWN_ISSUER' })).items).toHaveLength(0);
    await recorder.close();
    const stored = (await events.list({ reason: 'TOKEN_UNKNOWN_ISSUER' })).items;
    expect(stored).toHaveLength(2);
    expect(stored.find((item) => item.issuer !== undefined)!.issuer).toHaveLength(MAX_SECURITY_EVENT_TEXT);
    expect(await metrics.registry.getSingleMetricAsString('isthmus_security_events_total')).toContain('isthmus_security_events_total{kind="TOKEN_REFUSED",reason="TOKEN_UNKNOWN_ISSUER"} 2');
  });
});

describe('the security event recorder under a flood', () => {
  it('holds at most its queue, counts and logs what it drops, and stores the rest', async () => {
    const inserted: number[] = [];
    const metrics = createMetrics();
    const { log, lines } = quietLog();
    const recorder = createSecurityEventRecorder({ store: { insert: async (batch) => void inserted.push(batch.length) }, metrics, log, maxQueue: 100, maxBatch: 40, flushMs: 60_000 });
    for (let i = 0; i < 1_000; i += 1) recorder.record(refused('TOKEN_BAD_SIGNATURE'));
    await recorder.close();
    expect(inserted).toEqual([40, 40, 20]);
    expect(await metrics.registry.getSingleMetricAsString('isthmus_security_events_dropped_total')).toContain('isthmus_security_events_dropped_total 900');
    expect(lines.filter((line) => line.includes('security events dropped'))).toHaveLength(1);
    expect(lines.find((line) => line.includes('security events dropped'))).toContain('"dropped":900');
  });

  it('a failed insert loses that batch, counted, and the recorder goes on', async () => {
    let fail = true;
    const stored: string[] = [];
    const metrics = createMetrics();
    const { log, lines } = quietLog();
    const recorder = createSecurityEventRecorder({
      store: {
        insert: async (batch) => {
          if (fail) throw new Error('database away');
          stored.push(...batch.map((one) => one.event.reason));
        },
      },
      metrics,
      log,
      flushMs: 60_000,
    });
    recorder.record(refused('TOKEN_EXPIRED'));
    await recorder.flush();
    fail = false;
    recorder.record(refused('TOKEN_MALFORMED'));
    await recorder.close();
    expect(stored).toEqual(['TOKEN_MALFORMED']);
    expect(await metrics.registry.getSingleMetricAsString('isthmus_security_events_dropped_total')).toContain('isthmus_security_events_dropped_total 1');
    expect(lines.some((line) => line.includes('security events not stored'))).toBe(true);
  });
});
