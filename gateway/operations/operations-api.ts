import { Hono, type MiddlewareHandler } from 'hono';
import type { Principal } from '../../policies/principal.ts';
import { ApiError } from '../errors/api-error.ts';
import { apiRoutes } from '../http/api-routes.ts';
import { authenticateCaller } from '../http/authenticate-caller.ts';
import type { Logger } from '../observability/logger.ts';
import { parseBody } from '../admin/admin-input.ts';
import { isOperationsMode, manifestToJson, OPERATIONS_MODES, parseOperationManifest, type OperationsMode } from './operation-manifest.ts';
import type { OperationManifestStore, StoredManifest } from './operation-manifest-store.ts';
import type { OperationRegistry } from './operation-registry.ts';

/**
 * Largest body of `PUT /operations/…`: a manifest of a few hundred documents
 * of a few kilobytes each. Larger than the agreements' bound, which holds one request.
 */
export const DEFAULT_OPERATIONS_MAX_BODY_BYTES = 2 * 1_048_576;

/** What the operations API needs. */
export interface OperationsApiDeps {
  /** Verifies the request's credentials; rejects with an auth error when it cannot. */
  readonly authenticate: (request: Request) => Promise<Principal>;
  readonly store: OperationManifestStore;
  /** Reloaded after each change, so the gateway that made it applies it to its next request; replicas hear the NOTIFY. */
  readonly registry: OperationRegistry;
  readonly now?: () => Date;
  readonly log?: Pick<Logger, 'error'>;
}

type OperationsEnv = { Variables: { principal: Principal } };

const NAME = /^[a-z0-9][a-z0-9._-]{0,127}$/i;

/**
 * An app's registered operations, for operators, mounted at `/admin/api`:
 * - `GET /operations/:bureau/:app` — the mode and manifest in force, and every change (who, when);
 * - `PUT /operations/:bureau/:app` — `{ manifest: { "<sha256>": "<document>" }, mode? }`: replaces the
 *   app's manifest (each hash checked against its document, each document parsed); `mode` is
 *   `off`, `log-unknown` or `require`, absent to leave it to the settings.
 * Every change is appended with who made it and when (`operation_manifests`, append-only).
 *
 * @example
 * app.route('/admin/api', createOperationsApi({ authenticate, store, registry }));
 */
export function createOperationsApi(deps: OperationsApiDeps): Hono<OperationsEnv> {
  const now = deps.now ?? (() => new Date());
  const app = new Hono<OperationsEnv>();
  const operatorsOnly: MiddlewareHandler<OperationsEnv> = async (c, next) => {
    const principal = await authenticateCaller(deps.authenticate, c.req.raw);
    if (!principal.roles.includes('operator')) throw new ApiError('FORBIDDEN', 'registered operations are managed by operators', { rule: 'OPERATOR_ONLY' });
    c.set('principal', principal);
    await next();
  };
  const routes = apiRoutes(app, { maxBodyBytes: DEFAULT_OPERATIONS_MAX_BODY_BYTES, guard: operatorsOnly, ...(deps.log ? { log: deps.log } : {}) });

  const appOf = (bureau: string | undefined, name: string | undefined): { bureau: string; app: string } => {
    if (!bureau || !NAME.test(bureau)) throw new ApiError('BAD_USER_INPUT', 'the bureau must be a bureau id (letters, digits, ".", "_", "-")', { field: 'bureau' });
    if (!name || !NAME.test(name)) throw new ApiError('BAD_USER_INPUT', 'the app must be an app id (letters, digits, ".", "_", "-")', { field: 'app' });
    return { bureau, app: name };
  };

  routes.on('GET', '/operations/:bureau/:app', async (c) => {
    const { bureau, app: name } = appOf(c.req.param('bureau'), c.req.param('app'));
    const inForce = deps.registry.forApp(bureau, name);
    const history = await deps.store.history(bureau, name);
    return c.json({
      bureau,
      app: name,
      mode: inForce.mode,
      manifest: manifestToJson(inForce.documents),
      changes: history.map(presentChange),
    });
  });

  routes.on('PUT', '/operations/:bureau/:app', async (c) => {
    const principal = c.get('principal');
    const { bureau, app: name } = appOf(c.req.param('bureau'), c.req.param('app'));
    const body = parseBody(await c.req.text());
    const unknown = Object.keys(body).filter((key) => key !== 'manifest' && key !== 'mode');
    if (unknown.length > 0) throw new ApiError('BAD_USER_INPUT', `unknown property "${unknown[0]}": the body takes manifest and mode`, { field: unknown[0]! });
    let mode: OperationsMode | undefined;
    if (body.mode !== undefined && body.mode !== null) {
      if (!isOperationsMode(body.mode)) throw new ApiError('BAD_USER_INPUT', `mode must be one of ${OPERATIONS_MODES.join(', ')}`, { field: 'mode' });
      mode = body.mode;
    }
    const parsed = parseOperationManifest(body.manifest, `manifest of ${bureau}/${name}`);
    if (!parsed.ok) throw new ApiError('BAD_USER_INPUT', parsed.problems.join('; '), { field: 'manifest' });
    const stored = await deps.store.put({ bureau, app: name, ...(mode ? { mode } : {}), manifest: parsed.manifest, changedBy: principal.user ?? principal.subject, changedAt: now() });
    await deps.registry.refresh();
    return c.json({ bureau, app: name, mode: deps.registry.forApp(bureau, name).mode, change: presentChange(stored) });
  });

  return app;
}

function presentChange(change: StoredManifest): Record<string, unknown> {
  return { changedBy: change.changedBy, changedAt: change.changedAt, ...(change.mode ? { mode: change.mode } : {}), documents: change.manifest.size };
}
