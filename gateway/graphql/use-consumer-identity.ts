import type { Plugin } from 'graphql-yoga';
import type { ConsumerAssertionSigner } from '../auth/consumer-assertion.ts';
import { REQUEST_ID_HEADER, type GatewayContext } from './gateway-context.ts';

/**
 * Signs, once per providing bureau and before any upstream call, the
 * `x-isthmus-consumer` assertion that tells a bureau's system which
 * consumer bureau, app, user, purpose and agreements a request is for, so a
 * bureau can verify that it came through Isthmus. Runs after enforcement:
 * it signs only for bureaus the allowed part of the operation touches.
 */
export function useConsumerIdentity(
  signer: ConsumerAssertionSigner,
  /** Bureaus whose connectors send HTTP headers; a database bureau would never see the assertion, so none is signed for it. */
  carriesHeaders: ReadonlySet<string>,
): Plugin<GatewayContext> {
  return {
    async onExecute({ context, extendContext }) {
      const { principal, enforcement } = context;
      if (!principal || !enforcement) return;
      const consumer = {
        bureau: principal.bureau,
        app: principal.app,
        ...(principal.user ? { user: principal.user } : {}),
        ...(enforcement.purpose.purpose ? { purpose: enforcement.purpose.purpose } : {}),
        ...(enforcement.purpose.caseId ? { caseId: enforcement.purpose.caseId } : {}),
      };
      const { fields } = enforcement.decision;
      const providerBureaus = enforcement.decision.providerBureaus.filter((bureau) => carriesHeaders.has(bureau));
      // Each bureau hears of its own agreements only: which other bureaus the
      // consumer also reads from is none of its business.
      const agreementsAt = new Map<string, Set<string>>(providerBureaus.map((bureau) => [bureau, new Set()]));
      for (const field of fields.values()) {
        if (field.effect !== 'deny' && field.bureau !== undefined && field.agreementId !== undefined) agreementsAt.get(field.bureau)?.add(field.agreementId);
      }
      const signed = await Promise.all(
        providerBureaus.map(async (bureau) => [bureau, await signer.assertionFor({ ...consumer, provider: bureau, agreements: [...agreementsAt.get(bureau)!].sort() })] as const),
      );
      extendContext({ consumerIdentities: new Map(signed) });
    },
  };
}

/**
 * For a connector's `upstreamHeaders`: the request id as `x-request-id`, so a
 * bureau's log lines up with the gateway's and the access log, and the
 * assertion signed for `bureau` in this request's context, if any.
 *
 * The connector hands back whatever context the executor was given, so it is
 * read as `unknown`, property by property: a context without the gateway's
 * fields (a test's, a tool's) gets no headers rather than an error.
 */
export function consumerHeadersFor(bureau: string, header: string): (context: unknown) => Record<string, string> {
  return (context) => {
    const requestId = property(context, 'requestId');
    const identities = property(context, 'consumerIdentities');
    const assertion: unknown = identities instanceof Map ? identities.get(bureau) : undefined;
    const headers: Record<string, string> = typeof requestId === 'string' && requestId !== '' ? { [REQUEST_ID_HEADER]: requestId } : {};
    if (typeof assertion === 'string') headers[header] = assertion;
    return headers;
  };
}

function property(context: unknown, key: keyof GatewayContext): unknown {
  return typeof context === 'object' && context !== null ? Reflect.get(context, key) : undefined;
}
