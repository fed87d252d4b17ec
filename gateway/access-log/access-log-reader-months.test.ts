import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAccessLogWriter, type AccessLogWriter } from './access-log-writer.ts';
import { readAccessLog, type AccessLogReadResult } from './access-log-reader.ts';
import type { AccessLogEntryInput } from './access-log-entry.ts';
import type { Principal } from '../../policies/principal.ts';
import type { Store } from '../store/store.ts';
import { describeEachStore } from '../../test/support/describe-each-store.ts';
import { sampleEntry } from '../../test/support/access-log-fixtures.ts';

const DAY = 86_400_000;
const RARE = 'cultural-heritage';
const BUSY = 'public-security';
const NEW = 'port-authority';

function principal(overrides: Partial<Principal>): Principal {
  return { issuer: 'https://idp.test', subject: randomUUID(), bureau: 'city-office', app: 'console', roles: [], scopes: [], expiresAt: 4_102_444_800, ...overrides };
}
const officerOf = (bureau: string) => principal({ roles: ['data_officer'], bureau, user: `officer-${bureau}` });
const auditor = principal({ roles: ['auditor'], user: 'audit-zhao' });

// Pages of a bureau's entries that cross monthly partitions and empty months, newest first (issue 14:
// the partitioned plans of the officer's and the auditor's pages, measured in bench/access-log-scale.ts).
describeEachStore('access log pages across months on $name', (target) => {
  let store: Store;
  let writer: AccessLogWriter;
  const now = Date.now();
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    store = await target.open();
    // The writer accepts entries of its own day only: its clock walks through the months with them.
    let clock = now - 100 * DAY;
    writer = createAccessLogWriter({ db: store.db, chainId: `gw-${randomUUID()}`, now: () => new Date(clock) });
    const seeds: Record<string, Partial<AccessLogEntryInput>> = {
      old: { occurredAt: new Date(now - 100 * DAY), consumerBureau: 'housing-fund', providerBureaus: [RARE] },
      mid1: { occurredAt: new Date(now - 41 * DAY), consumerBureau: RARE, providerBureaus: [BUSY] },
      mid2: { occurredAt: new Date(now - 40 * DAY), consumerBureau: 'market-supervision', providerBureaus: [BUSY, RARE] },
      recent: { occurredAt: new Date(now - 60 * 60_000), consumerBureau: RARE, providerBureaus: [BUSY] },
    };
    for (const [name, seed] of Object.entries(seeds)) {
      clock = seed.occurredAt!.getTime();
      ids[name] = (await writer.append(sampleEntry(seed))).id;
    }
    // The newest entries are all someone else's.
    for (let i = 0; i < 5; i += 1) {
      clock = now - (5 - i) * 60_000;
      await writer.append(sampleEntry({ occurredAt: new Date(clock), consumerBureau: 'market-supervision', providerBureaus: [BUSY] }));
    }
  });
  afterAll(async () => {
    await writer?.close();
    await store?.close();
  });

  const names = (result: AccessLogReadResult) => result.items.map((item) => Object.entries(ids).find(([, id]) => id === item.id)?.[0] ?? 'other');

  it("pages through a bureau's entries from month to month, newest first, each once", async () => {
    const first = await readAccessLog(store.db, officerOf(RARE), {}, { limit: 2 });
    expect(names(first)).toEqual(['recent', 'mid2']);
    expect(first.nextCursor).toBeDefined();
    const second = await readAccessLog(store.db, officerOf(RARE), {}, { limit: 2, cursor: first.nextCursor! });
    expect(names(second)).toEqual(['mid1', 'old']);
    expect(second.nextCursor).toBeUndefined();
    expect(names(await readAccessLog(store.db, officerOf(RARE), {}, { limit: 10 }))).toEqual(['recent', 'mid2', 'mid1', 'old']);
  });

  it('keeps the caller’s time range and filters across months', async () => {
    const range = { from: new Date(now - 50 * DAY), until: new Date(now - DAY) };
    expect(names(await readAccessLog(store.db, officerOf(RARE), range))).toEqual(['mid2', 'mid1']);
    expect(names(await readAccessLog(store.db, auditor, { provider: RARE }))).toEqual(['mid2', 'old']);
    expect(names(await readAccessLog(store.db, auditor, { provider: RARE, from: new Date(now - 99 * DAY) }))).toEqual(['mid2']);
    expect(names(await readAccessLog(store.db, auditor, { until: new Date(now - 99 * DAY) }))).toEqual(['old']);
  });

  it('answers a bureau with no entries with an empty page, and a busy one from the newest month alone', async () => {
    const none = await readAccessLog(store.db, officerOf(NEW), {});
    expect(none.items).toEqual([]);
    expect(none.nextCursor).toBeUndefined();
    const busy = await readAccessLog(store.db, officerOf(BUSY), {}, { limit: 3 });
    expect(names(busy)).toEqual(['other', 'other', 'other']);
    const rest = await readAccessLog(store.db, officerOf(BUSY), {}, { limit: 10, cursor: busy.nextCursor! });
    expect(names(rest)).toEqual(['other', 'other', 'recent', 'mid2', 'mid1']);
  });
});
