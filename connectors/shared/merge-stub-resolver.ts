import { getNullableType, isListType, type GraphQLFieldConfig, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { ConnectorConfigError } from '../connector-error.ts';
import { coordinate, entityKeyField, namedReturnType, singleArgumentName } from './schema-mapping.ts';

/**
 * The resolver of a `@merge` root field that has no mapping directive: it
 * returns one key stub (`{ idNumber: key }`) per key, in key order.
 *
 * Why stubs: such a bureau only adds fields to an entity another bureau owns
 * (market supervision adds `Person.enterprises`), so it cannot say whether the
 * entity exists; its entity fields load their data from the stub's key, and
 * answer null or an empty list when it holds nothing for that key.
 *
 * Throws {@link ConnectorConfigError} when the field does not take exactly one
 * list of keys or does not return a list of an entity with `@key`.
 */
export function createMergeStubResolver(
  bureau: string,
  schema: GraphQLSchema,
  typeName: string,
  fieldName: string,
  field: GraphQLFieldConfig<unknown, unknown>,
): GraphQLFieldResolver<unknown, unknown> {
  const where = coordinate(typeName, fieldName);
  const argument = singleArgumentName(field);
  const argumentType = argument === undefined ? undefined : field.args?.[argument]?.type;
  if (argument === undefined || argumentType === undefined || !isListType(getNullableType(argumentType))) {
    throw new ConnectorConfigError(bureau, `${where}: a @merge field takes exactly one argument, the list of keys`);
  }
  if (!isListType(getNullableType(field.type))) {
    throw new ConnectorConfigError(bureau, `${where}: a @merge field returns a list, one entity per key`);
  }
  const keyField = entityKeyField(schema, namedReturnType(field));
  if (keyField === undefined) {
    throw new ConnectorConfigError(bureau, `${where}: a @merge field returns an entity type with @key`);
  }
  return (_source, args: Record<string, unknown>) => {
    const keys = args[argument] as readonly unknown[] | null | undefined;
    return (keys ?? []).map((key) => (key == null ? null : { [keyField]: key }));
  };
}
