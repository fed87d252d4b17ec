import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Hono } from 'hono';
import { loadConfig } from '../config/config.ts';
import { createGatewayHandler } from '../gateway-handler.ts';
import { openGatewayResources, type GatewayResources } from '../gateway-resources.ts';
import { actionOf } from '../http/record-api-events.ts';
import { ADMIN_ACTIONS } from './security-event-reasons.ts';

/**
 * The done actions the API edge records are named from the routes'
 * patterns; the console's words for them (`secevents.reason.*`) are keyed
 * by {@link ADMIN_ACTIONS}. Every route of the real gateway that changes
 * something must have its action listed — and nothing listed may be stale.
 */

let resources: GatewayResources;
let app: Hono;

beforeAll(async () => {
  resources = await openGatewayResources(loadConfig({ ISTHMUS_DATA_DIR: ':memory:', ISTHMUS_DEV_ISSUER: 'true', LOG_LEVEL: 'silent' }));
  app = createGatewayHandler(resources).app;
}, 60_000);
afterAll(async () => {
  await resources?.[Symbol.asyncDispose]();
});

it('lists the action of every route that changes something, and no other', () => {
  const changing = app.routes.filter((route) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(route.method) && !route.path.includes('*') && /^\/(admin\/api|console)\//.test(route.path));
  const actions = new Set(changing.map((route) => actionOf(route.method, route.path)));
  expect(actions.size).toBeGreaterThan(10);
  expect([...actions].filter((action) => !(ADMIN_ACTIONS as readonly string[]).includes(action))).toEqual([]);
  expect(ADMIN_ACTIONS.filter((action) => !actions.has(action))).toEqual([]);
});
