import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../store/store.ts';
import { createScratchDatabase } from '../../test/support/test-stores.ts';
import { describeEachStore } from '../../test/support/describe-each-store.ts';
import { people, storeActive } from '../../test/support/agreement-fixtures.ts';
import { waitFor } from '../../test/support/wait-for.ts';
import { revokeAgreement } from '../../policies/agreement-lifecycle.ts';
import type { Agreement } from '../../policies/agreement.ts';
import { createAgreementStore, type AgreementStore } from './agreement-store.ts';
import { createAgreementRegistry, type AgreementRegistry } from './agreement-registry.ts';

const created = new Date('2026-03-06T10:00:00Z');
/** Inside the fixtures' window (March 2026 – March 2027), whatever today is. */
const inWindow = new Date('2026-04-01T00:00:00Z');
const clock = () => inWindow;

async function revoke(agreements: AgreementStore, agreement: Agreement): Promise<void> {
  const result = revokeAgreement(agreement, people.otherProviderOfficer, { reason: 'Misuse reported by the pension fund auditor.' }, inWindow);
  if (!result.ok) throw new Error(result.message);
  await agreements.transition(result);
}

function holds(registry: AgreementRegistry, id: string): boolean {
  return registry.current().agreements.some((agreement) => agreement.id === id);
}

describeEachStore('agreement registry on $name', (target) => {
  let store: Store;
  let agreements: AgreementStore;
  beforeAll(async () => {
    store = await target.open();
    agreements = createAgreementStore(store.db);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('loads the agreements in force, and drops a revoked one by notification alone', async () => {
    const agreement = await storeActive(agreements, 'agr-reg-notify', created);
    const registry = await createAgreementRegistry({ agreements, listen: store.listen, pollIntervalMs: 0, now: clock });
    try {
      expect(holds(registry, 'agr-reg-notify')).toBe(true);
      expect(registry.current().version).toBe(await agreements.setVersion());
      await revoke(agreements, agreement);
      await waitFor(() => !holds(registry, 'agr-reg-notify'), { what: 'the registry drops the revoked agreement on notification' });
      expect(registry.current().version).toBe(await agreements.setVersion());
    } finally {
      await registry.close();
    }
  });

  it('drops a revoked one by polling alone when no notification comes', async () => {
    const agreement = await storeActive(agreements, 'agr-reg-poll', created);
    const registry = await createAgreementRegistry({ agreements, pollIntervalMs: 250, now: clock });
    try {
      expect(holds(registry, 'agr-reg-poll')).toBe(true);
      await revoke(agreements, agreement);
      await waitFor(() => !holds(registry, 'agr-reg-poll'), { what: 'the registry drops the revoked agreement by polling' });
    } finally {
      await registry.close();
    }
  });

  it('lets time move agreements in and out of force without a database change', async () => {
    let time = new Date('2026-05-31T23:59:59Z');
    await storeActive(agreements, 'agr-reg-window', created, { validFrom: '2026-06-01T00:00:00Z', validUntil: '2026-07-01T00:00:00Z' });
    const registry = await createAgreementRegistry({ agreements, pollIntervalMs: 0, now: () => time });
    try {
      const before = registry.current();
      expect(holds(registry, 'agr-reg-window')).toBe(false);
      expect(before.stableUntil).toBeLessThanOrEqual(Date.parse('2026-06-01T00:00:00Z'));
      time = new Date('2026-06-01T00:00:00Z');
      expect(holds(registry, 'agr-reg-window')).toBe(true);
      expect(registry.current().version).toBe(before.version);
      time = new Date('2026-07-01T00:00:00Z');
      expect(holds(registry, 'agr-reg-window')).toBe(false);
    } finally {
      await registry.close();
    }
  });

  it('stops refreshing once closed', async () => {
    const registry = await createAgreementRegistry({ agreements, listen: store.listen, pollIntervalMs: 50, now: clock });
    const version = registry.current().version;
    await registry.close();
    await storeActive(agreements, 'agr-reg-closed', created);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(registry.current().version).toBe(version);
    expect(holds(registry, 'agr-reg-closed')).toBe(false);
  });
});

describe.runIf(process.env.DATABASE_URL)('agreement registries in two gateway processes on one PostgreSQL', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let first: Store;
  let second: Store;
  beforeAll(async () => {
    scratch = await createScratchDatabase(process.env.DATABASE_URL!);
    first = await openStore({ kind: 'postgres', url: scratch.url, poolSize: 2 });
    await first.migrate();
    second = await openStore({ kind: 'postgres', url: scratch.url, poolSize: 2 });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
    await scratch?.drop();
  });

  it.each([
    ['LISTEN/NOTIFY', { pollIntervalMs: 0, listening: true }],
    ['the poll fallback', { pollIntervalMs: 300, listening: false }],
  ] as const)('a revocation in one process reaches the other through %s', async (_how, { pollIntervalMs, listening }) => {
    const writer = createAgreementStore(first.db);
    const id = `agr-two-${listening ? 'notify' : 'poll'}`;
    const agreement = await storeActive(writer, id, created);
    const here = await createAgreementRegistry({ agreements: writer, listen: first.listen, pollIntervalMs, now: clock });
    const there = await createAgreementRegistry({ agreements: createAgreementStore(second.db), ...(listening ? { listen: second.listen } : {}), pollIntervalMs, now: clock });
    try {
      expect(holds(here, id) && holds(there, id)).toBe(true);
      await revoke(writer, agreement);
      await waitFor(() => !holds(there, id) && !holds(here, id), { what: 'both registries drop the revoked agreement' });
      expect(there.current().version).toBe(here.current().version);
    } finally {
      await here.close();
      await there.close();
    }
  });
});
