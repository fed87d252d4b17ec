import type { YogaServerOptions } from 'graphql-yoga';
import type { TokenVerifier } from '../auth/verify-token.ts';
import type { ConsumerAssertionSigner } from '../auth/consumer-assertion.ts';
import type { GatewayContext, GatewayServerContext } from './gateway-context.ts';
import { useAuthentication } from './use-authentication.ts';
import { useOperationLimits, type OperationLimits } from './use-operation-limits.ts';
import { useOperationCost, type OperationCostOptions } from './operation-cost.ts';
import type { AuthThrottle } from '../auth/auth-throttle.ts';
import { useAccessLog, type AccessLogPluginOptions } from './use-access-log.ts';
import { useEnforcement, type EnforcementOptions } from './use-enforcement.ts';
import { useConsumerIdentity } from './use-consumer-identity.ts';
import { useClientErrors } from './use-client-errors.ts';
import { useSecurityEvents } from './use-security-events.ts';
import type { SecurityEventRecorder } from '../observability/security-events.ts';
import type { Principal } from '../../policies/principal.ts';
import { useTrustedOperations } from './use-trusted-operations.ts';
import type { OperationRegistry } from '../operations/operation-registry.ts';
import { createOperationHashes } from '../operations/operation-hashes.ts';

/** One plugin of the gateway's yoga: whatever yoga's `plugins` option takes. */
export type GatewayPlugin = NonNullable<YogaServerOptions<GatewayServerContext, GatewayContext>['plugins']>[number];

/** What the gateway's plugins are built from. */
export interface GatewayPluginDeps {
  readonly verifier: TokenVerifier;
  readonly limits: OperationLimits;
  /** The operation cost limit and the catalogue's list sizes (per catalogue generation). */
  readonly cost: OperationCostOptions;
  /** Failed authentications per client address; absent: none counted. */
  readonly authThrottle?: AuthThrottle;
  readonly accessLog: AccessLogPluginOptions;
  readonly enforcement: EnforcementOptions;
  readonly consumerAssertions: ConsumerAssertionSigner;
  /** Bureaus whose connectors carry HTTP headers, so their calls carry the signed consumer identity. */
  readonly httpBureaus: ReadonlySet<string>;
  /** Where whole-request refusals are recorded (`observability/security-events.ts`). */
  readonly securityEvents: Pick<SecurityEventRecorder, 'record'>;
  /** Registered operations per app (`operations/operation-registry.ts`). */
  readonly operations: OperationRegistry;
}

/** The gateway's plugins by stage: each one `useX` of its own file. */
export interface GatewayPlugins {
  readonly authentication: GatewayPlugin;
  readonly trustedOperations: GatewayPlugin;
  readonly limits: GatewayPlugin;
  readonly cost: GatewayPlugin;
  readonly accessLog: GatewayPlugin;
  readonly enforcement: GatewayPlugin;
  readonly consumerIdentity: GatewayPlugin;
  readonly clientErrors: GatewayPlugin;
  readonly securityEvents: GatewayPlugin;
}

/**
 * The order of a query's life, which is the order the plugins run in:
 * 1. authentication — before the body is parsed, so strangers learn nothing;
 *    then trusted operations — once the app is known, before the document is parsed: a hash-only
 *    request gets its registered document, and in mode `require` an unregistered one is refused;
 * 2. limits — refuse oversized operations during validation, before any work;
 *    cost — then their cost (list sizes × selected fields), also while validating, so
 *    yoga's validation cache keeps both free for documents seen before; after the
 *    depth limit, which bounds the walk it does;
 * 3. access log — registered before enforcement so that its after-hook sees every
 *    outcome, refusals included; it appends the record enforcement built and holds
 *    the response until the entry is committed;
 * 4. enforcement — the adapter over `policies/enforce.ts`: plan, decide, prune denied
 *    fields, then shape and mask the result and build the access record;
 * 5. consumer identity — sign who is asking for each bureau the allowed part touches,
 *    after enforcement so denied bureaus are not even told;
 * 6. client errors — every error gets its code, status and the request id;
 * 7. security events — after client errors, so a refusal is recorded with the
 *    code and reason the client receives, whatever raised it.
 * Each fills its part of the one request context (`gateway-context.ts`) through
 * yoga's `extendContext`, for the ones after it.
 */
const LIFE_ORDER: readonly (keyof GatewayPlugins)[] = ['authentication', 'trustedOperations', 'limits', 'cost', 'accessLog', 'enforcement', 'consumerIdentity', 'clientErrors', 'securityEvents'];

/** Builds every plugin of the gateway once, at start-up. */
export function createGatewayPlugins(deps: GatewayPluginDeps): GatewayPlugins {
  const principals = new WeakMap<Request, Principal>();
  // One sha256 per document for the three stages that need it (trusted operations, the access log, pinned agreements).
  const hashes = createOperationHashes();
  return {
    authentication: useAuthentication(deps.verifier, principals, deps.authThrottle),
    trustedOperations: useTrustedOperations(deps.operations, principals, hashes),
    limits: useOperationLimits(deps.limits),
    cost: useOperationCost(deps.cost),
    accessLog: useAccessLog({ ...deps.accessLog, hashes }),
    enforcement: useEnforcement({ ...deps.enforcement, hashes }),
    consumerIdentity: useConsumerIdentity(deps.consumerAssertions, deps.httpBureaus),
    clientErrors: useClientErrors(),
    securityEvents: useSecurityEvents(deps.securityEvents, principals),
  };
}

/**
 * The plugins given, in the order of a query's life. Every gateway runs all
 * of them; a benchmark that measures what a stage costs passes fewer
 * (authentication and client errors are never left out).
 *
 * @example
 * inLifeOrder(createGatewayPlugins(deps));
 * const { accessLog: _measured, ...rest } = createGatewayPlugins(deps);
 * inLifeOrder(rest); // the gateway without its access log
 */
export function inLifeOrder(plugins: Pick<GatewayPlugins, 'authentication' | 'clientErrors'> & Partial<GatewayPlugins>): readonly GatewayPlugin[] {
  return LIFE_ORDER.flatMap((stage) => {
    const plugin = plugins[stage];
    return plugin ? [plugin] : [];
  });
}
