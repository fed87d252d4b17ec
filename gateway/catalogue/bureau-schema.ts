import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildASTSchema, concatAST, parse, type DocumentNode, type GraphQLSchema } from 'graphql';

const DIRECTIVES_FILE = fileURLToPath(new URL('../../schemas/directives.graphql', import.meta.url));

let directives: DocumentNode | undefined;

/** The Isthmus directive definitions (`schemas/directives.graphql`), parsed once. */
export function isthmusDirectives(): DocumentNode {
  directives ??= parse(readFileSync(DIRECTIVES_FILE, 'utf8'));
  return directives;
}

/**
 * Builds a bureau's SDL into a schema that carries the Isthmus directives,
 * so connectors and the catalogue can read `@share`, `@key`, `@merge`, `@http`
 * and `@sql` from it. Throws graphql's own errors on SDL that does not parse
 * or does not validate; the catalogue loader adds the file name.
 */
export function buildBureauSchema(sdl: string): GraphQLSchema {
  return buildASTSchema(concatAST([isthmusDirectives(), parse(sdl)]));
}
