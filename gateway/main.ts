import { loadConfig, ConfigError } from './config/config.ts';
import { CatalogueError } from './catalogue/catalogue-error.ts';
import { startGateway, type Gateway } from './gateway.ts';

/**
 * Runs the gateway as a process: reads the environment, starts, and shuts
 * down gracefully on SIGTERM or SIGINT. A bad setting or an invalid
 * catalogue stops the process with a message naming it, and no stack.
 */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<Gateway> {
  try {
    const gateway = await startGateway(loadConfig(env));
    const stop = (signal: string) => {
      gateway.log.info({ signal }, 'shutting down');
      void gateway.close().then(() => process.exit(0));
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    return gateway;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof CatalogueError) {
      process.stderr.write(`isthmus: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}

if (import.meta.main) await main();
