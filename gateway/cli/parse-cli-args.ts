import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

/** Bad usage of a CLI command: the message says what (naming the flag); the command prints it with its usage and exits 2. */
export class CliUsageError extends Error {
  readonly code = 'CLI_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

/**
 * `parseArgs` in strict mode, the one way every command reads its flags: an
 * unknown flag, a missing value or an unexpected argument throws
 * {@link CliUsageError} naming it ("Unknown option '--colour'").
 *
 * @example
 * const { values } = parseCliArgs(argv, { port: { type: 'string' } });
 */
export function parseCliArgs<const O extends ParseArgsOptionsConfig>(argv: readonly string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals });
  } catch (error) {
    if (!isParseArgsError(error)) throw error;
    // Node adds a hint on how to pass a positional that starts with '-'; the first sentence is what went wrong.
    throw new CliUsageError(error.message.split(/\.\s/)[0]!.replace(/\.$/, ''));
  }
}

/** `parseArgs` reports unknown options and missing values as `ERR_PARSE_ARGS_*` errors. */
function isParseArgsError(error: unknown): error is Error {
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}
