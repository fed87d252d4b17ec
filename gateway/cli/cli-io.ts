import { neutralizeLayout } from '../../policies/display-safe-text.ts';

/** What a CLI command may touch, so tests can run commands in-process. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** A CLI command: takes its arguments, returns the exit code. Bad usage prints a message and returns 2. */
export type CliCommand = (argv: readonly string[], io: CliIo) => Promise<number>;

/**
 * `io` whose output cannot steer the terminal it is printed on: every
 * control character but a line break or tab, and every bidirectional
 * control, is written as a visible `\uXXXX` (`policies/display-safe-text.ts`),
 * whatever a command prints (stored agreements, log entries, a gateway's
 * error messages). JSON output stays the same JSON value. Commands lay out
 * single values with `neutralizeText` first, so a stored line break cannot
 * forge a line either.
 */
export function terminalSafeIo(io: CliIo): CliIo {
  return {
    env: io.env,
    stdout: { write: (text: string) => io.stdout.write(typeof text === 'string' ? neutralizeLayout(text) : text) },
    stderr: { write: (text: string) => io.stderr.write(typeof text === 'string' ? neutralizeLayout(text) : text) },
  };
}
