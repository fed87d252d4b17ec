import { terminalSafeIo, type CliCommand, type CliIo } from './cli-io.ts';
import { CliUsageError } from './parse-cli-args.ts';
import { GATEWAY_VERSION } from '../version.ts';

/**
 * Commands by name, loaded only when run, so `isthmus token` does not pay
 * for the gateway's whole dependency graph.
 */
const COMMANDS: Readonly<Record<string, { readonly summary: string; readonly load: () => Promise<CliCommand> }>> = {
  start: { summary: 'run the gateway (settings from the environment; --port, --host)', load: async () => (await import('./commands/start-command.ts')).startCommand },
  log: { summary: 'verify the access log (hash chains, checkpoints) or export it as JSON lines', load: async () => (await import('./commands/log-command.ts')).logCommand },
  agreements: { summary: 'list, request, approve, reject, revoke sharing agreements (admin API)', load: async () => (await import('./commands/agreements-command.ts')).agreementsCommand },
  catalogue: { summary: 'check the schemas folder; show fields and who shares them; explain a query (admin API)', load: async () => (await import('./commands/catalogue-command.ts')).catalogueCommand },
  bureau: { summary: 'import a bureau\'s existing system (graphql, openapi, postgres) as schema.graphql + manifest.json', load: async () => (await import('./commands/bureau-command.ts')).bureauCommand },
  token: { summary: 'print a signed dev token for a bureau, app, user, citizen, scopes', load: async () => (await import('./commands/token-command.ts')).tokenCommand },
};

const USAGE = (): string =>
  `usage: isthmus <command> [options]\n       isthmus --version\n\ncommands:\n${Object.entries(COMMANDS)
    .map(([name, command]) => `  ${name.padEnd(12)} ${command.summary}`)
    .join('\n')}\n\nRun 'isthmus <command> --help' for a command's options. Exit codes: 0 done, 1 failed or refused, 2 bad usage.\n`;

/** Runs one CLI invocation and returns its exit code: 0 done, 1 failed or refused (the reason is printed), 2 bad usage. */
export async function runCli(argv: readonly string[], raw: CliIo): Promise<number> {
  // Every command prints through it: stored text (agreements, log entries) must not steer the terminal.
  const io = terminalSafeIo(raw);
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(USAGE());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    if (rest.length > 0) return usage(io, `unexpected argument '${rest[0]}' after ${name}`);
    io.stdout.write(`${GATEWAY_VERSION}\n`);
    return 0;
  }
  if (name.startsWith('-')) return usage(io, `unknown option '${name}'`);
  const command = COMMANDS[name];
  if (!command) return usage(io, `unknown command '${name}'`);
  try {
    return await (await command.load())(rest, io);
  } catch (error) {
    if (error instanceof CliUsageError) {
      io.stderr.write(`isthmus ${name}: ${error.message}\n`);
      return 2;
    }
    // A command's own errors carry a code and a safe message; anything else is reported without a stack.
    const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : 'INTERNAL';
    io.stderr.write(`isthmus ${name}: ${error instanceof Error ? error.message : 'failed'} (${code})\n`);
    return 1;
  }
}

function usage(io: CliIo, problem: string): number {
  io.stderr.write(`isthmus: ${problem}\n\n${USAGE()}`);
  return 2;
}
