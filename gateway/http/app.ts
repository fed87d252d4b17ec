import { Hono } from 'hono';
import type { JSONWebKeySet } from 'jose';
import type { BreakerState } from '../../connectors/connector.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Logger } from '../observability/logger.ts';
import { GATEWAY_JWKS_PATH } from '../auth/consumer-assertion.ts';
import { ACCESS_LOG_JWKS_PATH } from '../access-log/access-log-jwks.ts';
import type { EvidenceGateState } from '../access-log/evidence-gate.ts';
import { LOG_KEYS_PATH, type LogKeysDocument } from '../access-log/log-tree-keys.ts';
import type { WitnessStatus } from '../access-log/witness-publisher.ts';
import { apiErrorHandler, apiNotFound } from './api-routes.ts';
import type { AuthReadiness } from '../auth/create-gateway-auth.ts';

/** What the operational routes read. */
export interface AppDeps {
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Resolves when the gateway's database answers; rejects otherwise. */
  readonly pingStore: () => Promise<void>;
  readonly breakers: () => ReadonlyMap<string, BreakerState>;
  /** True once shutdown has begun: readiness fails so load balancers stop sending traffic. */
  readonly draining: () => boolean;
  /** The issuers' keys (`GatewayAuth.readiness`): an issuer whose configuration cannot work makes the gateway not ready. */
  readonly authReadiness?: () => AuthReadiness;
  /** The dev issuer's public keys, served at `/.well-known/jwks.json`; absent (404) unless `ISTHMUS_DEV_ISSUER` is on. */
  readonly devIssuerJwks?: JSONWebKeySet;
  /** The gateway's consumer-assertion keys, served at `/.well-known/isthmus-gateway-jwks.json` for bureaus to verify `x-isthmus-consumer`; a function is asked on every request (the keys rotate). */
  readonly gatewayJwks?: () => JSONWebKeySet;
  /** Every key that has signed access log checkpoints, current first, served at `/.well-known/isthmus-log-jwks.json` for `isthmus log verify --jwks`. */
  readonly accessLogJwks?: JSONWebKeySet;
  /** The log's note keys and witnesses, served at `/.well-known/isthmus-log-keys`; a function is asked on every request (the keys rotate). */
  readonly logKeys?: () => LogKeysDocument;
  /** The evidence gate and the witnesses, for `/readyz`: a closed gate makes the gateway not ready. */
  readonly evidence?: () => { readonly gate: EvidenceGateState; readonly witnesses: readonly WitnessStatus[] };
}

/**
 * Everything but `/graphql` (which the server hands straight to yoga, see
 * `server.ts`): health, readiness, metrics, and later the admin API. No I/O
 * happens here until a request arrives.
 */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    const bureaus = Object.fromEntries([...deps.breakers()].map(([bureau, state]) => [bureau, { breaker: state }]));
    let store: 'ok' | 'unreachable' = 'ok';
    try {
      await deps.pingStore();
    } catch {
      store = 'unreachable';
    }
    // An open breaker degrades one bureau's fields but the gateway still
    // serves the others, so only the store, draining, the evidence gate
    // (which refuses every cross-bureau read once it closes) and an issuer
    // whose configuration cannot work (an unreachable one only delays its own
    // tokens) decide readiness.
    const evidence = deps.evidence?.();
    const witnessed = evidence === undefined || evidence.gate.open;
    const auth = deps.authReadiness?.();
    const issuersOk = auth?.ready !== false;
    const ready = store === 'ok' && !deps.draining() && witnessed && issuersOk;
    const reasons = [
      ...(store === 'ok' ? [] : ['the store is unreachable']),
      ...(deps.draining() ? ['the gateway is shutting down'] : []),
      ...(witnessed ? [] : [`EVIDENCE_UNWITNESSED: ${evidence!.gate.reason}`]),
      ...(issuersOk ? [] : ['ISSUER_MISCONFIGURED: a token issuer\'s configuration cannot work (see issuers)']),
    ];
    return c.json(
      {
        status: ready ? 'ready' : 'not-ready',
        ...(reasons.length > 0 && { reasons }),
        store,
        draining: deps.draining(),
        ...(evidence && { evidence: evidenceJson(evidence) }),
        bureaus,
        ...(auth && auth.issuers.length > 0 && { issuers: auth.issuers }),
      },
      ready ? 200 : 503,
    );
  });

  app.get('/metrics', async (c) => {
    c.header('content-type', deps.metrics.registry.contentType);
    return c.body(await deps.metrics.registry.metrics());
  });

  // Public keys only; a short max-age because verifiers refetch on an unknown kid anyway.
  const { devIssuerJwks, gatewayJwks, accessLogJwks } = deps;
  if (devIssuerJwks) app.get('/.well-known/jwks.json', (c) => c.json(devIssuerJwks, 200, { 'cache-control': 'public, max-age=300' }));
  if (gatewayJwks) app.get(GATEWAY_JWKS_PATH, (c) => c.json(gatewayJwks(), 200, { 'cache-control': 'public, max-age=300' }));
  if (accessLogJwks) app.get(ACCESS_LOG_JWKS_PATH, (c) => c.json(accessLogJwks, 200, { 'cache-control': 'public, max-age=300' }));
  const { logKeys } = deps;
  if (logKeys) app.get(LOG_KEYS_PATH, (c) => c.json(logKeys(), 200, { 'cache-control': 'public, max-age=300' }));

  // The same shape as every JSON API's errors: the sub-apps mounted here answer their own; these catch the rest.
  app.notFound(apiNotFound);
  app.onError(apiErrorHandler(deps.log));
  return app;
}

/** The evidence part of `/readyz`: the gate and each witness, without URLs' secrets (there are none: witness URLs carry no credentials). */
function evidenceJson(evidence: { readonly gate: EvidenceGateState; readonly witnesses: readonly WitnessStatus[] }) {
  const { gate, witnesses } = evidence;
  return {
    witnessed: gate.open,
    enabled: gate.enabled,
    ...(gate.reason !== undefined && { reason: gate.reason }),
    ...(gate.oldestUncoveredAt && { oldestUncoveredAt: gate.oldestUncoveredAt.toISOString() }),
    ...(gate.coveredSize !== undefined && { coveredSize: gate.coveredSize }),
    witnesses: witnesses.map((witness) => ({
      name: witness.name,
      ...(witness.cosignedNumber !== undefined && { cosignedNumber: witness.cosignedNumber, cosignedSize: witness.cosignedSize }),
      ...(witness.lastError !== undefined && { lastError: witness.lastError }),
    })),
  };
}
