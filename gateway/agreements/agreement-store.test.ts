import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { Store } from '../store/store.ts';
import { describeEachStore } from '../../test/support/describe-each-store.ts';
import { demoCatalogue, people, requestBody, storeActive, storePending } from '../../test/support/agreement-fixtures.ts';
import { waitFor } from '../../test/support/wait-for.ts';
import { approveAgreement, rejectAgreement, requestAgreement, revokeAgreement, submitAgreement } from '../../policies/agreement-lifecycle.ts';
import { AGREEMENTS_CHANNEL, createAgreementStore, type AgreementStore } from './agreement-store.ts';

const catalogue = demoCatalogue();
/** Friday 6 March 2026, 10:00 UTC. */
const friday = new Date('2026-03-06T10:00:00Z');

describeEachStore('agreement store on $name', (target) => {
  let store: Store;
  let agreements: AgreementStore;
  beforeAll(async () => {
    store = await target.open();
    agreements = createAgreementStore(store.db);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('keeps every version with its event, and counts changes of the set', async () => {
    const before = await agreements.setVersion();
    const draft = requestAgreement(people.requester, { ...requestBody({ validFrom: friday.toISOString(), disclosureDelay: { days: 30, legalReason: '《刑事诉讼法》第一百五十二条' } }), id: 'agr-life' }, friday, catalogue);
    if (!draft.ok) throw new Error(draft.message);
    const created = await agreements.create(draft);
    expect(created).toMatchObject({ agreementId: 'agr-life', version: 1, action: 'CREATE', setVersion: before + 1 });

    const submitted = submitAgreement(draft.agreement, people.consumerOfficer, {}, friday, catalogue);
    if (!submitted.ok) throw new Error(submitted.message);
    await agreements.transition(submitted);
    const approved = approveAgreement(submitted.agreement, people.providerOfficer, {}, friday, catalogue);
    if (!approved.ok) throw new Error(approved.message);
    await agreements.transition(approved);
    const revoked = revokeAgreement(approved.agreement, people.otherProviderOfficer, { reason: 'The pension review closed; no further reads are needed.' }, friday);
    if (!revoked.ok) throw new Error(revoked.message);
    const last = await agreements.transition(revoked);
    expect(last.setVersion).toBe(before + 4);

    const found = await agreements.get('agr-life');
    expect(found?.agreement).toEqual(revoked.agreement);
    expect(found?.events.map((event) => [event.version, event.action, event.actor.user, event.agreement.status])).toEqual([
      [1, 'CREATE', 'u-wang', 'DRAFT'],
      [2, 'SUBMIT', 'u-zhao', 'PENDING'],
      [3, 'APPROVE', 'u-li', 'ACTIVE'],
      [4, 'REVOKE', 'u-sun', 'REVOKED'],
    ]);
    expect(found?.events[3]).toMatchObject({ reason: 'The pension review closed; no further reads are needed.', actor: { bureau: 'public-security', roles: ['data_officer'] } });
    expect(found?.events[0]?.agreement.disclosureDelay).toEqual({ days: 30, legalReason: '《刑事诉讼法》第一百五十二条' });
    expect(await agreements.setVersion()).toBe(before + 4);
  });

  it('keeps the operations an agreement pins, in the row, in every version and in the snapshot of the agreements in force', async () => {
    const pinned = [`sha256:${'1'.repeat(64)}`, `sha256:${'2'.repeat(64)}`];
    const draft = requestAgreement(people.requester, { ...requestBody({ validFrom: friday.toISOString() }), id: 'agr-pinned', operations: pinned, submit: true }, friday, catalogue);
    if (!draft.ok) throw new Error(draft.message);
    await agreements.create(draft);
    const approved = approveAgreement(draft.agreement, people.providerOfficer, {}, friday, catalogue);
    if (!approved.ok) throw new Error(approved.message);
    await agreements.transition(approved);
    const found = await agreements.get('agr-pinned');
    expect(found?.agreement.operations).toEqual(pinned);
    expect(found?.agreement).toEqual(approved.agreement);
    expect(found?.events.map((event) => event.agreement.operations)).toEqual([pinned, pinned]);
    expect((await agreements.activeSnapshot(friday)).agreements.find((agreement) => agreement.id === 'agr-pinned')?.operations).toEqual(pinned);
    // One that pins none reads back without the term; the database refuses an empty list.
    const plain = await storePending(agreements, 'agr-unpinned', friday);
    expect('operations' in ((await agreements.get('agr-unpinned'))?.agreement ?? plain)).toBe(false);
    await expect(sql`update agreements set operations = '[]'::jsonb where id = 'agr-unpinned'`.execute(store.db)).rejects.toThrow(/agreements_operations_pinned/);
  });

  it('refuses a change decided on a version that moved on (optimistic CONFLICT)', async () => {
    const pending = await storePending(agreements, 'agr-race', friday);
    const approve = approveAgreement(pending, people.providerOfficer, {}, friday, catalogue);
    const reject = rejectAgreement(pending, people.otherProviderOfficer, { reason: 'Duplicate of an agreement already in force.' }, friday);
    if (!approve.ok || !reject.ok) throw new Error('fixture');
    const outcomes = await Promise.allSettled([agreements.transition(approve), agreements.transition(reject)]);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const failure = outcomes.find((outcome) => outcome.status === 'rejected');
    expect(failure?.status === 'rejected' && failure.reason).toMatchObject({ code: 'CONFLICT' });
    const found = await agreements.get('agr-race');
    expect(found?.events).toHaveLength(2);
    expect(found?.agreement.version).toBe(2);
  });

  it('refuses a second agreement with the same id', async () => {
    const first = requestAgreement(people.requester, { ...requestBody({ validFrom: friday.toISOString() }), id: 'agr-twice' }, friday, catalogue);
    if (!first.ok) throw new Error(first.message);
    await agreements.create(first);
    await expect(agreements.create(first)).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('lists with filters and pages through everything once', async () => {
    await storePending(agreements, 'agr-list-1', friday);
    await storeActive(agreements, 'agr-list-2', friday);
    await storePending(agreements, 'agr-list-3', new Date('2026-02-02T10:00:00Z'));
    const pending = await agreements.list({ status: 'PENDING', limit: 200 });
    expect(pending.items.every((agreement) => agreement.status === 'PENDING')).toBe(true);
    expect(pending.items.map((agreement) => agreement.id)).toEqual(expect.arrayContaining(['agr-list-1', 'agr-list-3']));

    const overdue = await agreements.list({ overdue: true, now: friday });
    expect(overdue.items.map((agreement) => agreement.id)).toEqual(['agr-list-3']);

    expect((await agreements.list({ provider: 'market-supervision' })).items).toEqual([]);
    expect((await agreements.list({ involving: 'market-supervision' })).items).toEqual([]);
    expect((await agreements.list({ consumer: 'human-resources-social-security', status: 'ACTIVE' })).items.map((agreement) => agreement.id)).toContain('agr-list-2');

    const all = (await agreements.list({ limit: 200 })).items.map((agreement) => agreement.id);
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await agreements.list({ limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(2);
      paged.push(...page.items.map((agreement) => agreement.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(paged).toEqual(all);
    await expect(agreements.list({ cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'BAD_CURSOR' });
  });

  it('audits by actor, agreement, bureau and time, newest first', async () => {
    await storeActive(agreements, 'agr-audit', new Date('2026-03-02T09:00:00Z'));
    const byAgreement = await agreements.audit({ agreementId: 'agr-audit' });
    expect(byAgreement.items.map((event) => event.action)).toEqual(['APPROVE', 'SUBMIT']);
    const byActor = await agreements.audit({ actor: 'u-li', agreementId: 'agr-audit' });
    expect(byActor.items.map((event) => event.action)).toEqual(['APPROVE']);
    expect((await agreements.audit({ bureau: 'market-supervision' })).items).toEqual([]);
    const inWindow = await agreements.audit({ from: new Date('2026-03-02T00:00:00Z'), until: new Date('2026-03-03T00:00:00Z') });
    expect(inWindow.items.map((event) => event.agreementId)).toEqual(['agr-audit', 'agr-audit']);
    const first = await agreements.audit({ limit: 1, bureau: 'public-security' });
    expect(first.nextCursor).toBeDefined();
    const second = await agreements.audit({ limit: 1, bureau: 'public-security', cursor: first.nextCursor! });
    expect(second.items[0]!.id).toBeLessThan(first.items[0]!.id);
  });

  it('gives a snapshot of the active agreements whose window has not ended, with the set version', async () => {
    await storeActive(agreements, 'agr-snap-now', friday);
    await storeActive(agreements, 'agr-snap-later', friday, { validFrom: '2026-06-01T00:00:00Z', validUntil: '2026-09-01T00:00:00Z' });
    await storeActive(agreements, 'agr-snap-short', friday, { validUntil: '2026-03-20T00:00:00Z' });
    const snapshot = await agreements.activeSnapshot(new Date('2026-04-01T00:00:00Z'));
    expect(snapshot.version).toBe(await agreements.setVersion());
    const ids = snapshot.agreements.map((agreement) => agreement.id);
    expect(ids).toEqual(expect.arrayContaining(['agr-snap-now', 'agr-snap-later']));
    expect(ids).not.toContain('agr-snap-short');
    expect(snapshot.agreements.every((agreement) => agreement.status === 'ACTIVE')).toBe(true);
  });

  it('expires agreements past their window once, with an event each', async () => {
    await storeActive(agreements, 'agr-expiring', friday, { validUntil: '2026-03-10T00:00:00Z' });
    const at = new Date('2026-03-10T00:00:00Z');
    const expired = await agreements.expireDue(at);
    expect(expired.map((agreement) => agreement.id)).toContain('agr-expiring');
    expect(await agreements.expireDue(at)).toEqual([]);
    const found = await agreements.get('agr-expiring');
    expect(found?.agreement.status).toBe('EXPIRED');
    expect(found?.events.at(-1)).toMatchObject({ action: 'EXPIRE', actor: { user: 'system:isthmus' } });
  });

  it('keeps the history append-only at the database', async () => {
    await storePending(agreements, 'agr-evidence', friday);
    await expect(sql`update agreement_events set reason = 'edited' where agreement_id = 'agr-evidence'`.execute(store.db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from agreement_events where agreement_id = 'agr-evidence'`.execute(store.db)).rejects.toThrow(/append-only/);
    expect((await agreements.get('agr-evidence'))?.events).toHaveLength(1);
  });

  it('announces each change with the new set version, on commit only', async () => {
    const heard: string[] = [];
    const unlisten = await store.listen(AGREEMENTS_CHANNEL, (payload) => heard.push(payload));
    try {
      await storePending(agreements, 'agr-notify', friday);
      const version = await agreements.setVersion();
      await waitFor(() => heard.includes(String(version)), { what: 'the change is announced' });
      // A change that fails (a duplicate id) rolls back, and with it its notification.
      const again = requestAgreement(people.requester, { ...requestBody({ validFrom: friday.toISOString() }), id: 'agr-notify' }, friday, catalogue);
      if (!again.ok) throw new Error(again.message);
      await expect(agreements.create(again)).rejects.toMatchObject({ code: 'CONFLICT' });
      // Notifications arrive in commit order: once one sent after the failed change is heard, its own would have been too.
      await sql`select pg_notify(${AGREEMENTS_CHANNEL}, 'after-the-failed-change')`.execute(store.db);
      await waitFor(() => heard.includes('after-the-failed-change'), { what: 'the notification sent after the failed change is heard' });
      expect(heard).toEqual([String(version), 'after-the-failed-change']);
      expect(await agreements.setVersion()).toBe(version);
    } finally {
      await unlisten();
    }
  });
});
