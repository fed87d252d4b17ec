/**
 * A parsed `@http(get:)` path template: `/enterprises/{creditCode}`.
 * Parsed once when the connector is created, filled on every call.
 */
export interface RestPath {
  readonly template: string;
  /** The `{name}` placeholders, in order. */
  readonly placeholders: readonly string[];
  /**
   * The path with each placeholder replaced by its value, URL-encoded, and
   * `query` appended; `undefined` when a placeholder has no value, since
   * there is then nothing to ask for.
   */
  fill(values: Readonly<Record<string, unknown>>, query?: Iterable<readonly [string, string]>): string | undefined;
}

const PLACEHOLDER = /\{([^{}]*)\}/g;
const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/** A query-string value: lists comma-joined, input objects as JSON. */
export function queryValue(value: unknown): string {
  if (Array.isArray(value)) return value.map(queryValue).join(',');
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/**
 * Parses a path template. Returns a message instead of throwing, so the
 * caller can name the field in its error.
 */
export function parseRestPath(template: string): RestPath | string {
  if (!template.startsWith('/')) return `the path "${template}" must start with /`;
  const placeholders = [...template.matchAll(PLACEHOLDER)].map((match) => match[1] ?? '');
  const bad = placeholders.find((name) => !NAME.test(name));
  if (bad !== undefined) return `the placeholder {${bad}} is not a field or argument name`;
  if (template.replace(PLACEHOLDER, '').match(/[{}]/)) return `the path "${template}" has an unbalanced brace`;
  return {
    template,
    placeholders,
    fill(values, query) {
      let missing = false;
      const path = template.replace(PLACEHOLDER, (_, name: string) => {
        const value = values[name];
        if (value === null || value === undefined) {
          missing = true;
          return '';
        }
        return encodeURIComponent(queryValue(value));
      });
      if (missing) return undefined;
      const search = new URLSearchParams(query ? [...query].map(([key, value]) => [key, value]) : []).toString();
      if (search === '') return path;
      return `${path}${path.includes('?') ? '&' : '?'}${search}`;
    },
  };
}
