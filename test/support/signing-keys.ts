import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

/** An issuer's ES256 signing key and the public JWK a gateway is configured with. */
export interface SigningKeys {
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

/** A fresh ES256 key pair under `kid`: two calls with one kid give a real key and a forger's. */
export async function signingKeys(kid: string): Promise<SigningKeys> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}
