import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAccessLogWriter } from './access-log-writer.ts';
import { readAgreementUse } from './agreement-use.ts';
import type { Store } from '../store/store.ts';
import { describeEachStore } from '../../test/support/describe-each-store.ts';
import { createTestSigner, sampleEntry } from '../../test/support/access-log-fixtures.ts';

describeEachStore('agreement use on $name', (target) => {
  let store: Store;
  const agreement = `agr-use-${randomUUID().slice(0, 8)}`;
  /** Shanghai dates: 23:30 UTC on the 9th is already the 10th in the city. */
  const from = new Date('2026-03-08T16:00:00Z');
  const until = new Date('2026-03-11T16:00:00Z');

  beforeAll(async () => {
    store = await target.open();
    // The writer accepts entries of its own day only: its clock walks along with the entries, appended one by one.
    let clock = new Date('2026-03-09T02:00:00Z');
    const writer = createAccessLogWriter({ db: store.db, chainId: `gw-${randomUUID()}`, signer: await createTestSigner(), now: () => clock });
    await writer.ready();
    const read = (occurredAt: string, clientApp: string, more: Partial<Parameters<typeof sampleEntry>[0]> = {}) => async () => {
      clock = new Date(occurredAt);
      await writer.append(sampleEntry({ occurredAt: clock, clientApp, agreementIds: [agreement], ...more }));
    };
    for (const append of [
      read('2026-03-09T02:00:00Z', 'loan-review'),
      read('2026-03-09T03:00:00Z', 'loan-review'),
      read('2026-03-09T04:00:00Z', 'fund-app'),
      read('2026-03-09T23:30:00Z', 'loan-review'), // 10 March in Shanghai
      read('2026-03-10T05:00:00Z', 'loan-review', { outcome: 'PARTIAL' }),
      read('2026-03-10T06:00:00Z', 'loan-review', { outcome: 'DENIED' }), // no data left: not a use
      read('2026-03-10T07:00:00Z', 'loan-review', { action: 'LOG_READ' }),
      read('2026-03-10T08:00:00Z', 'loan-review', { agreementIds: ['agr-another'] }),
      read('2026-03-12T02:00:00Z', 'loan-review'), // after the span
    ])
      await append();
    await writer.close();
  });
  afterAll(async () => {
    await store?.close();
  });

  it('counts the reads that got data under the agreement, per Shanghai day and consumer app', async () => {
    expect(await readAgreementUse(store.db, agreement, { from, until }, AbortSignal.timeout(5_000))).toEqual([
      { day: '2026-03-09', clientApp: 'fund-app', reads: 1 },
      { day: '2026-03-09', clientApp: 'loan-review', reads: 2 },
      { day: '2026-03-10', clientApp: 'loan-review', reads: 2 },
    ]);
  });

  it('finds nothing for an agreement without reads, and refuses an unbounded span', async () => {
    expect(await readAgreementUse(store.db, 'agr-unused', { from, until })).toEqual([]);
    await expect(readAgreementUse(store.db, agreement, { from: until, until: from })).rejects.toThrow(RangeError);
    await expect(readAgreementUse(store.db, agreement, { from: new Date('2020-01-01'), until })).rejects.toThrow(RangeError);
  });
});
