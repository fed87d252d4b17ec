import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { emptyRootHash, generateNoteKey, parseSignerKey, signCheckpoint } from '../../packages/isthmus-log-proofs/src/index.ts';
import { describeEachStore } from '../../test/support/describe-each-store.ts';
import { createTestPki, startLocalTsa, type LocalTsa, type TestPki } from '../../test/support/local-tsa.ts';
import type { Store } from '../store/store.ts';
import { readTrustedCertificates, DEFAULT_TSA_MAX_RESPONSE_BYTES, type TimestampSettings } from './timestamp-settings.ts';
import { createCheckpointStamper } from './timestamp-stamper.ts';
import { stampCheckpoint, verifyStoredTimestamps } from './timestamp-store.ts';

const LOG_NAME = 'isthmus.demo-city/access-log';

describeEachStore('checkpoint timestamps on $name', (target) => {
  let store: Store;
  let pki: TestPki;
  let tsa: LocalTsa;
  let settings: TimestampSettings;
  const signer = parseSignerKey(generateNoteKey(LOG_NAME).signerKey);
  const chainId = `chain-${Math.random().toString(16).slice(2)}`;
  const notes = new Map<string, string[]>();

  async function addCheckpoint(number: number, chain = chainId): Promise<string> {
    const chainNotes = notes.get(chain) ?? [];
    notes.set(chain, chainNotes);
    const previous = chainNotes[number - 1];
    const note = signCheckpoint({
      origin: `${LOG_NAME}/${chain}`,
      size: number * 10,
      rootHash: number === 0 ? emptyRootHash() : createHash('sha256').update(`root ${number}`).digest(),
      ...(previous === undefined ? {} : { previous: { size: (number - 1) * 10, hash: createHash('sha256').update(previous).digest() } }),
      extensions: [`time ${new Date().toISOString()}`],
    }, signer);
    chainNotes[number] = note;
    await sql`insert into access_log_tree_checkpoints (chain_id, number, size, root_hash, note, signed_at, final)
      values (${chain}, ${number}, ${number * 10}, ${'00'.repeat(32)}, ${note}, now(), false)`.execute(store.db);
    return note;
  }

  beforeAll(async () => {
    store = await target.open();
    pki = createTestPki();
    const ca = await pki.createCa('Demo City Root CA');
    tsa = await startLocalTsa(pki, await pki.createTsa(ca, 'Demo City TSA', 'ec'));
    settings = { url: tsa.url, trusted: readTrustedCertificates(ca.pem), timeoutMs: 5_000, maxResponseBytes: DEFAULT_TSA_MAX_RESPONSE_BYTES };
  });
  afterAll(async () => {
    await tsa?.close();
    pki?.remove();
    await store?.close();
  });

  it('stores a verified stamp of a committed checkpoint, once, and verify finds it', async () => {
    const note = await addCheckpoint(0);
    const stored = await stampCheckpoint({ db: store.db, settings, chainId, number: 0, text: note });
    expect(stored).toMatchObject({ chainId, number: 0, tsa: 'CN=Demo City TSA' });
    const again = await stampCheckpoint({ db: store.db, settings, chainId, number: 0, text: note });
    expect(again).toEqual(stored); // the first token stays: the table is append-only
    expect(tsa.requests).toBe(2);

    const rows = await store.db.withTables<{ access_log_timestamps: { chain_id: string; number: number; gen_time: Date; tsa: string; token: string } }>()
      .selectFrom('access_log_timestamps').selectAll().where('chain_id', '=', chainId).execute();
    expect(rows).toHaveLength(1);
    expect(new Date(rows[0]!.gen_time)).toEqual(stored.genTime);
    expect(Buffer.from(rows[0]!.token, 'base64')).toEqual(Buffer.from(stored.token));

    await addCheckpoint(1); // not stamped (yet)
    const report = await verifyStoredTimestamps(store.db, settings.trusted, { chainId });
    expect(report).toMatchObject({ checkpoints: 2, stamped: 1, unstamped: 1, problems: [] });
    expect(report.latest.get(chainId)).toEqual({ number: 0, genTime: stored.genTime, tsa: 'CN=Demo City TSA' });
  });

  it('stamps in the background: the latest checkpoint, one TSA exchange at a time, requests folded together', async () => {
    const chain = `${chainId}-stamper`;
    const stamped: number[] = [];
    const errors: unknown[] = [];
    const stamper = createCheckpointStamper({ db: store.db, settings, onStamped: (stamp) => stamped.push(stamp.number), onError: (error) => errors.push(error) });
    const before = tsa.requests;
    stamper.request(chain); // no checkpoint yet: nothing to stamp
    await stamper.idle();
    await addCheckpoint(0, chain);
    stamper.request(chain);
    stamper.request(chain);
    await stamper.idle();
    await addCheckpoint(1, chain);
    await addCheckpoint(2, chain);
    for (let i = 0; i < 3; i += 1) stamper.request(chain);
    await stamper.idle();
    expect(errors).toEqual([]);
    expect(stamped).toEqual([0, 2]); // checkpoint 2 names 1 through its previous line
    expect(tsa.requests - before).toBe(2);
    await stamper.close();
    stamper.request(chain);
    await stamper.idle();
    expect(tsa.requests - before).toBe(2);
  });

  it('stops waiting for a TSA that hangs when it closes, and says why the stamp failed', async () => {
    const chain = `${chainId}-hang`;
    await addCheckpoint(0, chain);
    const errors: unknown[] = [];
    const stamper = createCheckpointStamper({ db: store.db, settings, closeWaitMs: 200, onError: (error) => errors.push(error) });
    tsa.mode = 'hang';
    try {
      stamper.request(chain);
      const started = Date.now();
      await stamper.close();
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      tsa.mode = 'grant';
    }
    expect(errors).toMatchObject([{ code: 'TIMESTAMP_UNAVAILABLE', message: 'the timestamp request was cancelled' }]);
    expect((await verifyStoredTimestamps(store.db, settings.trusted, { chainId: chain })).unstamped).toBe(1);
  });

  it('refuses to change a stored stamp', async () => {
    await expect(sql`update access_log_timestamps set tsa = 'CN=Someone Else' where chain_id = ${chainId}`.execute(store.db)).rejects.toThrow(/append-only/u);
    await expect(sql`delete from access_log_timestamps where chain_id = ${chainId}`.execute(store.db)).rejects.toThrow(/append-only/u);
  });

  it('lets the log roles read and add stamps, never change them', async () => {
    const { rows } = await sql<{ role: string; can: string }>`
      select r.rolname as role, string_agg(p.privilege, ',' order by p.privilege) as can
      from pg_roles r cross join unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) as p(privilege)
      where r.rolname in ('isthmus_gateway', 'isthmus_log_writer') and has_table_privilege(r.rolname, 'access_log_timestamps', p.privilege)
      group by r.rolname order by r.rolname`.execute(store.db);
    expect(rows).toEqual([{ role: 'isthmus_gateway', can: 'INSERT,SELECT' }, { role: 'isthmus_log_writer', can: 'INSERT,SELECT' }]);
  });

  it('names the checkpoint whose stamp does not fit it, and the stamp whose checkpoint is gone', async () => {
    const note2 = await addCheckpoint(2);
    const note3 = await addCheckpoint(3);
    await stampCheckpoint({ db: store.db, settings, chainId, number: 3, text: note3 });
    // A stamp of checkpoint 2's text filed under 4, and then checkpoint 3's row deleted as a superuser would.
    const other = await stampCheckpoint({ db: store.db, settings, chainId: `${chainId}-x`, number: 0, text: note2 });
    await addCheckpoint(4);
    await sql`insert into access_log_timestamps (chain_id, number, token, gen_time, tsa)
      values (${chainId}, 4, ${Buffer.from(other.token).toString('base64')}, ${other.genTime}, ${other.tsa})`.execute(store.db);
    await store.db.transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx);
      await sql`delete from access_log_tree_checkpoints where chain_id = ${chainId} and number = 3`.execute(trx);
    });
    // A token that does not parse, for checkpoint 1.
    await sql`insert into access_log_timestamps (chain_id, number, token, gen_time, tsa) values (${chainId}, 1, 'MAMCAQA=', now(), 'CN=x')`.execute(store.db);

    const report = await verifyStoredTimestamps(store.db, settings.trusted, { chainId, pageSize: 2 });
    expect(report.problems.map(({ number, code }) => [number, code])).toEqual([
      [1, 'TIMESTAMP_MALFORMED'],
      [3, 'CHECKPOINT_MISSING'],
      [4, 'TIMESTAMP_INVALID'],
    ]);
    expect(report.problems[2]!.message).toContain('stamps other text');
    expect(report).toMatchObject({ checkpoints: 4, stamped: 1, unstamped: 1 });
    // The untrusted view: with another CA, every stamp is a problem.
    const stranger = await pki.createCa('Stranger CA');
    const distrust = await verifyStoredTimestamps(store.db, readTrustedCertificates(stranger.pem), { chainId });
    expect(distrust.stamped).toBe(0);
    expect(distrust.problems.filter((problem) => problem.message.includes('trusted CA')).map((problem) => problem.number)).toEqual([0]);
  });
});
