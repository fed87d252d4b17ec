/**
 * Whether `origin` is under `prefix`: the prefix itself, or below it at a `/`
 * boundary, so `isthmus.demo-city/access-log` accepts
 * `isthmus.demo-city/access-log/<chain>` and not `isthmus.demo-city/access-log-2/…`.
 */
export function isUnderPrefix(origin: string, prefix: string): boolean {
  if (origin === prefix) return true;
  return origin.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
}
