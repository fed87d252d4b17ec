import { getNullableType, isLeafType, isListType, type GraphQLOutputType } from 'graphql';

/**
 * Whether a bureau's JSON has the shape of a GraphQL output type: an array
 * where the type is a list, an object where it is an object type, a
 * primitive where it is a scalar or enum; `null` anywhere (graphql reports a
 * null in a non-null position itself). Only the outer shape is checked here;
 * graphql's own serialization checks each scalar as it is returned.
 *
 * @returns `undefined` when the shape fits, otherwise what does not fit
 */
export function shapeMismatch(value: unknown, type: GraphQLOutputType): string | undefined {
  if (value === null) return undefined;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    if (!Array.isArray(value)) return `expected an array, got ${describeJson(value)}`;
    for (const item of value) {
      const mismatch = shapeMismatch(item, nullable.ofType);
      if (mismatch !== undefined) return `in an array: ${mismatch}`;
    }
    return undefined;
  }
  if (isLeafType(nullable)) {
    return typeof value === 'object' ? `expected a ${nullable.name}, got ${describeJson(value)}` : undefined;
  }
  return typeof value === 'object' && !Array.isArray(value) ? undefined : `expected an object, got ${describeJson(value)}`;
}

/** What kind of JSON value this is; never the value itself, which may be personal data. */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
