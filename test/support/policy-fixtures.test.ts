import { fileURLToPath } from 'node:url';
import { buildASTSchema, lexicographicSortSchema, parse, printSchema, visit, type ASTNode, type GraphQLSchema } from 'graphql';
import { pruneSchema } from '@graphql-tools/utils';
import { describe, expect, it } from 'vitest';
import type { Connector } from '../../connectors/connector.ts';
import { createConnector } from '../../connectors/create-connector.ts';
import { loadCatalogue } from '../../gateway/catalogue/load-catalogue.ts';
import { stitchBureaus } from '../../gateway/graphql/stitch-bureaus.ts';
import { demoClientSchema } from './policy-fixtures.ts';

const SCHEMAS = fileURLToPath(new URL('../../schemas', import.meta.url));

/**
 * What of a schema a client can query, in one canonical text: the types
 * reachable from its root types, sorted, without descriptions (the fixture
 * leaves them out; the bureaus' SDL documents them).
 */
function clientShape(schema: GraphQLSchema): string {
  const document = visit(parse(printSchema(pruneSchema(schema))), {
    enter(node: ASTNode) {
      return 'description' in node && node.description ? { ...node, description: undefined } : undefined;
    },
  });
  return printSchema(lexicographicSortSchema(buildASTSchema(document)));
}

describe('DEMO_CLIENT_SDL', () => {
  it('is the schema the gateway stitches from schemas/ for its clients (every type and field a query can reach)', async () => {
    // Built as the gateway builds it (gateway/gateway.ts): the catalogue, a connector per bureau, stitchBureaus.
    // Connectors open nothing until called, and nothing is called here.
    const { catalogue, schemas } = loadCatalogue({ dir: SCHEMAS, env: {} });
    const connectors = new Map<string, Connector>();
    try {
      for (const bureau of catalogue.bureaus.values()) {
        const { kind, url, timeoutMs, maxConcurrency, breaker } = bureau.connector;
        connectors.set(bureau.id, createConnector(kind, { bureau: bureau.id, url, schema: schemas.get(bureau.id)!, limits: { timeoutMs, maxConcurrency, breaker } }));
      }
      const served = stitchBureaus(catalogue, connectors);
      expect(clientShape(demoClientSchema())).toBe(clientShape(served));
      // The comparison sees fields, not just type names.
      expect(clientShape(served)).toContain('socialInsurance: SocialInsurance');
    } finally {
      await Promise.all([...connectors.values()].map((connector) => connector.close()));
    }
  });
});
