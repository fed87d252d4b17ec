import { getRequestListener } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import type { BureauServer, HttpBureauOptions } from '../bureau-server.ts';
import { demoCity, type City, type CityEnterprise } from '../data/generate-city.ts';
import { restRejectionBody, startHttpBureau } from '../start-http-bureau.ts';

/** Options of {@link startMarketSupervision}. */
export type MarketSupervisionOptions = HttpBureauOptions;

/** The bureau's id in the catalogue: the audience of the consumer assertions it accepts. */
export const MARKET_SUPERVISION_BUREAU = 'market-supervision';

/** The most keys one `GET /enterprises?…` may carry. */
export const MAX_KEYS_PER_REQUEST = 1_000;

/** An enterprise as the registry's API returns it. */
export interface EnterpriseRecord {
  readonly creditCode: string;
  readonly name: string;
  readonly legalRepresentativeId: string;
  readonly status: string;
  /** 万元 */
  readonly registeredCapital: number;
  /** YYYY-MM-DD */
  readonly establishedOn: string;
}

/**
 * Starts the market supervision bureau's enterprise registry (市场监督管理局
 * 企业登记): a JSON REST API on hono, served by `@hono/node-server`.
 *
 * - `GET /enterprises/:creditCode` → 200 {@link EnterpriseRecord}, or 404 `{ error: { code: 'NOT_FOUND' } }`
 * - `GET /enterprises?creditCode=a,b` → 200 the registered ones among them, in the order asked
 * - `GET /enterprises?legalRepresentativeId=x,y` → 200 the enterprises these persons represent
 * - more than {@link MAX_KEYS_PER_REQUEST} keys, or neither or both parameters →
 *   400 `{ error: { code: 'BAD_REQUEST', message } }`; any other route → 404 `{ error: { code: 'NOT_FOUND' } }`
 *
 * Keys may also be split over repeated parameters (`?creditCode=a&creditCode=b`).
 * Duplicates are answered once; an empty value means no keys and gives `[]`.
 *
 * Once it trusts the gateway, a request without a valid consumer assertion gets
 * 401 `{ error: { code: 'UNAUTHENTICATED', reason, message } }`, whatever the route.
 */
export function startMarketSupervision(options: MarketSupervisionOptions = {}): Promise<BureauServer> {
  const app = createMarketSupervisionApp(options.city ?? demoCity());
  return startHttpBureau(getRequestListener(app.fetch), {
    port: options.port,
    host: options.host,
    bureau: MARKET_SUPERVISION_BUREAU,
    rejectionBody: restRejectionBody,
    ...(options.trustGateway ? { trustGateway: options.trustGateway } : {}),
  });
}

function createMarketSupervisionApp(city: City): Hono {
  const byCreditCode = new Map<string, EnterpriseRecord>();
  const byRepresentative = new Map<string, EnterpriseRecord[]>();
  for (const enterprise of city.enterprises) {
    const record = toRecord(enterprise);
    byCreditCode.set(record.creditCode, record);
    const represented = byRepresentative.get(record.legalRepresentativeId);
    if (represented) represented.push(record);
    else byRepresentative.set(record.legalRepresentativeId, [record]);
  }

  const app = new Hono();
  app.get('/enterprises/:creditCode', (c) => {
    const record = byCreditCode.get(c.req.param('creditCode'));
    return record ? c.json(record) : c.json({ error: { code: 'NOT_FOUND' } }, 404);
  });
  app.get('/enterprises', (c) => {
    const creditCodes = c.req.queries('creditCode');
    const representativeIds = c.req.queries('legalRepresentativeId');
    if ((creditCodes === undefined) === (representativeIds === undefined)) {
      return badRequest(c, 'give exactly one of creditCode and legalRepresentativeId');
    }
    const keys = splitKeys(creditCodes ?? representativeIds ?? []);
    if (keys.length > MAX_KEYS_PER_REQUEST) return badRequest(c, `at most ${MAX_KEYS_PER_REQUEST} keys per request`);
    const unique = [...new Set(keys)];
    const found = creditCodes
      ? unique.flatMap((key) => byCreditCode.get(key) ?? [])
      : unique.flatMap((key) => byRepresentative.get(key) ?? []);
    return c.json(found);
  });
  app.notFound((c) => c.json({ error: { code: 'NOT_FOUND' } }, 404));
  // Never a stack or a message: a bureau tells its clients no more than that it failed.
  app.onError((_error, c) => c.json({ error: { code: 'INTERNAL' } }, 500));
  return app;
}

// Copied field by field so that whatever the city's type grows, the API sends only these.
function toRecord(enterprise: CityEnterprise): EnterpriseRecord {
  const { creditCode, name, legalRepresentativeId, status, registeredCapital, establishedOn } = enterprise;
  return Object.freeze({ creditCode, name, legalRepresentativeId, status, registeredCapital, establishedOn });
}

function splitKeys(values: readonly string[]): string[] {
  return values.flatMap((value) => value.split(',')).filter((key) => key !== '');
}

function badRequest(c: Context, message: string): Response {
  return c.json({ error: { code: 'BAD_REQUEST', message } }, 400);
}
