import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { JWK } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoCity } from '../examples/data/generate-city.ts';
import { loadConfig } from '../gateway/config/config.ts';
import { startGateway, type Gateway } from '../gateway/gateway.ts';
import { GATEWAY_JWKS_PATH, GATEWAY_SIGNING_KEY_FILE } from '../gateway/auth/consumer-assertion.ts';
import { openSigningKey, SigningKeyError } from '../gateway/auth/signing-key.ts';
import { rotatedKeyFileName } from '../gateway/auth/rotated-key-files.ts';
import { DEFAULT_LOG_NAME, LOG_NOTE_KEY_FILE, LOG_NOTE_KEY_HISTORY_FILE } from '../gateway/access-log/log-tree-note-key.ts';
import { LOG_KEYS_PATH, type LogKeysDocument } from '../gateway/access-log/log-tree-keys.ts';
import { verifyAccessLog } from '../gateway/access-log/verify-access-log.ts';
import { startRefusal, EXIT_CONFIG } from '../gateway/main.ts';
import { openStore } from '../gateway/store/store.ts';
import { generateNoteKey, parseVerifierKey } from '../packages/isthmus-log-proofs/src/index.ts';
import { describeEachStore } from './support/describe-each-store.ts';
import { startTestCity, type TestCity } from './support/test-city.ts';
import type { GatewayDatabase } from './support/test-stores.ts';
import { CROSS_BUREAU } from './support/access-log-load.ts';
import { runCliCaptured } from './support/run-cli-captured.ts';
import { HRSS } from './support/upstream-calls.ts';

/**
 * Rotating the shared keys under two gateways (replicas, in this process)
 * that read one keys folder: the operator adds the next numbered
 * consumer-assertion key and log note key, each gateway reloads (what SIGHUP
 * runs), and from then on signs with the new keys while still publishing the
 * old ones — the assertion key for its assertions' life, the note key for
 * good — and the chain's checkpoints verify across the rotation.
 */

const city = demoCity();
const quiet = () => new Writable({ write: (_chunk, _encoding, done) => done() });

