import { chmodSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { createConsumerAssertionVerifier, DEFAULT_CONSUMER_ASSERTION_TTL_SECONDS, GATEWAY_SIGNING_KEY_FILE, openConsumerAssertionSigner } from './consumer-assertion.ts';
import { MAX_CLOCK_TOLERANCE_SECONDS } from './issuer-config.ts';
import { listRotatedKeyFiles, rotatedKeyFileName } from './rotated-key-files.ts';
import { openRotatingSigningKey } from './rotating-signing-key.ts';
import { openSigningKey } from './signing-key.ts';

const root = mkdtempSync(join(tmpdir(), 'isthmus-rotation-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let folders = 0;
const folder = () => join(root, `keys-${(folders += 1)}`);

const T0 = Date.UTC(2026, 4, 1, 9, 0, 0);
/** How long a replaced assertion key stays published: an assertion's life plus the largest clock tolerance a verifier may allow. */
const WINDOW_MS = (DEFAULT_CONSUMER_ASSERTION_TTL_SECONDS + MAX_CLOCK_TOLERANCE_SECONDS) * 1_000;
const REQUEST = { provider: 'hrss', bureau: 'market-supervision', app: 'licensing-portal', agreements: ['agr-7'] };

/** The operator's step: a new key under the next number of the rotation. */
async function addKey(dir: string, number: number) {
  return openSigningKey({ dir, fileName: rotatedKeyFileName(GATEWAY_SIGNING_KEY_FILE, number), purpose: 'rotated by the operator' });
}

describe('rotated key files', () => {
  it('name the first key plainly and the later ones by number, and list only canonical numbers, oldest first', async () => {
    expect(rotatedKeyFileName('gateway-signing.json', 1)).toBe('gateway-signing.json');
    expect(rotatedKeyFileName('access-log-note.key', 12)).toBe('access-log-note.12.key');
    expect(() => rotatedKeyFileName('k.json', 0)).toThrow(TypeError);
    const dir = folder();
    expect(await listRotatedKeyFiles(dir, 'k.json')).toEqual([]);
    mkdirSync(dir);
    for (const name of ['k.json', 'k.10.json', 'k.2.json', 'k.02.json', 'k.1.json', 'k.x.json', 'k.3.json.123.abc.tmp', 'other.2.json']) writeFileSync(join(dir, name), '{}');
    expect(await listRotatedKeyFiles(dir, 'k.json')).toEqual([
      { number: 1, fileName: 'k.json' },
      { number: 2, fileName: 'k.2.json' },
      { number: 10, fileName: 'k.10.json' },
    ]);
  });
});

describe('a rotating signing key', () => {
  it('is made once when replicas start together on an empty folder', async () => {
    const dir = folder();
    const keys = await Promise.all(Array.from({ length: 4 }, () => openRotatingSigningKey({ dir, fileName: 'k.json', purpose: 'test', retiredPublishedMs: 1_000 })));
    expect(new Set(keys.map((key) => key.current().kid)).size).toBe(1);
    expect((await listRotatedKeyFiles(dir, 'k.json')).map((file) => file.fileName)).toEqual(['k.json']);
  });

  it('keeps a key in memory unchanged across reloads when there is no folder', async () => {
    const key = await openRotatingSigningKey({ dir: undefined, fileName: 'k.json', purpose: 'test', retiredPublishedMs: 1_000 });
    const before = key.current().kid;
    expect(await key.reload()).toEqual({ kid: before, changed: false });
  });
});

describe('consumer assertions across a key rotation', () => {
  it('sign with the added key after a reload; the old key stays published until its assertions expired, then leaves', async () => {
    let clock = T0;
    const now = () => clock;
    const dir = folder();
    const signer = await openConsumerAssertionSigner({ keysDir: dir, now });
    const oldKid = signer.kid;
    const before = await signer.assertionFor(REQUEST);

    const added = await addKey(dir, 2);
    // Not before the reload: a replica signs with what it last read.
    expect(signer.kid).toBe(oldKid);
    expect(await signer.reload()).toEqual({ kid: added.kid, changed: true });
    expect(signer.jwks.keys.map((key) => key.kid)).toEqual([added.kid, oldKid]);
    // The reused assertion of the old key is not handed out again.
    const after = await signer.assertionFor(REQUEST);
    expect(decodeProtectedHeader(after).kid).toBe(added.kid);

    // A bureau that fetched the set after the rotation checks both the assertion signed before it and the one after.
    clock = T0 + 50_000;
    const bureau = createConsumerAssertionVerifier({ bureau: 'hrss', keys: signer.jwks.keys, now });
    await expect(bureau.verify(before)).resolves.toMatchObject({ app: 'licensing-portal' });
    await expect(bureau.verify(after)).resolves.toMatchObject({ app: 'licensing-portal' });

    clock = T0 + WINDOW_MS - 1;
    expect(signer.jwks.keys.map((key) => key.kid)).toEqual([added.kid, oldKid]);
    clock = T0 + WINDOW_MS;
    expect(signer.jwks.keys.map((key) => key.kid)).toEqual([added.kid]);
    // Another reload finds nothing new and does not bring the old key back.
    expect(await signer.reload()).toEqual({ kid: added.kid, changed: false });
    expect(signer.jwks.keys.map((key) => key.kid)).toEqual([added.kid]);
  });

  it('started after the rotation, signs with the newest key and publishes the older ones for the window from its start', async () => {
    let clock = T0;
    const now = () => clock;
    const dir = folder();
    const first = await addKey(dir, 1);
    const second = await addKey(dir, 2);
    const signer = await openConsumerAssertionSigner({ keysDir: dir, now });
    expect(signer.kid).toBe(second.kid);
    expect(signer.jwks.keys.map((key) => key.kid)).toEqual([second.kid, first.kid]);
    clock = T0 + WINDOW_MS;
    expect(signer.jwks.keys.map((key) => key.kid)).toEqual([second.kid]);
  });

  it('keeps publishing a replaced key whose file the operator removed, for its window', async () => {
    let clock = T0;
    const now = () => clock;
    const dir = folder();
    const signer = await openConsumerAssertionSigner({ keysDir: dir, now });
    const oldKid = signer.kid;
    const added = await addKey(dir, 2);
    unlinkSync(join(dir, GATEWAY_SIGNING_KEY_FILE));
    await signer.reload();
    expect(signer.jwks.keys.map((key) => key.kid)).toEqual([added.kid, oldKid]);
    clock = T0 + WINDOW_MS;
    expect(signer.jwks.keys.map((key) => key.kid)).toEqual([added.kid]);
  });

  it('refuses an added key file open to other users on reload, and keeps signing with the key it had', async () => {
    const dir = folder();
    const signer = await openConsumerAssertionSigner({ keysDir: dir });
    const kid = signer.kid;
    await addKey(dir, 2);
    chmodSync(join(dir, rotatedKeyFileName(GATEWAY_SIGNING_KEY_FILE, 2)), 0o644);
    await expect(signer.reload()).rejects.toMatchObject({ code: 'SIGNING_KEY_UNUSABLE', message: expect.stringContaining('open to other users') });
    expect(signer.kid).toBe(kid);
    expect(signer.jwks.keys.map((key) => key.kid)).toEqual([kid]);
  });
});
