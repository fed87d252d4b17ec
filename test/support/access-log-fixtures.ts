import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { AccessLogEntryInput } from '../../gateway/access-log/access-log-entry.ts';
import type { CheckpointSigner } from '../../gateway/access-log/access-log-checkpoint.ts';

/** A fresh ES256 checkpoint key pair, as the gateway's signing key would be handed to the writer. */
export async function createTestSigner(kid = `test-${randomUUID().slice(0, 8)}`): Promise<CheckpointSigner> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), alg: 'ES256', kid, use: 'sig' }, kid };
}

/** A plausible READ entry: market supervision reading a person's household record from public security. */
export function sampleEntry(overrides: Partial<AccessLogEntryInput> = {}): AccessLogEntryInput {
  return {
    requestId: randomUUID(),
    occurredAt: new Date(),
    action: 'READ',
    consumerBureau: 'market-supervision',
    clientApp: 'licence-review',
    user: 'officer-li',
    roles: ['developer'],
    purpose: 'business licence review',
    caseId: 'MS-2026-0001',
    agreementIds: ['agr-ms-ps-1'],
    providerBureaus: ['public-security'],
    fieldsRequested: ['Person.name', 'Person.address'],
    fieldsReturned: [{ coordinate: 'Person.name', mask: 'NAME' }, { coordinate: 'Person.address' }],
    denied: [],
    subjects: [{ kind: 'person', id: '33040219501113923X' }],
    rowCounts: { 'public-security': 1 },
    upstreamErrors: [],
    durationMs: 12.5,
    operationHash: createHash('sha256').update('{ person { name } }').digest('hex'),
    operationName: 'LicenceCheck',
    outcome: 'ALLOWED',
    ...overrides,
  };
}
