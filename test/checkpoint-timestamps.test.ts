import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readTrustedCertificates } from '../gateway/access-log/timestamp-settings.ts';
import { verifyStoredTimestamps } from '../gateway/access-log/timestamp-store.ts';
import { openStore } from '../gateway/store/store.ts';
import { runCli } from '../gateway/cli/run-cli.ts';
import { describeEachStore } from './support/describe-each-store.ts';
import { createTestPki, startLocalTsa, type LocalTsa, type TestPki } from './support/local-tsa.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';
import { waitFor } from './support/wait-for.ts';

// A gateway configured with ISTHMUS_TSA_URL stamps its checkpoints through a local openssl TSA, and the stamps verify.
describeEachStore('RFC 3161 stamps of a running gateway\'s checkpoints on $name', (target) => {
  let pki: TestPki;
  let tsa: LocalTsa;
  let city: TestCity;
  let caPem: string;
  let caFile: string;

  beforeAll(async () => {
    pki = createTestPki();
    const ca = await pki.createCa('City CA');
    caPem = ca.pem;
    tsa = await startLocalTsa(pki, await pki.createTsa(ca, 'City TSA', 'rsa'));
    caFile = join(pki.dir, 'ca.pem');
    writeFileSync(caFile, ca.pem);
    city = await startTestCity({ ISTHMUS_TSA_URL: tsa.url, ISTHMUS_TSA_CA_FILE: caFile }, { store: target });
  });
  afterAll(async () => {
    await city?.close();
    await tsa?.close();
    pki?.remove();
  });

  it('stamps checkpoint #0 at start-up, and the stamp verifies under the trusted CA', async () => {
    const db = city.gateway.store.db;
    await waitFor(async () => (await sql<{ n: number }>`select count(*)::int as n from access_log_timestamps`.execute(db)).rows[0]!.n >= 1 || undefined, { what: 'checkpoint #0 stamped', timeoutMs: 10_000 });
    const report = await verifyStoredTimestamps(db, readTrustedCertificates(caPem), { chainId: city.gateway.instanceId });
    expect(report.problems).toEqual([]);
    const { rows } = await sql<{ number: number; tsa: string }>`select number, tsa from access_log_timestamps where chain_id = ${city.gateway.instanceId}`.execute(db);
    expect(rows).toEqual([{ number: 0, tsa: 'CN=City TSA' }]);
  });

  it('stamps the final checkpoint at shutdown (PostgreSQL: the database outlives the gateway)', async () => {
    const url = city.database.url;
    if (url === undefined) return; // PGlite in memory goes with the gateway; the first case covers it.
    await city.gateway.close();
    const store = await openStore({ kind: 'postgres', url });
    try {
      const { rows } = await sql<{ final: boolean; tsa: string | null }>`
        select c.final, t.tsa from access_log_tree_checkpoints c left join access_log_timestamps t using (chain_id, number) order by c.number desc limit 1`.execute(store.db);
      expect(rows[0]).toEqual({ final: true, tsa: 'CN=City TSA' });
      expect((await verifyStoredTimestamps(store.db, readTrustedCertificates(caPem))).problems).toEqual([]);
    } finally {
      await store.close();
    }
    // `log verify --tsa-ca` reports the stamps; a CA that did not issue the TSA's certificate fails them.
    let out = '';
    const io = (env: Record<string, string>) => ({ stdout: { write: (text: string) => (out += text) }, stderr: { write: () => true }, env });
    expect(await runCli(['log', 'verify', '--tsa-ca', caFile], io({ DATABASE_URL: url }))).toBe(0);
    expect(out).toMatch(/timestamps: 2 of 2 checkpoints carry a verified RFC 3161 stamp \(latest .+ by CN=City TSA\); 0 without one/u);
    const otherCa = join(pki.dir, 'other-ca.pem');
    writeFileSync(otherCa, (await pki.createCa('Another CA')).pem);
    out = '';
    expect(await runCli(['log', 'verify', '--tsa-ca', otherCa], io({ DATABASE_URL: url }))).toBe(1);
    expect(out).toMatch(/TIMESTAMP_INVALID chain=\S+ checkpoint=#1:/u);
  });
});