describeEachStore('key rotation across replicas sharing a keys folder ($name)', (target) => {
  let keysDir: string;
  let testCity: TestCity;
  let replica: Gateway | undefined;
  let replicaDatabase: GatewayDatabase;
  let reader: Record<string, string>;

  beforeAll(async () => {
    keysDir = mkdtempSync(join(tmpdir(), 'isthmus-rotation-keys-'));
    testCity = await startTestCity({ ISTHMUS_KEYS_DIR: keysDir }, { store: target });
    // The second replica's chain is inspected after it stopped: its database outlives it.
    replicaDatabase = await target.gatewayDatabase({ prefix: 'isthmus_rotation', onDisk: true });
    replica = await startGateway(loadConfig({ PORT: '0', LOG_LEVEL: 'warn', ISTHMUS_DEV_ISSUER: 'true', ISTHMUS_KEYS_DIR: keysDir, ...replicaDatabase.env, ...testCity.bureaus.env }), { logDestination: quiet() });
    reader = { authorization: `Bearer ${await testCity.token({ bureau: HRSS, app: 'pension-desk', user: 'li.na@hrss', roles: ['developer'], ttl: '1h' })}` };
  }, 120_000);
  afterAll(async () => {
    await replica?.close();
    await testCity?.close();
    await replicaDatabase?.drop();
    if (keysDir) rmSync(keysDir, { recursive: true, force: true });
  });

  const published = async (gateway: Gateway) => ({
    kids: ((await (await fetch(`${gateway.url}${GATEWAY_JWKS_PATH}`)).json()) as { keys: JWK[] }).keys.map((key) => key.kid),
    logKeys: (await (await fetch(`${gateway.url}${LOG_KEYS_PATH}`)).json()) as LogKeysDocument,
  });
  /** A read through `gateway` of two HTTP bureaus, which check its consumer assertion against the keys they trust. */
  const read = async (gateway: Gateway) => {
    const response = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...reader },
      body: JSON.stringify({ query: CROSS_BUREAU, variables: { id: city.persons[0]!.idNumber, code: city.enterprises[0]!.creditCode } }),
    });
    return (await response.json()) as { data?: unknown; errors?: { extensions: { code: string } }[] };
  };

  it('every replica signs with the added keys after a reload, publishes the old ones beside them, and the chain verifies across the rotation', { timeout: 120_000 }, async () => {
    const gateways = [testCity.gateway, replica!];
    const before = await published(testCity.gateway);
    expect(await published(replica!)).toEqual(before);
    expect(before.kids).toHaveLength(1);
    const [oldVkey] = before.logKeys.keys.map((key) => key.vkey);
    const [oldJwk] = ((await (await fetch(`${testCity.gateway.url}${GATEWAY_JWKS_PATH}`)).json()) as { keys: JWK[] }).keys;
    expect(before.logKeys.logName).toBe(DEFAULT_LOG_NAME);

    // The operator's rotation: the next number of each key, added beside the old files.
    const newKey = await openSigningKey({ dir: keysDir, fileName: rotatedKeyFileName(GATEWAY_SIGNING_KEY_FILE, 2), purpose: 'rotated' });
    const note = generateNoteKey(DEFAULT_LOG_NAME);
    writeFileSync(join(keysDir, rotatedKeyFileName(LOG_NOTE_KEY_FILE, 2)), `${note.signerKey}\n`, { mode: 0o600 });
    // Nothing changes before a reload.
    expect(await published(replica!)).toEqual(before);

    for (const gateway of gateways) expect((await gateway.reloadCatalogue()).ok).toBe(true);
    const after = await Promise.all(gateways.map(published));
    expect(after[1]).toEqual(after[0]);
    expect(after[0]!.kids).toEqual([newKey.kid, before.kids[0]]);
    expect(after[0]!.logKeys.keys.map((key) => [key.vkey, key.current])).toEqual([
      [note.verifierKey, true],
      [oldVkey, false],
    ]);

    // Bureaus that trust only the new key take both replicas' calls; trusting only the old one, they refuse them.
    try {
      testCity.bureaus.trustGateway({ keys: [newKey.publicJwk] });
      for (const gateway of gateways) expect((await read(gateway)).errors).toBeUndefined();
      testCity.bureaus.trustGateway({ keys: [oldJwk!] });
      for (const gateway of gateways) expect((await read(gateway)).errors?.map((error) => error.extensions.code)).toContain('UPSTREAM_UNAVAILABLE');
    } finally {
      testCity.bureaus.trustGateway({ jwksUrl: `${testCity.gateway.url}${GATEWAY_JWKS_PATH}` });
    }

    // The replica stops: its final checkpoint is signed with the new note key, its checkpoint #0 was signed with the old one.
    await replica!.close();
    replica = undefined;
    const store = replicaDatabase.url ? await openStore({ kind: 'postgres', url: replicaDatabase.url, poolSize: 1 }) : await openStore({ kind: 'pglite', dataDir: replicaDatabase.dataDir! });
    try {
      const both = await verifyAccessLog(store.db, { logKeys: [parseVerifierKey(oldVkey!), parseVerifierKey(note.verifierKey)] });
      expect(both.problems).toEqual([]);
      expect(both.entries).toBeGreaterThan(0);
      // Each key alone leaves the other's checkpoints unverified: both were really used.
      for (const only of [oldVkey!, note.verifierKey]) {
        const one = await verifyAccessLog(store.db, { logKeys: [parseVerifierKey(only)] });
        expect(one.problems.map((problem) => problem.kind)).toContain('UNKNOWN_KEY');
      }
    } finally {
      await store.close();
    }
    // `log verify` pins the keys folder's note keys: the key files too, as on a read-only mount whose history file lacks the new key.
    rmSync(join(keysDir, LOG_NOTE_KEY_HISTORY_FILE));
    const cli = await runCliCaptured(['log', 'verify'], { ...replicaDatabase.env, ISTHMUS_KEYS_DIR: keysDir });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain('ok: ');
    expect(cli.stderr).not.toContain('checkpoint signatures were not checked');
  });
});

it('a key file that cannot be used stops the start with its message and exit code 78, no stack', () => {
  const refusal = startRefusal(new SigningKeyError('the key file /keys/gateway-signing.2.json is open to other users (mode 644); run: chmod 600 /keys/gateway-signing.2.json', '/keys/gateway-signing.2.json'));
  expect(refusal).toEqual({ exitCode: EXIT_CONFIG, message: expect.stringContaining('open to other users (mode 644)') });
  expect(refusal!.message).toContain('SIGNING_KEY_UNUSABLE');
});
