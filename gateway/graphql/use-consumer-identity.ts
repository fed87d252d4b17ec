import type { Plugin } from 'graphql-yoga';
import type { ConsumerAssertionSigner } from '../auth/consumer-assertion.ts';
import type { GatewayContext } from './gateway-context.ts';

/** Signed consumer identities for one request, by providing bureau; read by connectors when they call that bureau. */
export interface ConsumerIdentities {
  readonly byBureau: ReadonlyMap<string, string>;
}

/**
 * Signs, once per providing bureau and before any upstream call, the
 * `x-isthmus-consumer` assertion that tells a bureau's system which
 * consumer bureau, app, user, purpose and agreements a request is for, so a
 * bureau can verify that it came through Isthmus. Runs after enforcement:
 * it signs only for bureaus the allowed part of the operation touches.
 */
export function useConsumerIdentity(signer: ConsumerAssertionSigner): Plugin<GatewayContext & { consumerIdentities?: ConsumerIdentities }> {
  return {
    async onExecute({ args }) {
      const context = args.contextValue as GatewayContext & { consumerIdentities?: ConsumerIdentities };
      const { principal, enforcement } = context;
      if (!principal || !enforcement) return;
      const assertionFor = signer.forRequest({
        requestId: context.requestId,
        bureau: principal.bureau,
        app: principal.app,
        ...(principal.user ? { user: principal.user } : {}),
        ...(enforcement.purpose.purpose ? { purpose: enforcement.purpose.purpose } : {}),
        ...(enforcement.purpose.caseId ? { caseId: enforcement.purpose.caseId } : {}),
      });
      const providers = enforcement.decision.providerBureaus;
      const signed = await Promise.all(providers.map(async (bureau) => [bureau, await assertionFor(bureau, enforcement.decision.agreementIds)] as const));
      context.consumerIdentities = { byBureau: new Map(signed) };
    },
  };
}

/** For a connector's `upstreamHeaders`: the assertion signed for `bureau` in this request's context, if any. */
export function consumerHeadersFor(bureau: string, header: string): (context: unknown) => Record<string, string> {
  return (context) => {
    const assertion = (context as { consumerIdentities?: ConsumerIdentities } | undefined)?.consumerIdentities?.byBureau.get(bureau);
    return assertion ? { [header]: assertion } : {};
  };
}
