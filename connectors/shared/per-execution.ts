/**
 * Values that live as long as one GraphQL execution, e.g. one DataLoader per
 * field: keyed by the execution's context object and by a name.
 *
 * Why the context: graphql-js gives resolvers no execution id, but every
 * resolver of one execution sees the same context object, and a stitched
 * gateway hands its own context to each subschema it delegates to, so all the
 * entity fields of one gateway request share their loaders. A WeakMap lets the
 * loaders go with the request. An execution without an object context gets a
 * fresh value on every call: no batching, but never a cache shared between
 * two requests.
 */
export interface PerExecution<T> {
  get(context: unknown, name: string, create: () => T): T;
}

/**
 * Creates a {@link PerExecution} store.
 *
 * @example
 * const loaders = createPerExecution<DataLoader<string, Row[]>>();
 * const loader = loaders.get(context, 'Person.socialInsurance', () => new DataLoader(load));
 */
export function createPerExecution<T>(): PerExecution<T> {
  const byContext = new WeakMap<object, Map<string, T>>();
  return {
    get(context, name, create) {
      if (typeof context !== 'object' || context === null) return create();
      let values = byContext.get(context);
      if (!values) {
        values = new Map();
        byContext.set(context, values);
      }
      let value = values.get(name);
      if (value === undefined) {
        value = create();
        values.set(name, value);
      }
      return value;
    },
  };
}
