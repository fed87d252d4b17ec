import { MapperKind, mapSchema } from '@graphql-tools/utils';
import type { GraphQLFieldConfig, GraphQLFieldResolver, GraphQLSchema } from 'graphql';
import { ConnectorConfigError } from '../connector-error.ts';
import { createMergeStubResolver } from './merge-stub-resolver.ts';
import { coordinate, fieldDirective, isQueryType } from './schema-mapping.ts';

/** Where a mapped field sits, as a connector's resolver factory sees it. */
export interface MappedField<D> {
  /** `Type.field`, for error messages and loader names. */
  readonly where: string;
  readonly typeName: string;
  readonly field: GraphQLFieldConfig<unknown, unknown>;
  /** The arguments of the connector's mapping directive on the field. */
  readonly mapping: D;
  readonly root: boolean;
  readonly merge: boolean;
}

/** Options of {@link mapMappedFields}. */
export interface MapMappedFieldsOptions<D> {
  readonly bureau: string;
  /** `rest` or `sql`, for messages. */
  readonly kind: string;
  readonly schema: GraphQLSchema;
  /** The connector's mapping directive, without `@`: `http`, `sql`. */
  readonly directive: string;
  /** Builds the resolver of one field that carries the directive; throws `ConnectorConfigError` for a mapping that cannot work. */
  readonly resolverFor: (mapped: MappedField<D>) => GraphQLFieldResolver<unknown, unknown, Record<string, unknown>>;
}

/**
 * The rules every resolver-building connector shares, in one place: a bureau
 * schema is read-only; a field with the connector's mapping directive gets
 * the connector's resolver; a `@merge` root field without it returns key
 * stubs (the bureau only adds fields to an entity it does not own); any
 * other root field is a mapping error, and `@merge` belongs on root fields.
 */
export function mapMappedFields<D>(options: MapMappedFieldsOptions<D>): GraphQLSchema {
  const { bureau, kind, schema, directive } = options;
  const fail = (where: string, message: string) => new ConnectorConfigError(bureau, `${where}: ${message}`);
  for (const root of [schema.getMutationType(), schema.getSubscriptionType()]) {
    if (root) throw fail(root.name, `the ${kind} connector only reads: a bureau schema has queries only`);
  }
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) => {
      const where = coordinate(typeName, fieldName);
      const root = isQueryType(schema, typeName);
      const merge = fieldDirective(schema, field, 'merge') !== undefined;
      const mapping = fieldDirective<D>(schema, field, directive);
      if (!mapping) {
        if (merge) return { ...field, resolve: createMergeStubResolver(bureau, schema, typeName, fieldName, field) };
        if (root) throw fail(where, `a root field needs @${directive}, or @merge to return key stubs`);
        return field;
      }
      if (merge && !root) throw fail(where, '@merge belongs on root fields');
      return { ...field, resolve: options.resolverFor({ where, typeName, field, mapping, root, merge }) };
    },
  });
}
