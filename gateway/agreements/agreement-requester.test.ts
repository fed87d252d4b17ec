import { afterAll, beforeAll, expect, it } from 'vitest';
import { approveAgreement } from '../../policies/agreement-lifecycle.ts';
import type { Principal } from '../../policies/principal.ts';
import type { Store } from '../store/store.ts';
import { describeEachStore } from '../../test/support/describe-each-store.ts';
import { demoCatalogue, people, principal, storePending } from '../../test/support/agreement-fixtures.ts';
import { createAgreementStore, type AgreementStore } from './agreement-store.ts';

const friday = new Date('2026-03-06T10:00:00Z');

describeEachStore('the requester’s stable identity survives the store, on $name', (target) => {
  let store: Store;
  let agreements: AgreementStore;
  beforeAll(async () => {
    store = await target.open();
    agreements = createAgreementStore(store.db);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('reads back issuer and subject from the request’s event, so the same account under another user id cannot approve', async () => {
    const id = `agr-requester-${target.name}-${Date.now()}`;
    await storePending(agreements, id, friday);
    const found = await agreements.get(id);
    expect(found?.agreement.requester).toEqual({ issuer: people.requester.issuer, subject: people.requester.subject });
    const sameAccount: Principal = { ...principal('li.officer', 'public-security', ['data_officer']), issuer: people.requester.issuer, subject: people.requester.subject };
    expect(approveAgreement(found!.agreement, sameAccount, {}, friday, demoCatalogue())).toMatchObject({ ok: false, code: 'FORBIDDEN', rule: 'SEPARATION_OF_DUTIES' });
    const approved = approveAgreement(found!.agreement, people.providerOfficer, {}, friday, demoCatalogue());
    if (!approved.ok) throw new Error(approved.message);
    await agreements.transition(approved);
    // Every later version keeps it: it is read from the request, not from the latest step.
    expect((await agreements.get(id))?.agreement.requester).toEqual({ issuer: people.requester.issuer, subject: people.requester.subject });
  });
});
