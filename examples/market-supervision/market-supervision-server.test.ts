import { readFileSync } from 'node:fs';
import { Kind, parse, visit, type StringValueNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BureauServer } from '../bureau-server.ts';
import { generateCity, type CityEnterprise } from '../data/generate-city.ts';
import { startMarketSupervision } from './market-supervision-server.ts';

const city = generateCity({ seed: 12, persons: 200, enterprises: 60 });
const REQUEST_TIMEOUT_MS = 5_000;

let bureau: BureauServer;

async function get(path: string, signal?: AbortSignal): Promise<{ status: number; type: string | null; body: unknown }> {
  const response = await fetch(`${bureau.url}${path}`, { signal: signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return { status: response.status, type: response.headers.get('content-type'), body: await response.json() };
}

function record(enterprise: CityEnterprise): Record<string, unknown> {
  const { creditCode, name, legalRepresentativeId, status, registeredCapital, establishedOn } = enterprise;
  return { creditCode, name, legalRepresentativeId, status, registeredCapital, establishedOn };
}

beforeAll(async () => {
  bureau = await startMarketSupervision({ city });
});

afterAll(async () => {
  await bureau?.stop();
});

describe('market supervision bureau', () => {
  const [first, second, third] = city.enterprises as [CityEnterprise, CityEnterprise, CityEnterprise];

  it('listens on loopback, its url the base without a trailing slash', () => {
    expect(bureau.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('serves one enterprise by credit code, with exactly the registry fields', async () => {
    const response = await get(`/enterprises/${second.creditCode}`);
    expect(response.status).toBe(200);
    expect(response.type).toContain('application/json');
    expect(response.body).toEqual(record(second));
  });

  it('answers 404 NOT_FOUND for an unregistered code', async () => {
    expect(await get('/enterprises/91350100M000100Y43')).toMatchObject({
      status: 404,
      body: { error: { code: 'NOT_FOUND' } },
    });
  });

  it('serves a batch by credit code in the order asked, leaving out unknown and repeated codes, in one request', async () => {
    const before = bureau.requestCount();
    const response = await get(
      `/enterprises?creditCode=${third.creditCode},91350100M000100Y43,${first.creditCode},${third.creditCode}`,
    );
    expect(bureau.requestCount() - before).toBe(1);
    expect(response.status).toBe(200);
    expect(response.body).toEqual([record(third), record(first)]);
  });

  it('takes keys from repeated parameters too', async () => {
    const response = await get(`/enterprises?creditCode=${first.creditCode}&creditCode=${second.creditCode}`);
    expect(response.body).toEqual([record(first), record(second)]);
  });

  it('serves the enterprises that persons represent', async () => {
    const counts = Map.groupBy(city.enterprises, (enterprise) => enterprise.legalRepresentativeId);
    const [repeater] = [...counts.entries()].find(
      ([id, enterprises]) => enterprises.length >= 2 && id !== first.legalRepresentativeId,
    )!;
    const ids = [repeater, first.legalRepresentativeId, '110105194912310021'];
    const response = await get(`/enterprises?legalRepresentativeId=${ids.join(',')}`);
    expect(response.status).toBe(200);
    const expected = city.enterprises.filter((enterprise) => ids.includes(enterprise.legalRepresentativeId));
    const body = response.body as Record<string, unknown>[];
    expect(body.length).toBeGreaterThanOrEqual(3);
    expect([...body].sort(byCode)).toEqual(expected.map(record).sort(byCode));
  });

  it('answers an empty list for an empty key list', async () => {
    expect(await get('/enterprises?creditCode=')).toMatchObject({ status: 200, body: [] });
  });

  it('takes 1,000 keys and refuses 1,001 with 400 BAD_REQUEST', async () => {
    const keys = Array.from({ length: 1_000 }, (_, i) => `K${i}`);
    expect((await get(`/enterprises?creditCode=${keys.join(',')}`)).status).toBe(200);
    const tooMany = await get(`/enterprises?creditCode=${[...keys, first.creditCode].join(',')}`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toEqual({ error: { code: 'BAD_REQUEST', message: expect.any(String) } });
  });

  it('refuses a batch with neither or both key parameters', async () => {
    for (const query of ['', '?name=x', `?creditCode=${first.creditCode}&legalRepresentativeId=${first.legalRepresentativeId}`]) {
      const response = await get(`/enterprises${query}`);
      expect(response.status, query).toBe(400);
      expect(response.body).toEqual({ error: { code: 'BAD_REQUEST', message: expect.any(String) } });
    }
  });

  it('answers 404 NOT_FOUND as JSON on other routes and methods', async () => {
    expect(await get('/persons')).toEqual({
      status: 404,
      type: expect.stringContaining('application/json'),
      body: { error: { code: 'NOT_FOUND' } },
    });
    const post = await fetch(`${bureau.url}/enterprises`, { method: 'POST', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    expect(post.status).toBe(404);
    expect(await post.json()).toEqual({ error: { code: 'NOT_FOUND' } });
  });

  it('answers every @http request of schemas/market-supervision/schema.graphql', async () => {
    const sdl = parse(readFileSync(new URL('../../schemas/market-supervision/schema.graphql', import.meta.url), 'utf8'));
    const requests: { get: string; batchParam?: string }[] = [];
    visit(sdl, {
      Directive(node) {
        if (node.name.value !== 'http') return;
        const argument = (name: string) =>
          (node.arguments?.find((arg) => arg.name.value === name && arg.value.kind === Kind.STRING)?.value as
            | StringValueNode
            | undefined)?.value;
        requests.push({ get: argument('get')!, batchParam: argument('batchParam') });
      },
    });
    expect(requests.length).toBeGreaterThanOrEqual(3);
    const keys: Record<string, string> = {
      creditCode: first.creditCode,
      legalRepresentativeId: first.legalRepresentativeId,
    };
    for (const request of requests) {
      const path = request.get.replace(/\{(\w+)\}/g, (_, name: string) => keys[name]!);
      const url = request.batchParam ? `${path}?${request.batchParam}=${keys[request.batchParam]}` : path;
      const response = await get(url);
      expect(response.status, url).toBe(200);
      const items = Array.isArray(response.body) ? response.body : [response.body];
      expect(items, url).toContainEqual(record(first));
    }
  });

  it('delays responses by the latency set, until reset', async () => {
    bureau.setLatency(400);
    try {
      await expect(get(`/enterprises/${first.creditCode}`, AbortSignal.timeout(100))).rejects.toThrow();
    } finally {
      bureau.setLatency(0);
    }
    expect((await get(`/enterprises/${first.creditCode}`)).status).toBe(200);
  });

  it('counts every request it receives', async () => {
    const before = bureau.requestCount();
    await Promise.all([get('/enterprises/x'), get('/nowhere'), get(`/enterprises?creditCode=${first.creditCode}`)]);
    expect(bureau.requestCount() - before).toBe(3);
  });

  it('goes down on stop, dropping keep-alive connections, and comes back on the same url', async () => {
    const url = bureau.url;
    await get(`/enterprises/${first.creditCode}`);
    await bureau.stop();
    await bureau.stop();
    await expect(get(`/enterprises/${first.creditCode}`)).rejects.toThrow();
    await bureau.start();
    await bureau.start();
    expect(bureau.url).toBe(url);
    expect((await get(`/enterprises/${first.creditCode}`)).body).toEqual(record(first));
  });
});

function byCode(a: Record<string, unknown>, b: Record<string, unknown>): number {
  return String(a['creditCode']).localeCompare(String(b['creditCode']));
}
