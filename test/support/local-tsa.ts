import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** OpenSSL 3, whose `ts -reply` is the test's timestamp authority. */
export const OPENSSL = '/usr/bin/openssl';

/** A CA made for a test: its certificate (PEM) and where its key is. */
export interface TestCa {
  readonly certFile: string;
  readonly keyFile: string;
  readonly pem: string;
}

/** A TSA's signing certificate and key, issued by a {@link TestCa}. */
export interface TestTsaIdentity {
  readonly certFile: string;
  readonly keyFile: string;
  readonly name: string;
}

/**
 * A scratch folder of test PKI material made with openssl: CAs (EC P-256,
 * basicConstraints CA) and TSA certificates under them (RSA 2048 or EC P-256,
 * extendedKeyUsage timeStamping, critical: what `openssl ts` and RFC 3161
 * require of a TSA).
 */
export interface TestPki {
  readonly dir: string;
  createCa(name: string): Promise<TestCa>;
  /** An intermediate CA issued by `parent`. */
  createSubCa(parent: TestCa, name: string): Promise<TestCa>;
  createTsa(ca: TestCa, name: string, key: 'rsa' | 'ec'): Promise<TestTsaIdentity>;
  remove(): void;
}

/** Makes a {@link TestPki} in a fresh temporary folder. */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'isthmus-tsa-'));
  let serial = 1;
  return {
    dir,
    async createCa(name) {
      const certFile = join(dir, `${name}.ca.pem`);
      const keyFile = join(dir, `${name}.ca.key`);
      await run(OPENSSL, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile,
        '-subj', `/CN=${name}`, '-days', '2', '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
      return { certFile, keyFile, pem: readFileSync(certFile, 'utf8') };
    },
    async createSubCa(parent, name) {
      const base = join(dir, `${name}.ca`);
      writeFileSync(`${base}.ext`, 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n');
      await run(OPENSSL, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${name}`]);
      serial += 1;
      await run(OPENSSL, ['x509', '-req', '-in', `${base}.csr`, '-CA', parent.certFile, '-CAkey', parent.keyFile, '-set_serial', String(serial),
        '-out', `${base}.pem`, '-days', '2', '-extfile', `${base}.ext`]);
      return { certFile: `${base}.pem`, keyFile: `${base}.key`, pem: readFileSync(`${base}.pem`, 'utf8') };
    },
    async createTsa(ca, name, key) {
      const base = join(dir, name);
      const extFile = `${base}.ext`;
      writeFileSync(extFile, 'basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\nsubjectKeyIdentifier=hash\n');
      const newKey = key === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
      await run(OPENSSL, ['req', ...newKey, '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${name}`]);
      serial += 1;
      await run(OPENSSL, ['x509', '-req', '-in', `${base}.csr`, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', String(serial),
        '-out', `${base}.pem`, '-days', '2', '-extfile', extFile]);
      return { certFile: `${base}.pem`, keyFile: `${base}.key`, name };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * How the local TSA answers: `grant` stamps; `reject` runs openssl with a
 * configuration that accepts only SHA-1 imprints, so openssl itself answers
 * status rejection, failInfo badAlg; `hang` never answers; `replay` answers
 * every request with the first token it granted; `http-error` answers 500.
 */
export type LocalTsaMode = 'grant' | 'reject' | 'hang' | 'replay' | 'http-error';

/** A running local TSA. */
export interface LocalTsa {
  readonly url: string;
  /** Requests received. */
  readonly requests: number;
  mode: LocalTsaMode;
  close(): Promise<void>;
}

/**
 * Starts an RFC 3161 TSA over HTTP on 127.0.0.1 (port 0): each
 * `POST application/timestamp-query` is answered by `openssl ts -reply` with
 * the identity's certificate and key, one request at a time (openssl keeps
 * the serial number in a file).
 */
/** Options of {@link startLocalTsa}. */
export interface LocalTsaOptions {
  readonly mode?: LocalTsaMode;
  readonly signerDigest?: 'sha256' | 'sha384' | 'sha512';
  /** A PEM file of further certificates the tokens carry (intermediate CAs). */
  readonly chainFile?: string;
}

export async function startLocalTsa(pki: TestPki, identity: TestTsaIdentity, options: LocalTsaOptions = {}): Promise<LocalTsa> {
  const { mode = 'grant', signerDigest = 'sha256', chainFile } = options;
  const base = join(pki.dir, `${identity.name}.tsa`);
  writeFileSync(`${base}.serial`, '01\n');
  const config = (digests: string): string => `[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\nserial = ${base}.serial\ncrypto_device = builtin\n`
    + `signer_cert = ${identity.certFile}\nsigner_key = ${identity.keyFile}\nsigner_digest = ${signerDigest}\ndefault_policy = 1.3.6.1.4.1.99999.1\n`
    + `other_policies = 1.3.6.1.4.1.99999.2\n${chainFile ? `certs = ${chainFile}\n` : ''}digests = ${digests}\naccuracy = secs:1\nordering = yes\ntsa_name = yes\n`
    + `ess_cert_id_chain = no\ness_cert_id_alg = sha256\n`;
  writeFileSync(`${base}.grant.cnf`, config('sha256, sha384, sha512'));
  writeFileSync(`${base}.reject.cnf`, config('sha1'));
  let queue: Promise<unknown> = Promise.resolve();
  let first: Buffer | undefined;
  let count = 0;
  const state = { mode };
  const server: Server = createServer((request, response) => {
    count += 1;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const current = state.mode;
      if (current === 'hang') return;
      if (current === 'http-error') {
        response.writeHead(500, { 'content-type': 'text/plain' }).end('broken');
        return;
      }
      if (current === 'replay' && first) {
        response.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(first);
        return;
      }
      const id = count;
      queue = queue.then(async () => {
        writeFileSync(`${base}.${id}.tsq`, Buffer.concat(chunks));
        await run(OPENSSL, ['ts', '-reply', '-config', `${base}.${current === 'reject' ? 'reject' : 'grant'}.cnf`, '-queryfile', `${base}.${id}.tsq`, '-out', `${base}.${id}.tsr`]);
        const answer = readFileSync(`${base}.${id}.tsr`);
        if (current !== 'reject') first ??= answer;
        response.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(answer);
      }).catch(() => response.writeHead(500).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/tsr`,
    get requests() {
      return count;
    },
    get mode() {
      return state.mode;
    },
    set mode(next: LocalTsaMode) {
      state.mode = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
