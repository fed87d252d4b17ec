import type { Plugin } from 'graphql-yoga';
import type { ConsumerAssertionSigner } from '../auth/consumer-assertion.ts';
import { REQUEST_ID_HEADER, type GatewayContext } from './gateway-context.ts';

/**
 * The transaction-local PostgreSQL settings a database bureau's read is made
 * under (`select set_config(name, value, true)`), the database's
 * counterpart of the consumer assertion. A bureau's row-level security
 * policy or audit trigger reads them with `current_setting(name, true)`;
 * what the gateway does not know is `''`. `agreement_ids` is the agreements
 * exercised at that bureau, comma-separated and sorted.
 */
export const CONSUMER_SETTINGS = Object.freeze({
  bureau: 'isthmus.consumer_bureau',
  app: 'isthmus.consumer_app',
  user: 'isthmus.consumer_user',
  purpose: 'isthmus.purpose',
  caseId: 'isthmus.case_id',
  agreements: 'isthmus.agreement_ids',
  requestId: 'isthmus.request_id',
});

/**
 * Signs, once per providing bureau and before any upstream call, the
 * `x-isthmus-consumer` assertion that tells a bureau's system which
 * consumer bureau, app, user, purpose and agreements a request is for, so a
 * bureau can verify that it came through Isthmus. Runs after enforcement:
 * it signs only for bureaus the allowed part of the operation touches.
 * A database bureau sees no headers: for it, the same statement becomes the
 * {@link CONSUMER_SETTINGS} of its read's transaction (`consumerSettings`;
 * the database trusts the gateway's login, so nothing is signed).
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
      const { fields, providerBureaus } = enforcement.decision;
      // Each bureau hears of its own agreements only: which other bureaus the
      // consumer also reads from is none of its business.
      const agreementsAt = new Map<string, Set<string>>(providerBureaus.map((bureau) => [bureau, new Set()]));
      for (const field of fields.values()) {
        if (field.effect !== 'deny' && field.bureau !== undefined && field.agreementId !== undefined) agreementsAt.get(field.bureau)?.add(field.agreementId);
      }
      const agreements = (bureau: string): string[] => [...agreementsAt.get(bureau)!].sort();
      const signed = await Promise.all(
        providerBureaus
          .filter((bureau) => carriesHeaders.has(bureau))
          .map(async (bureau) => [bureau, await signer.assertionFor({ ...consumer, provider: bureau, agreements: agreements(bureau) })] as const),
      );
      const settings = providerBureaus
        .filter((bureau) => !carriesHeaders.has(bureau))
        .map((bureau) => {
          const values = {
            [CONSUMER_SETTINGS.bureau]: consumer.bureau,
            [CONSUMER_SETTINGS.app]: consumer.app,
            [CONSUMER_SETTINGS.user]: consumer.user ?? '',
            [CONSUMER_SETTINGS.purpose]: consumer.purpose ?? '',
            [CONSUMER_SETTINGS.caseId]: consumer.caseId ?? '',
            [CONSUMER_SETTINGS.agreements]: agreements(bureau).join(','),
            [CONSUMER_SETTINGS.requestId]: context.requestId,
          };
          return [bureau, Object.freeze(values)] as const;
        });
      extendContext({ consumerIdentities: new Map(signed), consumerSettings: new Map(settings) });
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

/**
 * For a `sql` connector's `sessionSettings`: the {@link CONSUMER_SETTINGS}
 * made for `bureau` in this request's context, or none (a context without
 * the gateway's fields, or an operation nobody was decided for), in which
 * case the connector reads without setting anything.
 */
export function consumerSettingsFor(bureau: string): (context: unknown) => Readonly<Record<string, string>> {
  return (context) => {
    const settings = property(context, 'consumerSettings');
    const mine: unknown = settings instanceof Map ? settings.get(bureau) : undefined;
    return typeof mine === 'object' && mine !== null ? (mine as Readonly<Record<string, string>>) : {};
  };
}

function property(context: unknown, key: keyof GatewayContext): unknown {
  return typeof context === 'object' && context !== null ? Reflect.get(context, key) : undefined;
}
