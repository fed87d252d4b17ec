/** A name GraphQL accepts (spec §2.1.9). */
export const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

function words(original: string): string[] | undefined {
  // Only ASCII names are turned into GraphQL names: a Chinese or accented name
  // has no one right transliteration, and a guessed one would mislead the officer.
  if (!/^[\x20-\x7e]+$/.test(original)) return undefined;
  const parts = original
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part !== '');
  if (parts.length === 0 || /^[0-9]/.test(parts[0]!)) return undefined;
  return parts;
}

/**
 * A source name (`id_number`, `photo-urls`, `ID`) as a GraphQL field name in
 * camelCase, or `undefined` when there is no faithful one (Chinese names,
 * names that start with a digit).
 *
 * @example
 * fieldName('credit_code'); // 'creditCode'
 * fieldName('姓名');        // undefined
 */
export function fieldName(original: string): string | undefined {
  const parts = words(original);
  if (!parts) return undefined;
  const [first, ...rest] = parts;
  const camel = [first!.toLowerCase(), ...rest.map(capitalize)].join('');
  // An all-caps source name such as `ID` reads better as `id`; a mixed one keeps its capitals after the first word.
  return GRAPHQL_NAME.test(camel) ? camel : undefined;
}

/**
 * A source name (`insurance_accounts`, `pet`) as a GraphQL type name in
 * PascalCase, or `undefined` where there is none.
 */
export function typeName(original: string): string | undefined {
  const parts = words(original);
  if (!parts) return undefined;
  const pascal = parts.map(capitalize).join('');
  return GRAPHQL_NAME.test(pascal) && !pascal.startsWith('__') ? pascal : undefined;
}

function capitalize(part: string): string {
  return part.charAt(0).toUpperCase() + part.slice(1).toLowerCase();
}

/** A crude English singular, for a table or a batch parameter: `orders` → `order`, `categories` → `category`. */
export function singular(name: string): string {
  if (/ies$/.test(name)) return name.replace(/ies$/, 'y');
  if (/(ss|sh|ch|x)es$/.test(name)) return name.replace(/es$/, '');
  if (/[^s]s$/.test(name)) return name.slice(0, -1);
  return name;
}

/** A crude English plural, for a batch root field: `order` → `orders`, `category` → `categories`. */
export function plural(name: string): string {
  if (/[^aeiou]y$/.test(name)) return name.replace(/y$/, 'ies');
  if (/(s|sh|ch|x)$/.test(name)) return `${name}es`;
  return `${name}s`;
}
