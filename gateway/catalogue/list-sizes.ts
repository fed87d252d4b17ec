import { GraphQLList, GraphQLNonNull, getNullableType, isListType, isObjectType, type GraphQLField, type GraphQLSchema } from 'graphql';
import { getDirective } from '@graphql-tools/utils';
import type { ListSize } from '../../policies/catalogue.ts';

/** The largest `assumedSize` a bureau may declare: beyond it no cost limit could tell lists apart. */
const MAX_ASSUMED_SIZE = 1_000_000;

/**
 * Reads every `@listSize` of a bureau's schema into `into` (by coordinate),
 * reporting a directive on a field that is not a list, an assumed size that is
 * not a positive whole number, or a slicing argument the field does not take
 * (or whose type is neither an Int nor a list).
 */
export function readListSizes(schema: GraphQLSchema, into: Map<string, ListSize>, problem: (at: string, message: string) => void): void {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const directive = listSizeOf(schema, field);
      if (!directive) continue;
      const at = `${type.name}.${field.name}`;
      if (!isListType(getNullableType(field.type))) {
        problem(at, '@listSize is for list fields');
        continue;
      }
      const { assumedSize } = directive;
      if (assumedSize !== undefined && !(Number.isInteger(assumedSize) && assumedSize > 0 && assumedSize <= MAX_ASSUMED_SIZE)) {
        problem(at, `@listSize(assumedSize:) must be a whole number from 1 to ${MAX_ASSUMED_SIZE}`);
        continue;
      }
      const slicingArguments = directive.slicingArguments ?? [];
      const wrong = slicingArguments.find((name) => !isSlicing(field, name));
      if (wrong !== undefined) {
        problem(at, `@listSize(slicingArguments:) names "${wrong}", which is not an Int or list argument of the field`);
        continue;
      }
      into.set(at, { ...(assumedSize !== undefined ? { assumedSize } : {}), slicingArguments });
    }
  }
}

/** The field's `@listSize`; undefined also when another directive of the field is invalid (the `@share` check reports that one). */
function listSizeOf(schema: GraphQLSchema, field: GraphQLField<unknown, unknown>): { assumedSize?: number; slicingArguments?: string[] } | undefined {
  try {
    return getDirective(schema, field, 'listSize')?.[0] as { assumedSize?: number; slicingArguments?: string[] } | undefined;
  } catch {
    return undefined;
  }
}

function isSlicing(field: GraphQLField<unknown, unknown>, name: string): boolean {
  const argument = field.args.find((candidate) => candidate.name === name);
  if (!argument) return false;
  const type = argument.type instanceof GraphQLNonNull ? argument.type.ofType : argument.type;
  return type instanceof GraphQLList || ('name' in type && type.name === 'Int');
}
