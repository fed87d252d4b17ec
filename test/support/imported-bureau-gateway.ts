import { loadConfig } from '../../gateway/config/config.ts';
import { startGateway, type Gateway } from '../../gateway/gateway.ts';
import { approveAgreement, requestAgreement, type LifecycleResult } from '../../policies/agreement-lifecycle.ts';
import type { Principal } from '../../policies/principal.ts';
import { defaultStoreTarget, type GatewayDatabase } from './test-stores.ts';

function staff(bureau: string, user: string, role: 'developer' | 'data_officer'): Principal {
  return { issuer: 'isthmus-dev', subject: user, user, bureau, app: 'isthmus-console', roles: [role], scopes: [], expiresAt: Number.MAX_SAFE_INTEGER };
}
function ok(result: LifecycleResult) {
  if (!result.ok) throw new Error(`${result.code} ${result.message}`);
  return result;
}

/**
 * Starts a gateway over the imported schemas folder alone: a query before the
 * agreement is refused, after the provider's officer approves it the data comes back.
 */
export async function queryThroughGateway(dir: string, env: Record<string, string>, provider: string, fields: readonly string[], query: string): Promise<{ before: any; after: any }> {
  const database: GatewayDatabase = await defaultStoreTarget().gatewayDatabase({ prefix: 'isthmus_import' });
  let gateway: Gateway | undefined;
  try {
    gateway = await startGateway(loadConfig({ PORT: '0', LOG_LEVEL: 'error', ISTHMUS_DEV_ISSUER: 'true', ISTHMUS_SCHEMAS_DIR: dir, ...database.env, ...env }));
    const token = await gateway.devIssuer!.signDevToken({ bureau: 'civil-affairs', app: 'allowance-review', user: 'he.fang@civil-affairs', roles: ['developer'], scopes: ['imported'], ttl: '1h' });
    const ask = async () =>
      (await fetch(`${gateway!.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-isthmus-purpose': 'allowance-review' },
        body: JSON.stringify({ query }),
      })).json();
    const before = await ask();
    const now = new Date();
    const requested = ok(
      requestAgreement(staff('civil-affairs', 'zhou.min@civil-affairs', 'developer'), {
        id: `agr-import-${provider}`,
        consumerApp: 'allowance-review',
        providerBureau: provider,
        fields,
        masks: {},
        purpose: 'allowance-review',
        legalBasis: '《社会救助暂行办法》第十一条 (test agreement for an imported bureau)',
        rowScope: 'ANY',
        scope: 'imported',
        validFrom: new Date(now.getTime() - 60_000).toISOString(),
        validUntil: new Date(now.getTime() + 86_400_000).toISOString(),
        submit: true,
      }, now, gateway.catalogue),
    );
    await gateway.agreements.create(requested);
    await gateway.agreements.transition(ok(approveAgreement(requested.agreement, staff(provider, `officer@${provider}`, 'data_officer'), {}, now, gateway.catalogue)));
    await gateway.agreementRegistry.refresh();
    return { before, after: await ask() };
  } finally {
    await gateway?.close();
    await database.drop();
  }
}

