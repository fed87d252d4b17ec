/**
 * A table of words keyed by codes, as message keys under `prefix`: a
 * `Record<Code, string>` checked exhaustive where it is written becomes
 * `secevents.reason.<Code>` keys of a catalogue, with their literal types,
 * so `t(\`secevents.reason.${code}\`)` type-checks for every code.
 *
 * @example
 * prefixKeys('secevents.kind.', { TOKEN_REFUSED: '令牌被拒绝' }); // { 'secevents.kind.TOKEN_REFUSED': '令牌被拒绝' }
 */
export function prefixKeys<P extends string, K extends string>(prefix: P, table: Readonly<Record<K, string>>): Readonly<Record<`${P}${K}`, string>> {
  return Object.fromEntries(Object.entries(table).map(([key, words]) => [`${prefix}${key}`, words])) as Record<`${P}${K}`, string>;
}
