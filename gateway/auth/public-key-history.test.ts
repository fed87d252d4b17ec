import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSigningKey } from './signing-key.ts';
import { recordPublicKeyHistory } from './public-key-history.ts';

const root = mkdtempSync(join(tmpdir(), 'isthmus-key-history-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const FILE = 'access-log-jwks.json';
const PURPOSE = 'test: signs checkpoints';
let folders = 0;
const folder = () => join(root, `keys-${(folders += 1)}`);

describe('recordPublicKeyHistory', () => {
  it('publishes the current key alone when keys live in memory', async () => {
    const key = await openSigningKey({ dir: undefined, fileName: 'k.json', purpose: PURPOSE });
    expect(await recordPublicKeyHistory({ dir: undefined, fileName: FILE, current: key })).toEqual({ keys: [{ ...key.publicJwk }] });
  });

  it('keeps every key the key file has held, the current one first, and never the private half', async () => {
    const dir = folder();
    const first = await openSigningKey({ dir, fileName: 'k.json', purpose: PURPOSE });
    const once = await recordPublicKeyHistory({ dir, fileName: FILE, current: first });
    expect(once.keys.map((key) => key.kid)).toEqual([first.kid]);
    expect(JSON.parse(readFileSync(join(dir, FILE), 'utf8'))).toEqual(once);

    // The operator replaces the key: the old one stays published, so what it signed still verifies.
    rmSync(join(dir, 'k.json'));
    const second = await openSigningKey({ dir, fileName: 'k.json', purpose: PURPOSE });
    expect(second.kid).not.toBe(first.kid);
    const twice = await recordPublicKeyHistory({ dir, fileName: FILE, current: second });
    expect(twice.keys.map((key) => key.kid)).toEqual([second.kid, first.kid]);
    // Restarting with the same key changes nothing.
    expect(await recordPublicKeyHistory({ dir, fileName: FILE, current: second })).toEqual(twice);
    for (const key of twice.keys) expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);

    // A private member slipped into the file is not published.
    const file = JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as { keys: Record<string, unknown>[] };
    writeFileSync(join(dir, FILE), JSON.stringify({ keys: [{ ...file.keys[0], d: 'private-part' }, file.keys[1]] }), { mode: 0o644 });
    expect(JSON.stringify(await recordPublicKeyHistory({ dir, fileName: FILE, current: second }))).not.toContain('private-part');
  });

  it('refuses a history others may write, or one that is not a key set', async () => {
    const dir = folder();
    const key = await openSigningKey({ dir, fileName: 'k.json', purpose: PURPOSE });
    writeFileSync(join(dir, FILE), '{"keys": []}');
    chmodSync(join(dir, FILE), 0o666);
    await expect(recordPublicKeyHistory({ dir, fileName: FILE, current: key })).rejects.toMatchObject({ code: 'SIGNING_KEY_UNUSABLE', message: expect.stringContaining('writable by other users (mode 666)') });
    chmodSync(join(dir, FILE), 0o644);
    for (const [text, why] of [['not json', 'not JSON'], ['{"kid": "x"}', 'no "keys" array'], ['{"keys": [{"kty": "RSA", "kid": "r"}]}', 'key 0 is not a P-256 public key with a kid']] as const) {
      writeFileSync(join(dir, FILE), text);
      await expect(recordPublicKeyHistory({ dir, fileName: FILE, current: key })).rejects.toMatchObject({ code: 'SIGNING_KEY_UNUSABLE', message: expect.stringContaining(`(${why})`) });
    }
  });

  it.skipIf(process.getuid?.() === 0)('still publishes the current key from a read-only keys folder', async () => {
    const dir = folder();
    const key = await openSigningKey({ dir, fileName: 'k.json', purpose: PURPOSE });
    chmodSync(dir, 0o500);
    try {
      expect((await recordPublicKeyHistory({ dir, fileName: FILE, current: key })).keys.map((jwk) => jwk.kid)).toEqual([key.kid]);
    } finally {
      chmodSync(dir, 0o700);
    }
  });
});
