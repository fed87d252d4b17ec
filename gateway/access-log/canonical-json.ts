/** A JSON value as the log hashes it: no `undefined` inside arrays, finite numbers only. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue | undefined };

/**
 * JSON with object keys sorted (by UTF-16 code units, as `Array#sort` does)
 * and no whitespace, so the same content always gives the same bytes — and
 * so the same hash, whether it comes from the writer's objects or from jsonb
 * read back from PostgreSQL (which reorders keys). Keys whose value is
 * `undefined` are left out, as `JSON.stringify` does.
 *
 * @example
 * canonicalJson({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: JsonValue): string {
  // Loops and string appends rather than map/filter/join: the writer hashes every entry on the request path.
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      // JSON has no NaN or Infinity; stringify would turn them into null and the hash would lie.
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON cannot hold a non-finite number');
      return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let index = 0; index < value.length; index += 1) out += (index === 0 ? '' : ',') + canonicalJson(value[index] as JsonValue);
    return `${out}]`;
  }
  if (typeof value !== 'object' || (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null)) {
    throw new TypeError('canonical JSON holds only plain objects, arrays and primitives');
  }
  const object = value as { readonly [key: string]: JsonValue | undefined };
  let out = '{';
  for (const key of Object.keys(object).sort()) {
    const item = object[key];
    if (item === undefined) continue;
    out += (out.length === 1 ? '' : ',') + JSON.stringify(key) + ':' + canonicalJson(item);
  }
  return `${out}}`;
}
