import type { CliCommand } from '../cli-io.ts';
import { CliUsageError, parseCliArgs } from '../parse-cli-args.ts';

const USAGE = `usage: isthmus start [--port <port>] [--host <host>]

Runs the gateway with settings from the environment (PORT, HOST, DATABASE_URL,
ISTHMUS_DATA_DIR, …; see the README's configuration table).

options:
  --port <port>   where to listen, 0 for any free port (overrides PORT)
  --host <host>   the interface to bind (overrides HOST)

Without DATABASE_URL the gateway keeps its tables in the embedded store under
ISTHMUS_DATA_DIR, which one process owns at a time: a second gateway on the
same folder is refused, naming the process that holds it.
`;

/** `isthmus start`: the gateway alone, configured by the environment, `--port`/`--host` taking precedence. */
export const startCommand: CliCommand = async (argv, io) => {
  let values;
  try {
    ({ values } = parseCliArgs(argv, { port: { type: 'string' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } }));
    if (values.port !== undefined && !(/^\d{1,5}$/.test(values.port) && Number(values.port) <= 65_535)) {
      throw new CliUsageError(`--port must be a whole number from 0 to 65535, not '${values.port}'`);
    }
    if (values.host !== undefined && values.host.trim() === '') throw new CliUsageError('--host must not be empty');
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    io.stderr.write(`isthmus start: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  // Loaded only now: bad usage is answered without loading the whole gateway.
  const { main } = await import('../../main.ts');
  await main({ ...io.env, ...(values.port !== undefined && { PORT: values.port }), ...(values.host !== undefined && { HOST: values.host }) });
  // The gateway keeps the process alive until SIGTERM.
  return await new Promise<number>(() => {});
};
