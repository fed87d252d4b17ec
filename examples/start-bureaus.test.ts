import { createServer, type AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCity } from './data/generate-city.ts';
import { startDemoBureaus, type DemoBureaus } from './start-bureaus.ts';
import { describeEachStore } from '../test/support/describe-each-store.ts';

const city = generateCity({ seed: 14, persons: 120, enterprises: 20 });
const REQUEST_TIMEOUT_MS = 5_000;

// PGlite and the PostgreSQL server of DATABASE_URL (skipped without it).
describeEachStore('startDemoBureaus with HRSS on $name', ({ serverUrl: databaseServerUrl }) => {
  let bureaus: DemoBureaus;

  beforeAll(async () => {
    bureaus = await startDemoBureaus({ city, databaseServerUrl });
  });

  afterAll(async () => {
    await bureaus?.close();
  });

  it('names each bureau in the environment variables the manifests read', () => {
    expect(bureaus.env).toEqual({
      PUBLIC_SECURITY_URL: bureaus.publicSecurity.url,
      MARKET_SUPERVISION_URL: bureaus.marketSupervision.url,
      HRSS_DATABASE_URL: bureaus.hrss.url,
    });
    expect(bureaus.env.PUBLIC_SECURITY_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(bureaus.env.MARKET_SUPERVISION_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(bureaus.env.HRSS_DATABASE_URL).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\//);
  });

  it('serves one city from all three bureaus', async () => {
    const enterprise = city.enterprises[0]!;
    const response = await fetch(bureaus.env.PUBLIC_SECURITY_URL, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ person(idNumber: "${enterprise.legalRepresentativeId}") { idNumber } }` }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    expect(await response.json()).toEqual({ data: { person: { idNumber: enterprise.legalRepresentativeId } } });

    const registry = await fetch(`${bureaus.env.MARKET_SUPERVISION_URL}/enterprises/${enterprise.creditCode}`, {
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    expect(await registry.json()).toMatchObject({ legalRepresentativeId: enterprise.legalRepresentativeId });

    const client = new pg.Client({ connectionString: bureaus.env.HRSS_DATABASE_URL, connectionTimeoutMillis: 5_000 });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>('select count(*)::int as n from enterprise_insurance_summary');
      expect(rows[0]!.n).toBe(city.enterprises.length);
    } finally {
      await client.end();
    }
  });

  it('shuts all three down on close', async () => {
    await bureaus.close();
    await bureaus.close();
    await expect(
      fetch(bureaus.env.PUBLIC_SECURITY_URL, { method: 'POST', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }),
    ).rejects.toThrow();
    await expect(fetch(bureaus.env.MARKET_SUPERVISION_URL, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })).rejects.toThrow();
    const client = new pg.Client({ connectionString: bureaus.env.HRSS_DATABASE_URL, connectionTimeoutMillis: 5_000 });
    await expect(client.connect()).rejects.toThrow();
    await client.end().catch(() => {});
  });
});

describe('startDemoBureaus on a taken port', () => {
  it('fails with the listen error, and stops the bureaus that did start', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    try {
      const taken = (squatter.address() as AddressInfo).port;
      const [publicSecurity, hrss] = await Promise.all([freePort(), freePort()]);
      await expect(
        startDemoBureaus({ city, ports: { publicSecurity, marketSupervision: taken, hrss } }),
      ).rejects.toThrow(/EADDRINUSE/);
      await expect(
        fetch(`http://127.0.0.1:${publicSecurity}/graphql`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }),
      ).rejects.toThrow();
      const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${hrss}/postgres` });
      await expect(client.connect()).rejects.toThrow(/ECONNREFUSED/);
      await client.end().catch(() => {});
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });
});

/** A port that was free a moment ago: good enough on a test machine. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
