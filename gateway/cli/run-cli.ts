import type { CliCommand, CliIo } from './cli-io.ts';

/**
 * Commands by name, loaded only when run, so `isthmus token` does not pay
 * for the gateway's whole dependency graph.
 */
const COMMANDS: Readonly<Record<string, { readonly summary: string; readonly load: () => Promise<CliCommand> }>> = {
  start: { summary: 'run the gateway (settings from the environment)', load: async () => (await import('./commands/start-command.ts')).startCommand },
  log: { summary: 'verify the access log (hash chains, checkpoints) or export it as JSON lines', load: async () => (await import('./commands/log-command.ts')).logCommand },
  agreements: { summary: 'list, request, approve, reject, revoke sharing agreements (admin API)', load: async () => (await import('./commands/agreements-command.ts')).agreementsCommand },
  token: { summary: 'print a signed dev token for a bureau, app, user, citizen, scopes', load: async () => (await import('./commands/token-command.ts')).tokenCommand },
};

const USAGE = (): string =>
  `usage: isthmus <command> [options]\n\ncommands:\n${Object.entries(COMMANDS)
    .map(([name, command]) => `  ${name.padEnd(12)} ${command.summary}`)
    .join('\n')}\n\nRun 'isthmus <command> --help' for a command's options.\n`;

/** Runs one CLI invocation and returns its exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(USAGE());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`isthmus: unknown command '${name}'\n\n${USAGE()}`);
    return 2;
  }
  try {
    return await (await command.load())(rest, io);
  } catch (error) {
    // A command's own errors carry a code and a safe message; anything else is reported without a stack.
    const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : 'INTERNAL';
    io.stderr.write(`isthmus ${name}: ${error instanceof Error ? error.message : 'failed'} (${code})\n`);
    return 1;
  }
}
