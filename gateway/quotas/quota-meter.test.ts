import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Store } from '../store/store.ts';
import { describeEachStore } from '../../test/support/describe-each-store.ts';
import { storeActive } from '../../test/support/agreement-fixtures.ts';
import { createAgreementStore } from '../agreements/agreement-store.ts';
import { createQuotaStore } from './quota-store.ts';
import { createQuotaMeter } from './quota-meter.ts';
import { readQuotaUse } from './quota-use.ts';
import type { Agreement } from '../../policies/agreement.ts';

describeEachStore('agreement quotas on $name', (target) => {
  let store: Store;
  beforeAll(async () => {
    store = await target.open();
  });
  afterAll(() => store?.close());

  const active = async (id: string, quota: Agreement['quota'], now: Date): Promise<Agreement> => {
    const agreements = createAgreementStore(store.db);
    const agreement = await storeActive(agreements, id, now, { quota });
    expect((await agreements.get(id))?.agreement.quota).toEqual(quota);
    return agreement;
  };

  it('stores the quota term and reads it back; an agreement without one has no quota key', async () => {
    const now = new Date();
    await active(`agr-q-${Date.now().toString(16)}a`, { requestsPerMinute: 7, recordsPerDay: 300 }, now);
    const plain = await storeActive(createAgreementStore(store.db), `agr-q-${Date.now().toString(16)}b`, now);
    expect('quota' in ((await createAgreementStore(store.db).get(plain.id))?.agreement ?? {})).toBe(false);
  });

  it('two replicas sharing the store admit at most the limit in a minute between them', async () => {
    const now = new Date('2030-06-01T10:15:10Z');
    const agreement = await active(`agr-q-${Date.now().toString(16)}c`, { requestsPerMinute: 40 }, new Date());
    const quotaStore = createQuotaStore(store.db);
    const replicas = [createQuotaMeter({ store: quotaStore, leaseBlock: 10 }), createQuotaMeter({ store: quotaStore, leaseBlock: 10 })];
    const answers = await Promise.all(Array.from({ length: 100 }, (_, index) => replicas[index % 2]!.admit([agreement], now)));
    const admitted = answers.filter((answer) => answer === undefined).length;
    // Leases are capped at the limit in the store: no overshoot; at most a block per replica is lost (40 / 10 = 4 a block).
    expect(admitted).toBeLessThanOrEqual(40);
    expect(admitted).toBeGreaterThanOrEqual(40 - 2 * 4);
    const refusal = answers.find((answer) => answer !== undefined);
    expect(refusal).toEqual({ agreementId: agreement.id, kind: 'requestsPerMinute', limit: 40, retryAfterSeconds: 50 });
    expect((await readQuotaUse(quotaStore, agreement, now))?.requestsPerMinute).toEqual({ used: 40, limit: 40, windowStart: '2030-06-01T10:15:00.000Z', windowEnd: '2030-06-01T10:16:00.000Z' });
    // The next minute opens again.
    expect(await replicas[0]!.admit([agreement], new Date('2030-06-01T10:16:00Z'))).toBeUndefined();
  });

  it('records per day: the request that crosses the limit is served, the ones after it are refused until the day in Shanghai ends', async () => {
    const now = new Date('2030-06-01T15:00:00Z');
    const agreement = await active(`agr-q-${Date.now().toString(16)}d`, { recordsPerDay: 25 }, new Date());
    const quotaStore = createQuotaStore(store.db);
    const meter = createQuotaMeter({ store: quotaStore, leaseBlock: 10 });
    const records = (count: number) => new Map([[agreement.id, count]]);
    for (let index = 0; index < 2; index += 1) {
      expect(await meter.admit([agreement], now)).toBeUndefined();
      meter.spend([agreement], records(10), now);
    }
    // 20 of 25 spent: admitted, and it returns 10 records, crossing the limit.
    expect(await meter.admit([agreement], now)).toBeUndefined();
    meter.spend([agreement], records(10), now);
    await expect.poll(() => meter.admit([agreement], now)).toEqual({ agreementId: agreement.id, kind: 'recordsPerDay', limit: 25, retryAfterSeconds: 3_600 });
    // Another replica, which never leased, is refused by the store.
    expect(await createQuotaMeter({ store: quotaStore, leaseBlock: 10 }).admit([agreement], now)).toMatchObject({ kind: 'recordsPerDay' });
    expect((await readQuotaUse(quotaStore, agreement, now))?.recordsPerDay?.used).toBe(25);
    expect(await meter.admit([agreement], new Date('2030-06-01T16:00:00Z'))).toBeUndefined();
  });

  it('records per day under concurrency: spends that overlap their leases never make a day look used up (regression: 90 requests used up 10,000,000)', async () => {
    const now = new Date('2030-06-02T03:00:00Z');
    const agreement = await active(`agr-q-${Date.now().toString(16)}e`, { recordsPerDay: 1_000_000 }, new Date());
    const quotaStore = createQuotaStore(store.db);
    const meter = createQuotaMeter({ store: quotaStore, leaseBlock: 10 });
    // 64 clients at once, each admitted and then spending 3 records, four times over: 768 records of a million.
    for (let round = 0; round < 4; round += 1) {
      const answers = await Promise.all(
        Array.from({ length: 64 }, async () => {
          const refusal = await meter.admit([agreement], now);
          if (!refusal) meter.spend([agreement], new Map([[agreement.id, 3]]), now);
          return refusal;
        }),
      );
      expect(answers.filter(Boolean)).toEqual([]);
    }
    await expect.poll(async () => (await readQuotaUse(quotaStore, agreement, now))?.recordsPerDay?.used).toBeGreaterThanOrEqual(768);
    expect(await meter.admit([agreement], now)).toBeUndefined();
    // Leased in blocks, never far past what was spent.
    expect((await readQuotaUse(quotaStore, agreement, now))?.recordsPerDay?.used).toBeLessThan(768 + 64 * 10);
  });

  it('records per day under concurrency: records spent while a lease is on its way never refuse a request the store has units for', async () => {
    const now = new Date('2030-06-03T03:00:00Z');
    const agreement = await active(`agr-q-${Date.now().toString(16)}f`, { recordsPerDay: 1_000_000 }, new Date());
    const meter = createQuotaMeter({ store: createQuotaStore(store.db), leaseBlock: 10 });
    // 32 clients, each admitted and spending 40 records 20 times in a row, as a loaded gateway's list requests do.
    const refusals = await Promise.all(
      Array.from({ length: 32 }, async () => {
        let refused = 0;
        for (let index = 0; index < 20; index += 1) {
          if (await meter.admit([agreement], now)) refused += 1;
          else meter.spend([agreement], new Map([[agreement.id, 40]]), now);
        }
        return refused;
      }),
    );
    expect(refusals.reduce((sum, count) => sum + count, 0)).toBe(0);
  });
});
