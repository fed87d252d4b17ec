import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Store } from '../store/store.ts';
import type { Agreement } from '../../policies/agreement.ts';
import { describeEachStore } from '../../test/support/describe-each-store.ts';
import { storeActive } from '../../test/support/agreement-fixtures.ts';
import { waitFor } from '../../test/support/wait-for.ts';
import { createAgreementStore, type AgreementStore } from './agreement-store.ts';
import { startAgreementExpiry } from './agreement-expiry.ts';

const created = new Date('2026-03-06T10:00:00Z');

describeEachStore('agreement expiry on $name', (target) => {
  let store: Store;
  let agreements: AgreementStore;
  beforeAll(async () => {
    store = await target.open();
    agreements = createAgreementStore(store.db);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('records EXPIRED on its own schedule once the window has ended', async () => {
    await storeActive(agreements, 'agr-exp-due', created, { validUntil: '2026-03-31T00:00:00Z' });
    await storeActive(agreements, 'agr-exp-later', created, { validUntil: '2026-12-31T00:00:00Z' });
    const heard: Agreement[] = [];
    const expiry = startAgreementExpiry({ agreements, intervalMs: 50, now: () => new Date('2026-04-01T00:00:00Z'), onExpired: (list) => heard.push(...list) });
    try {
      await waitFor(() => heard.some((agreement) => agreement.id === 'agr-exp-due'), { what: 'the sweep reports agr-exp-due expired' });
      expect(heard.map((agreement) => agreement.id)).not.toContain('agr-exp-later');
      expect((await agreements.get('agr-exp-due'))?.agreement.status).toBe('EXPIRED');
      expect((await agreements.get('agr-exp-later'))?.agreement.status).toBe('ACTIVE');
      expect(await expiry.sweep()).toEqual([]);
    } finally {
      expiry.close();
    }
  });
});
