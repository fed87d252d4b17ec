import { GraphQLSchema, Kind } from 'graphql';
import { stitchSchemas } from '@graphql-tools/stitch';
import type { SubschemaConfig, MergedTypeConfig } from '@graphql-tools/delegate';
import { filterSchema } from '@graphql-tools/utils';
import type { Catalogue } from '../../policies/catalogue.ts';
import type { Connector } from '../../connectors/connector.ts';
import { isthmusDirectives } from '../catalogue/bureau-schema.ts';

/**
 * Stitches every bureau's subschema into the one graph the gateway serves.
 *
 * Entities (`Person` by `idNumber`, `Enterprise` by `creditCode`) are merged
 * through each bureau's `@merge` root field with batch delegation: when a
 * result holds N persons, each bureau that adds fields to `Person` is asked
 * once for all N keys, not N times. Merge-only entry points (`_persons`) are
 * hidden from clients; they remain the routes between bureaus.
 */
export function stitchBureaus(catalogue: Catalogue, connectors: ReadonlyMap<string, Connector>): GraphQLSchema {
  const subschemas: SubschemaConfig[] = [];
  for (const bureau of catalogue.bureaus.values()) {
    const connector = connectors.get(bureau.id);
    if (!connector) throw new Error(`no connector for bureau ${bureau.id}`);
    const merge: Record<string, MergedTypeConfig> = {};
    for (const entity of catalogue.entities.values()) {
      const resolver = entity.resolvers.find((candidate) => candidate.bureau === bureau.id);
      if (!resolver) continue;
      const { keyField } = entity;
      merge[entity.typeName] = {
        selectionSet: `{ ${keyField} }`,
        fieldName: resolver.fieldName,
        key: (record: Record<string, unknown>) => record[keyField],
        argsFromKeys: (keys: readonly unknown[]) => ({ [resolver.argumentName]: keys }),
      };
    }
    subschemas.push({
      name: bureau.id,
      schema: connector.subschema.schema,
      ...(connector.subschema.executor ? { executor: connector.subschema.executor } : {}),
      merge,
      // Root fields of one operation that go to the same bureau travel in one request.
      batch: true,
    });
  }

  const stitched = stitchSchemas({ subschemas });
  const served = new Set(catalogue.rootFields.keys());
  const filtered = filterSchema({
    schema: stitched,
    rootFieldFilter: (operation, fieldName) => operation !== 'Query' || served.has(fieldName),
  });
  // The Isthmus directives, and the enums their arguments take, describe how
  // the gateway reaches and shares each bureau's data: no business of a client's.
  const internal = isthmusDefinitionNames();
  const config = filtered.toConfig();
  return new GraphQLSchema({
    ...config,
    types: config.types.filter((type) => !internal.types.has(type.name)),
    directives: config.directives.filter((directive) => !internal.directives.has(directive.name)),
  });
}

/** The directive and type names that `schemas/directives.graphql` defines. */
function isthmusDefinitionNames(): { readonly directives: ReadonlySet<string>; readonly types: ReadonlySet<string> } {
  const directives = new Set<string>();
  const types = new Set<string>();
  for (const definition of isthmusDirectives().definitions) {
    if (definition.kind === Kind.DIRECTIVE_DEFINITION) directives.add(definition.name.value);
    else if ('name' in definition && definition.name) types.add(definition.name.value);
  }
  return { directives, types };
}
