// Reads the mapping directives of a bureau SDL, for the connectors that build
// resolvers from them (`rest`, `sql`). The directives themselves are documented
// in schemas/directives.graphql.
import { getDirective } from '@graphql-tools/utils';
import {
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  type GraphQLFieldConfig,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';

/** The arguments of one directive on a field, or `undefined` when the field does not carry it. */
export function fieldDirective<T>(
  schema: GraphQLSchema,
  field: GraphQLFieldConfig<unknown, unknown>,
  name: string,
): T | undefined {
  return getDirective(schema, field, name)?.[0] as T | undefined;
}

/** The `@key(field:)` of an entity type, or `undefined` for a type that is not an entity. */
export function entityKeyField(schema: GraphQLSchema, type: GraphQLNamedType): string | undefined {
  if (!isObjectType(type)) return undefined;
  const key = getDirective(schema, type, 'key')?.[0] as { field?: string } | undefined;
  return key?.field;
}

/** Whether a field's type is a list once its non-null wrapper is taken off. */
export function returnsList(type: GraphQLOutputType): boolean {
  return isListType(getNullableType(type));
}

/** Whether `typeName` is the schema's query type. */
export function isQueryType(schema: GraphQLSchema, typeName: string): boolean {
  return schema.getQueryType()?.name === typeName;
}

/** `Type.field`, the way errors and loaders name a field. */
export function coordinate(typeName: string, fieldName: string): string {
  return `${typeName}.${fieldName}`;
}

/** The named type a field returns, through lists and non-null wrappers. */
export function namedReturnType(field: GraphQLFieldConfig<unknown, unknown>): GraphQLNamedType {
  return getNamedType(field.type);
}

/**
 * The one argument of a field that takes keys (`@merge` fields, root fields
 * with a batch `@http` or an `@sql`), or `undefined` when it has not exactly one.
 */
export function singleArgumentName(field: GraphQLFieldConfig<unknown, unknown>): string | undefined {
  const names = Object.keys(field.args ?? {});
  return names.length === 1 ? names[0] : undefined;
}
