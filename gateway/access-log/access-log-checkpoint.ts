import type { KeyObject } from 'node:crypto';
import { CompactSign, compactVerify, importJWK, type JWK } from 'jose';
import { canonicalJson } from './canonical-json.ts';

/**
 * The key that signs checkpoints: the gateway's signing key pair, passed in
 * so the log does not depend on where keys come from.
 */
export interface CheckpointSigner {
  readonly privateKey: CryptoKey | KeyObject;
  /** Published (JWKS) so that anyone can check a checkpoint; its `alg` defaults to ES256. */
  readonly publicJwk: JWK;
  readonly kid: string;
}

/** What a checkpoint states: chain `chainId` had reached `seq` with `hash` at `signedAt`. */
export interface CheckpointClaims {
  readonly chainId: string;
  /** 0 for a chain closed before its first entry. */
  readonly seq: number;
  readonly hash: string;
  readonly signedAt: Date;
  /** Written by `close()`: the chain ends here. */
  readonly final: boolean;
}

/** `typ` of the JWS header and payload, so a checkpoint cannot pass for a token or the other way round. */
const CHECKPOINT_TYPE = 'isthmus-log-checkpoint';
const DEFAULT_CHECKPOINT_ALG = 'ES256';

/**
 * Signs a checkpoint as a compact JWS over the canonical JSON of its claims.
 *
 * @example
 * const jws = await signCheckpoint(signer, { chainId, seq: 1_000, hash, signedAt: new Date(), final: false });
 */
export async function signCheckpoint(signer: CheckpointSigner, claims: CheckpointClaims): Promise<string> {
  return new CompactSign(new TextEncoder().encode(payload(claims)))
    .setProtectedHeader({ alg: signer.publicJwk.alg ?? DEFAULT_CHECKPOINT_ALG, kid: signer.kid, typ: CHECKPOINT_TYPE })
    .sign(signer.privateKey);
}

/**
 * What checking one checkpoint found: `VALID`; `UNKNOWN_KEY` (no key has its
 * kid); `BAD_SIGNATURE` (the key with its kid does not verify the signature,
 * or does not import); `CLAIMS_DIFFER` (the signature holds, but what it
 * signed differs from the stored columns).
 */
export type CheckpointVerdict = 'VALID' | 'UNKNOWN_KEY' | 'BAD_SIGNATURE' | 'CLAIMS_DIFFER';

/** Checks stored checkpoints against public keys; keys are imported once per kid. */
export interface CheckpointVerifier {
  /** True when `jws` is signed by the key `kid` names and states exactly `claims`. */
  verify(jws: string, kid: string, claims: CheckpointClaims): Promise<boolean>;
  /** The same check, saying what failed. */
  check(jws: string, kid: string, claims: CheckpointClaims): Promise<CheckpointVerdict>;
}

/**
 * A verifier over the public keys `keyFor` knows. An unknown kid, a bad
 * signature, an algorithm other than the key's, or a payload that differs
 * from the stored columns all fail.
 */
export function createCheckpointVerifier(keyFor: (kid: string) => JWK | undefined): CheckpointVerifier {
  const imported = new Map<string, Promise<{ key: CryptoKey | Uint8Array; alg: string } | null | undefined>>();
  /** Undefined: no such key; null: a key that does not import. */
  const keyOf = (kid: string) => {
    let key = imported.get(kid);
    if (!key) {
      const jwk = keyFor(kid);
      const alg = jwk?.alg ?? DEFAULT_CHECKPOINT_ALG;
      key = jwk ? importJWK(jwk, alg).then((value) => ({ key: value, alg }), () => null) : Promise.resolve(undefined);
      imported.set(kid, key);
    }
    return key;
  };
  const check = async (jws: string, kid: string, claims: CheckpointClaims): Promise<CheckpointVerdict> => {
    const key = await keyOf(kid);
    if (key === undefined) return 'UNKNOWN_KEY';
    if (key === null) return 'BAD_SIGNATURE';
    let verified;
    try {
      verified = await compactVerify(jws, key.key, { algorithms: [key.alg] });
    } catch {
      return 'BAD_SIGNATURE';
    }
    const { payload: signed, protectedHeader } = verified;
    return protectedHeader.kid === kid && protectedHeader.typ === CHECKPOINT_TYPE && new TextDecoder().decode(signed) === payload(claims) ? 'VALID' : 'CLAIMS_DIFFER';
  };
  return {
    check,
    async verify(jws, kid, claims) {
      return (await check(jws, kid, claims)) === 'VALID';
    },
  };
}

function payload(claims: CheckpointClaims): string {
  return canonicalJson({
    typ: CHECKPOINT_TYPE,
    chainId: claims.chainId,
    seq: claims.seq,
    hash: claims.hash,
    signedAt: claims.signedAt.toISOString(),
    final: claims.final,
  });
}
