import { fileURLToPath } from 'node:url';
import { isIntrospectionType, isSpecifiedScalarType, specifiedDirectives, type GraphQLSchema } from 'graphql';
import { afterAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../connectors/connector.ts';
import { createConnector } from '../../connectors/create-connector.ts';
import { loadCatalogue } from '../catalogue/load-catalogue.ts';
import { isthmusDirectives } from '../catalogue/bureau-schema.ts';
import { stitchBureaus } from './stitch-bureaus.ts';

const schemasDir = fileURLToPath(new URL('../../schemas', import.meta.url));

/** Named types a client can see, built-ins and introspection left out. */
function ownTypeNames(schema: GraphQLSchema): readonly string[] {
  return Object.values(schema.getTypeMap())
    .filter((type) => !isIntrospectionType(type) && !isSpecifiedScalarType(type))
    .map((type) => type.name)
    .sort();
}

describe('the served schema', () => {
  // Connectors open nothing until a call is made: no bureau needs to run for the schema.
  const { catalogue, schemas } = loadCatalogue({ dir: schemasDir, env: {} });
  const connectors = new Map<string, Connector>();
  for (const bureau of catalogue.bureaus.values()) {
    const { kind, url, timeoutMs, maxConcurrency, breaker } = bureau.connector;
    connectors.set(bureau.id, createConnector(kind, { bureau: bureau.id, url, schema: schemas.get(bureau.id)!, limits: { timeoutMs, maxConcurrency, breaker } }));
  }
  const served = stitchBureaus(catalogue, connectors);
  afterAll(() => Promise.all([...connectors.values()].map((connector) => connector.close())));

  it("has exactly the bureaus' own types: none of the Isthmus directives' enums", () => {
    const internal = new Set(isthmusDirectives().definitions.flatMap((definition) => ('name' in definition && definition.name ? [definition.name.value] : [])));
    const bureauTypes = new Set([...schemas.values()].flatMap((schema) => ownTypeNames(schema).filter((name) => !internal.has(name))));
    expect(ownTypeNames(served)).toEqual([...bureauTypes].sort());
    for (const name of ['MaskKind', 'Sensitivity', 'SharingCategory']) expect(served.getType(name)).toBeUndefined();
  });

  it('has only the directives of the GraphQL specification', () => {
    expect(served.getDirectives().map((directive) => directive.name).sort()).toEqual(specifiedDirectives.map((directive) => directive.name).sort());
  });
});
