import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TimestampSettingsInvalid } from './timestamp-error.ts';

/**
 * How long a TSA may take to answer, body included. Public TSAs answer in
 * well under a second; ten seconds rides out a slow one without holding a
 * checkpoint's stamp for long (stamping never blocks a request anyway).
 */
export const DEFAULT_TSA_TIMEOUT_MS = 10_000;
/** The largest answer read: a token with a certificate chain is a few KiB; anything far larger is not a timestamp. */
export const DEFAULT_TSA_MAX_RESPONSE_BYTES = 64 * 1024;
const MAX_TSA_TIMEOUT_MS = 120_000;

/** Where checkpoints are stamped, and whom to believe. */
export interface TimestampSettings {
  /** The TSA's URL (`ISTHMUS_TSA_URL`): RFC 3161 over HTTP, `POST application/timestamp-query`. */
  readonly url: string;
  /** The CA certificates a TSA's certificate must chain to (`ISTHMUS_TSA_CA_FILE`, PEM). */
  readonly trusted: readonly X509Certificate[];
  /** `ISTHMUS_TSA_TIMEOUT_MS`, default {@link DEFAULT_TSA_TIMEOUT_MS}. */
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
}

/**
 * Reads the timestamp settings from the environment; `undefined` when
 * `ISTHMUS_TSA_URL` is unset (stamping is optional). Every problem is
 * reported together in one {@link TimestampSettingsInvalid}.
 *
 * - `ISTHMUS_TSA_URL`: http or https. Plain http is allowed on any host:
 *   the token is signed and carries the request's nonce, so the channel adds
 *   nothing to what it proves (most public TSAs serve http).
 * - `ISTHMUS_TSA_CA_FILE`: required with the URL; PEM, one or more CA
 *   certificates.
 * - `ISTHMUS_TSA_TIMEOUT_MS`: optional, 1…120000.
 *
 * @example
 * const tsa = readTimestampSettings(process.env); // undefined: no stamping
 */
export function readTimestampSettings(env: Readonly<Record<string, string | undefined>>): TimestampSettings | undefined {
  const url = env.ISTHMUS_TSA_URL?.trim() || undefined;
  const caFile = env.ISTHMUS_TSA_CA_FILE?.trim() || undefined;
  const timeoutText = env.ISTHMUS_TSA_TIMEOUT_MS?.trim() || undefined;
  if (url === undefined) {
    if (caFile !== undefined || timeoutText !== undefined) throw new TimestampSettingsInvalid(['ISTHMUS_TSA_CA_FILE or ISTHMUS_TSA_TIMEOUT_MS is set but ISTHMUS_TSA_URL is not']);
    return undefined;
  }
  const problems: string[] = [];
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') problems.push('ISTHMUS_TSA_URL must be an http:// or https:// URL');
    // fetch refuses URLs with credentials; and a URL with a password would end up in logs.
    if (parsed.username !== '' || parsed.password !== '') problems.push('ISTHMUS_TSA_URL must not carry credentials');
  } catch {
    problems.push('ISTHMUS_TSA_URL does not parse as a URL');
  }
  let trusted: X509Certificate[] = [];
  if (caFile === undefined) problems.push('ISTHMUS_TSA_CA_FILE is required with ISTHMUS_TSA_URL (the CA the TSA\'s certificate must chain to)');
  else {
    try {
      trusted = readTrustedCertificates(readFileSync(caFile, 'utf8'));
    } catch (error) {
      problems.push(error instanceof TimestampSettingsInvalid ? `ISTHMUS_TSA_CA_FILE: ${error.problems.join('; ')}` : 'ISTHMUS_TSA_CA_FILE cannot be read');
    }
  }
  let timeoutMs = DEFAULT_TSA_TIMEOUT_MS;
  if (timeoutText !== undefined) {
    timeoutMs = Number(timeoutText);
    if (!/^\d+$/u.test(timeoutText) || timeoutMs < 1 || timeoutMs > MAX_TSA_TIMEOUT_MS) problems.push(`ISTHMUS_TSA_TIMEOUT_MS must be a whole number of milliseconds from 1 to ${MAX_TSA_TIMEOUT_MS}`);
  }
  if (problems.length > 0) throw new TimestampSettingsInvalid(problems);
  return { url, trusted, timeoutMs, maxResponseBytes: DEFAULT_TSA_MAX_RESPONSE_BYTES };
}

/** Parses PEM text holding one or more CA certificates; a non-CA certificate or none at all is refused. */
export function readTrustedCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/gu) ?? [];
  if (blocks.length === 0) throw new TimestampSettingsInvalid(['no PEM certificate found']);
  const problems: string[] = [];
  const certificates: X509Certificate[] = [];
  blocks.forEach((block, index) => {
    try {
      const cert = new X509Certificate(block);
      if (cert.ca) certificates.push(cert);
      else problems.push(`certificate ${index + 1} is not a CA certificate`);
    } catch {
      problems.push(`certificate ${index + 1} does not parse`);
    }
  });
  if (problems.length > 0) throw new TimestampSettingsInvalid(problems);
  return certificates;
}
