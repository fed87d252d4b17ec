/** What a CLI command may touch, so tests can run commands in-process. */
export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** A CLI command: takes its arguments, returns the exit code. Bad usage prints a message and returns 2. */
export type CliCommand = (argv: readonly string[], io: CliIo) => Promise<number>;
