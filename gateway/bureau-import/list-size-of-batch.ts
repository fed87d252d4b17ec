/**
 * The `@listSize` an imported batch lookup carries (`schemas/directives.graphql`):
 * it answers one entry per key it is given, in order, so its size is the length
 * of its list of keys — the operation cost limit (`graphql/operation-cost.ts`)
 * then counts `residents(sfzhs: [a, b])` as two records, not as a list of
 * unknown size. A list sent as a variable counts as the assumed size, the
 * most keys a client app usually sends in one batch.
 *
 * @example
 * listSizeOfBatch('sfzhs'); // '@listSize(assumedSize: 50, slicingArguments: ["sfzhs"])'
 */
export function listSizeOfBatch(keysArgument: string): string {
  return `@listSize(assumedSize: ${ASSUMED_BATCH_KEYS}, slicingArguments: [${JSON.stringify(keysArgument)}])`;
}

/** Keys assumed in a batch sent as a variable: the size the demo bureaus' own lookups declare. */
const ASSUMED_BATCH_KEYS = 50;
