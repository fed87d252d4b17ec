import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAccessLogWriter, type AccessLogBatchReport } from './access-log-writer.ts';
import { GENESIS_HASH, hashAccessLogRecord, recordFromRow } from './access-log-record.ts';
import { ensurePartitions } from './ensure-partitions.ts';
import type { CheckpointSigner } from './access-log-checkpoint.ts';
import type { Store } from '../store/store.ts';
import { describeEachStore } from '../../test/support/describe-each-store.ts';
import { createTestSigner, sampleEntry } from '../../test/support/access-log-fixtures.ts';

describeEachStore('access log writer on $name', (target) => {
  let store: Store;
  let signer: CheckpointSigner;
  beforeAll(async () => {
    store = await target.open();
    signer = await createTestSigner();
    // A row in every log table, so that the row triggers below have something to refuse.
    const seed = createAccessLogWriter({ db: store.db, chainId: 'gw-seed', signer, checkpointEvery: 1 });
    // 16 entries complete a level-4 subtree, so the tree's node table has a row too.
    await Promise.all(Array.from({ length: 16 }, () => seed.append(sampleEntry())));
    await seed.close();
    await store.db.insertInto('access_log_cosignatures').values({ chain_id: 'gw-seed', number: 0, witness: 'seed-witness', signature: '— seed-witness AAAA\n', cosigned_at: new Date() }).execute();
  });
  afterAll(async () => {
    await store?.close();
  });

  const rowsOf = (chainId: string) => store.db.selectFrom('access_log').selectAll().where('chain_id', '=', chainId).orderBy('seq').execute();

  it('writes many concurrent appends in fewer transactions than entries, with seqs 1…n in append order', async () => {
    const reports: AccessLogBatchReport[] = [];
    const chainId = `gw-${randomUUID()}`;
    const writer = createAccessLogWriter({ db: store.db, chainId, signer, onBatch: (report) => reports.push(report) });
    await writer.ready();
    const entries = Array.from({ length: 300 }, (_, index) => sampleEntry({ requestId: `req-${index}` }));
    const appended = await Promise.all(entries.map((entry) => writer.append(entry)));

    expect(appended.map((entry) => entry.seq)).toEqual(entries.map((_, index) => index + 1));
    expect(reports.every((report) => report.ok)).toBe(true);
    expect(reports.reduce((sum, report) => sum + report.entries, 0)).toBe(300);
    // Group commit: the first append starts a transaction alone, the rest queue behind it and share a few.
    expect(reports.length).toBeLessThan(10);
    expect(Math.max(...reports.map((report) => report.entries))).toBeGreaterThan(100);

    const rows = await rowsOf(chainId);
    expect(rows.map((row) => row.request_id)).toEqual(entries.map((entry) => entry.requestId));
    expect(rows.map((row) => row.id)).toEqual(appended.map((entry) => entry.id));
    await writer.close();
  });

  it('never puts more than maxBatch entries in one transaction', async () => {
    const reports: AccessLogBatchReport[] = [];
    const writer = createAccessLogWriter({ db: store.db, chainId: `gw-${randomUUID()}`, signer, maxBatch: 40, onBatch: (report) => reports.push(report) });
    await Promise.all(Array.from({ length: 200 }, () => writer.append(sampleEntry())));
    expect(Math.max(...reports.map((report) => report.entries))).toBeLessThanOrEqual(40);
    expect(reports.reduce((sum, report) => sum + report.entries, 0)).toBe(200);
    await writer.close();
  });

  it('links every entry to the previous one by hash, starting from 64 zeros', async () => {
    const chainId = `gw-${randomUUID()}`;
    const writer = createAccessLogWriter({ db: store.db, chainId, signer });
    const appended = await Promise.all(Array.from({ length: 25 }, (_, index) => writer.append(sampleEntry({ durationMs: index + 0.125 }))));
    const records = (await rowsOf(chainId)).map(recordFromRow);
    expect(records[0]!.prevHash).toBe(GENESIS_HASH);
    records.forEach((record, index) => {
      expect(hashAccessLogRecord(record)).toBe(record.hash);
      expect(record.hash).toBe(appended[index]!.hash);
      if (index > 0) expect(record.prevHash).toBe(records[index - 1]!.hash);
    });
    await writer.close();
  });

  it('stores every field of the entry and indexes its distinct subjects', async () => {
    const chainId = `gw-${randomUUID()}`;
    const writer = createAccessLogWriter({ db: store.db, chainId, signer });
    const hiddenUntil = new Date(Date.now() + 86_400_000);
    const entry = sampleEntry({
      subjects: [
        { kind: 'person', id: '110101199003074578' },
        { kind: 'enterprise', id: '91330402MA2JC1234X' },
        { kind: 'person', id: '110101199003074578' },
      ],
      denied: [{ coordinate: 'Person.phone', path: 'person.phone', reason: 'no agreement covers Person.phone' }],
      upstreamErrors: [{ bureau: 'human-resources-social-security', reason: 'timeout' }],
      rowCounts: { 'public-security': 2, 'market-supervision': 1 },
      disclosure: { hiddenUntil, legalReason: 'criminal investigation, art. 150' },
      citizen: '110101199003074578',
      roles: ['citizen'],
    });
    const { id } = await writer.append(entry);
    const [record] = (await rowsOf(chainId)).map(recordFromRow);
    expect(record!.entry).toEqual({ ...entry, occurredAt: entry.occurredAt, disclosure: { hiddenUntil, legalReason: 'criminal investigation, art. 150' } });
    const subjects = await store.db.selectFrom('access_log_subjects').select(['subject_kind', 'subject_id']).where('entry_id', '=', id).orderBy('subject_kind').execute();
    expect(subjects).toEqual([
      { subject_kind: 'enterprise', subject_id: '91330402MA2JC1234X' },
      { subject_kind: 'person', subject_id: '110101199003074578' },
    ]);
    await writer.close();
  });

  it('refuses an unstorable entry on its own, without failing the others of its batch', async () => {
    const writer = createAccessLogWriter({ db: store.db, chainId: `gw-${randomUUID()}`, signer });
    const good = writer.append(sampleEntry());
    const nul = writer.append(sampleEntry({ operationName: 'Evil\u0000Name' }));
    const surrogate = writer.append(sampleEntry({ purpose: 'bad \ud800 purpose' }));
    const stale = writer.append(sampleEntry({ occurredAt: new Date(Date.now() - 3 * 86_400_000) }));
    const notFinite = writer.append(sampleEntry({ durationMs: Number.NaN }));
    const alsoGood = writer.append(sampleEntry());
    await expect(nul).rejects.toMatchObject({ code: 'ACCESS_LOG_INVALID_ENTRY', field: 'operationName' });
    await expect(surrogate).rejects.toMatchObject({ code: 'ACCESS_LOG_INVALID_ENTRY', field: 'purpose' });
    await expect(stale).rejects.toMatchObject({ code: 'ACCESS_LOG_INVALID_ENTRY', field: 'occurredAt' });
    await expect(notFinite).rejects.toMatchObject({ code: 'ACCESS_LOG_INVALID_ENTRY', field: 'durationMs' });
    expect((await good).seq).toBe(1);
    expect((await alsoGood).seq).toBe(2);
    await writer.close();
  });

  it('signs a checkpoint every checkpointEvery entries and a final one on close, and leaves the instance row alone', async () => {
    const chainId = `gw-${randomUUID()}`;
    await store.db.insertInto('gateway_instances').values({ id: chainId, hostname: 'test', version: '0', started_at: new Date(), last_seen_at: new Date() }).execute();
    const writer = createAccessLogWriter({ db: store.db, chainId, signer, checkpointEvery: 10, maxBatch: 10 });
    for (let round = 0; round < 3; round++) await Promise.all(Array.from({ length: 10 }, () => writer.append(sampleEntry())));
    await writer.append(sampleEntry());
    await writer.close();
    const checkpoints = await store.db.selectFrom('access_log_tree_checkpoints').select(['number', 'size', 'final']).where('chain_id', '=', chainId).orderBy('number').execute();
    expect(checkpoints.map((checkpoint) => [checkpoint.number, Number(checkpoint.size), checkpoint.final])).toEqual([
      [0, 0, false],
      [1, 10, false],
      [2, 20, false],
      [3, 30, false],
      [4, 31, true],
    ]);
    // The JWS checkpoints of the hash chain are no longer written.
    expect(await store.db.selectFrom('access_log_checkpoints').select('seq').where('chain_id', '=', chainId).execute()).toEqual([]);
    // "Stopped" is the final checkpoint now, not the instance's mutable column.
    const instance = await store.db.selectFrom('gateway_instances').select('stopped_at').where('id', '=', chainId).executeTakeFirstOrThrow();
    expect(instance.stopped_at).toBeNull();
    await expect(writer.append(sampleEntry())).rejects.toMatchObject({ code: 'ACCESS_LOG_CLOSED' });
  });

  it('signs a checkpoint after checkpointIntervalMs when entries were added', async () => {
    const chainId = `gw-${randomUUID()}`;
    const writer = createAccessLogWriter({ db: store.db, chainId, signer, checkpointIntervalMs: 50 });
    await Promise.all([writer.append(sampleEntry()), writer.append(sampleEntry())]);
    const checkpointSeqs = async () => (await store.db.selectFrom('access_log_tree_checkpoints').select('size').where('chain_id', '=', chainId).where('size', '>', 0).execute()).map((row) => Number(row.size));
    // Under load the interval may also fire between the two commits; what matters is that the head gets signed.
    await expect.poll(async () => Math.max(0, ...(await checkpointSeqs())), { timeout: 10_000 }).toBe(2);
    const signed = (await checkpointSeqs()).length;
    await sleep(250);
    // Nothing new since: no further checkpoint, however many intervals pass.
    expect(await checkpointSeqs()).toHaveLength(signed);
    await writer.close();
  });

  it('continues an existing chain from its last committed entry', async () => {
    const chainId = `gw-${randomUUID()}`;
    const first = createAccessLogWriter({ db: store.db, chainId, signer });
    await Promise.all([first.append(sampleEntry()), first.append(sampleEntry())]);
    await first.flush();
    const second = createAccessLogWriter({ db: store.db, chainId, signer });
    const third = await second.append(sampleEntry());
    expect(third.seq).toBe(3);
    const records = (await rowsOf(chainId)).map(recordFromRow);
    expect(records[2]!.prevHash).toBe(records[1]!.hash);
    await second.close();
  });

  it('withdraws an entry whose signal aborted before it was written', async () => {
    const writer = createAccessLogWriter({ db: store.db, chainId: `gw-${randomUUID()}`, signer });
    const controller = new AbortController();
    controller.abort();
    await expect(writer.append(sampleEntry(), controller.signal)).rejects.toMatchObject({ code: 'ACCESS_LOG_UNAVAILABLE' });
    expect((await writer.append(sampleEntry())).seq).toBe(1);
    await writer.close();
  });

  it('writes under the isthmus_log_writer role, which may only insert and select', async () => {
    const writer = createAccessLogWriter({ db: store.db, chainId: `gw-${randomUUID()}`, signer });
    await writer.ready();
    expect(writer.status().usesLogWriterRole).toBe(true);
    await writer.close();
    const asWriterRole = (statement: string) =>
      store.db.transaction().execute(async (trx) => {
        await sql`set local role isthmus_log_writer`.execute(trx);
        await sql.raw(statement).execute(trx);
      });
    // Privileges are checked before triggers fire: these fail on the grant, not on the append-only trigger.
    await expect(asWriterRole(`update access_log set purpose = 'changed'`)).rejects.toThrow(/permission denied for table access_log/);
    await expect(asWriterRole(`delete from access_log_checkpoints`)).rejects.toThrow(/permission denied for table access_log_checkpoints/);
    await expect(asWriterRole(`select count(*) from gateway_instances`)).rejects.toThrow(/permission denied for table gateway_instances/);
    await expect(asWriterRole(`create table intruder (id int)`)).rejects.toThrow(/permission denied/);
  });

  it('appends in one statement that switches to the writer role and will not write into another chain', async () => {
    // Inside an explicit transaction, the role the function assumed outlives the call, so it can be seen.
    const roleAfterAppend = await store.db.transaction().execute(async (trx) => {
      await sql`select access_log_append('gw-role-probe', '[]'::jsonb, null, true, 1000)`.execute(trx);
      const { rows } = await sql<{ role: string }>`select current_user as role`.execute(trx);
      await sql`select access_log_append('gw-role-probe', '[]'::jsonb, null, true, 1000)`.execute(trx);
      return rows[0]!.role;
    });
    expect(roleAfterAppend).toBe('isthmus_log_writer');
    const foreign = JSON.stringify([{ chain_id: 'gw-someone-else' }]);
    await expect(sql`select access_log_append('gw-mine', ${foreign}::jsonb, null, true, 1000)`.execute(store.db)).rejects.toThrow(/must belong to chain gw-mine/);
  });

  it('creates partitions as months turn, and the writer writes into a month it had not seen', async () => {
    const future = new Date(Date.UTC(new Date().getUTCFullYear() + 3, 4, 15));
    await ensurePartitions(store.db, future);
    const partitions = await sql<{ relname: string }>`select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'access_log'::regclass`.execute(store.db);
    const suffix = (date: Date) => `y${date.getUTCFullYear()}m${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
    expect(partitions.rows.map((row) => row.relname)).toEqual(expect.arrayContaining([`access_log_${suffix(future)}`, `access_log_y${future.getUTCFullYear()}m06`]));

    let clock = new Date(Date.UTC(new Date().getUTCFullYear() + 5, 0, 31, 23, 59, 59));
    const chainId = `gw-${randomUUID()}`;
    const writer = createAccessLogWriter({ db: store.db, chainId, signer, now: () => clock });
    await writer.append(sampleEntry({ occurredAt: clock }));
    clock = new Date(clock.getTime() + 2_000);
    await writer.append(sampleEntry({ occurredAt: clock }));
    await writer.close();
    const rows = await sql<{ partition: string }>`select tableoid::regclass::text as partition from access_log where chain_id = ${chainId} order by seq`.execute(store.db);
    expect(rows.rows.map((row) => row.partition)).toEqual([`access_log_y${clock.getUTCFullYear()}m01`, `access_log_y${clock.getUTCFullYear()}m02`]);
  });

  it.each([
    ['update access_log set purpose = $$x$$'],
    ['delete from access_log'],
    ['truncate access_log'],
    ['update access_log_subjects set subject_id = $$x$$'],
    ['delete from access_log_subjects'],
    ['delete from access_log_tree_checkpoints'],
    ['update access_log_tree_checkpoints set final = true'],
    ['delete from access_log_tree_nodes'],
    ['update access_log_tree_nodes set hash = repeat($$0$$, 64)'],
    ['delete from access_log_cosignatures'],
    ['delete from access_log_note_keys'],
    ['delete from access_log_chains'],
    ['truncate access_log_checkpoints'],
    ['truncate access_log_tree_checkpoints'],
    ['truncate access_log_cosignatures'],
  ])('refuses %s, even for the owner', async (statement) => {
    await expect(sql.raw(statement).execute(store.db)).rejects.toThrow(/append-only/);
  });

  it('refuses a delete on a partition directly', async () => {
    const { rows } = await sql<{ partition: string }>`select tableoid::regclass::text as partition from access_log limit 1`.execute(store.db);
    await expect(sql`delete from ${sql.id(rows[0]!.partition)}`.execute(store.db)).rejects.toThrow(/append-only/);
    await expect(sql`truncate ${sql.id(rows[0]!.partition)}`.execute(store.db)).rejects.toThrow(/append-only/);
  });
});
