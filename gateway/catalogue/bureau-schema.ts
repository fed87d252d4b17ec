import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildASTSchema, concatAST, parse, type DocumentNode, type GraphQLError, type GraphQLSchema } from 'graphql';
import { validateSDL } from 'graphql/validation/validate.js';

const DIRECTIVES_FILE = fileURLToPath(new URL('../../schemas/directives.graphql', import.meta.url));

let directives: DocumentNode | undefined;

/** The Isthmus directive definitions (`schemas/directives.graphql`), parsed once. */
export function isthmusDirectives(): DocumentNode {
  directives ??= parse(readFileSync(DIRECTIVES_FILE, 'utf8'));
  return directives;
}

/**
 * Checks a bureau's SDL against the directive definitions and GraphQL's SDL
 * rules (unknown directives and arguments, bad enum values, unknown types),
 * returning every error with its location.
 */
export function validateBureauSdl(document: DocumentNode): readonly GraphQLError[] {
  return validateSDL(concatAST([isthmusDirectives(), document]));
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
