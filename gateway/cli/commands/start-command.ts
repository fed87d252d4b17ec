import type { CliCommand } from '../cli-io.ts';
import { main } from '../../main.ts';

/** `isthmus start`: the gateway alone, configured by the environment (see the README's configuration table). */
export const startCommand: CliCommand = async (argv, io) => {
  if (argv.includes('--help')) {
    io.stdout.write('usage: isthmus start\n\nRuns the gateway with settings from the environment (PORT, DATABASE_URL, …).\n');
    return 0;
  }
  await main();
  // The gateway keeps the process alive until SIGTERM.
  return await new Promise<number>(() => {});
};
