import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SystemUpstreams } from './running-system.ts';

/** Where the bureau schemas of each variant live, and the settings their manifests read. */
export interface CatalogueSettings {
  /** A schemas folder as `loadCatalogue` and `ISTHMUS_SCHEMAS_DIR` take it. */
  readonly schemasDir: string;
  /** Values for the `${NAME}` placeholders of its manifests' connector URLs. */
  readonly env: Readonly<Record<string, string>>;
  /** Removes a temporary schemas folder, once the system has read it (both gateways read it once, at start). */
  dispose(): void;
}

const MIXED_SCHEMAS = fileURLToPath(new URL('../../schemas', import.meta.url));
const ALL_GRAPHQL_SCHEMAS = fileURLToPath(new URL('../all-graphql/schemas', import.meta.url));
const HRSS = 'human-resources-social-security';

/**
 * The catalogue a stitching system (Isthmus, stitch-bare) loads for its
 * variant: the project's own `schemas/` for the mixed city, or
 * `bench/all-graphql/schemas/` (all three bureaus of connector kind
 * `graphql`) for the subgraphs.
 *
 * The shipped HRSS manifest allows the SQL connector one connection, all an
 * embedded PGlite can serve. When the bench's HRSS databases are on a
 * PostgreSQL server, the mixed city is served from a temporary copy of
 * `schemas/` that differs in that one number (`upstreams.sqlConnections`),
 * so that a gateway is not measured queueing for a connection the `direct`
 * floor does not wait for: every system gets the same number.
 */
export function catalogueSettings(upstreams: SystemUpstreams): CatalogueSettings {
  if (upstreams.variant === 'all-graphql') {
    return {
      schemasDir: ALL_GRAPHQL_SCHEMAS,
      env: {
        BENCH_PUBLIC_SECURITY_SUBGRAPH_URL: upstreams.publicSecurity,
        BENCH_MARKET_SUPERVISION_SUBGRAPH_URL: upstreams.marketSupervision,
        BENCH_HRSS_SUBGRAPH_URL: upstreams.hrss,
      },
      dispose() {},
    };
  }
  const env = { PUBLIC_SECURITY_URL: upstreams.publicSecurity, MARKET_SUPERVISION_URL: upstreams.marketSupervision, HRSS_DATABASE_URL: upstreams.hrss };
  const manifestFile = join(MIXED_SCHEMAS, HRSS, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { connector: { maxConcurrency: number } };
  if (manifest.connector.maxConcurrency === upstreams.sqlConnections) return { schemasDir: MIXED_SCHEMAS, env, dispose() {} };
  const copy = mkdtempSync(join(tmpdir(), 'isthmus-bench-schemas-'));
  cpSync(MIXED_SCHEMAS, copy, { recursive: true });
  manifest.connector.maxConcurrency = upstreams.sqlConnections;
  writeFileSync(join(copy, HRSS, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return { schemasDir: copy, env, dispose: () => rmSync(copy, { recursive: true, force: true }) };
}
