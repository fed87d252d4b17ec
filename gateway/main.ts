import { loadConfig, ConfigError } from './config/config.ts';
import { CatalogueError } from './catalogue/catalogue-error.ts';
import { OperationsManifestInvalid } from './operations/operation-registry.ts';
import { StoreLockedError, StoreRoleUnsafeError } from './store/store-error.ts';
import { startGateway, type Gateway } from './gateway.ts';
import { SigningKeyError } from './auth/signing-key.ts';
import { LogNoteKeyError } from './access-log/log-tree-note-key.ts';

/** Exit code for an invalid setting or catalogue (sysexits' EX_CONFIG). */
export const EXIT_CONFIG = 78;
/** Exit code when something the gateway needs is taken by another process: its embedded store, its port. */
export const EXIT_IN_USE = 1;

/**
 * Runs the gateway as a process: reads the environment, starts, reloads
 * its catalogue, trusted operations and keys on SIGHUP (the log says what
 * changed, or every problem of a folder it refused), and shuts down gracefully on SIGTERM or SIGINT. A bad setting, an invalid
 * catalogue, an embedded store another process owns or a port in use stops
 * the process with a message naming it, and no stack.
 */
export async function main(env: Readonly<Record<string, string | undefined>> = process.env): Promise<Gateway> {
  try {
    const gateway = await startGateway(loadConfig(env));
    const stop = (signal: string) => {
      gateway.log.info({ signal }, 'shutting down');
      void gateway.close().then(() => process.exit(0));
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    // The reload logs its own outcome; only a failure of ours is left to report here.
    const reload = () => void gateway.reloadCatalogue().catch((error: unknown) => gateway.log.error({ err: error }, 'catalogue reload failed'));
    process.on('SIGHUP', reload);
    return gateway;
  } catch (error) {
    const refusal = startRefusal(error);
    if (refusal) {
      process.stderr.write(`isthmus: ${refusal.message}\n`);
      process.exit(refusal.exitCode);
    }
    throw error;
  }
}

/**
 * What to tell the operator about a start-up failure they can act on, and
 * the exit code; undefined for anything else (which keeps its stack). For
 * every process that starts a gateway (`isthmus start`, the demo city).
 */
export function startRefusal(error: unknown): { readonly message: string; readonly exitCode: number } | undefined {
  if (error instanceof ConfigError || error instanceof CatalogueError || error instanceof StoreRoleUnsafeError || error instanceof OperationsManifestInvalid) return { message: error.message, exitCode: EXIT_CONFIG };
  // A key file that is unsafe, unreadable or cannot be made (a read-only keys folder without the keys): the operator's to fix.
  if (error instanceof SigningKeyError || error instanceof LogNoteKeyError) return { message: `${error.message} (${error.code}, ISTHMUS_KEYS_DIR)`, exitCode: EXIT_CONFIG };
  if (error instanceof StoreLockedError) {
    return {
      message:
        `${error.message} (${error.code}). One process owns an embedded store at a time: stop that process, ` +
        'give this gateway a folder of its own (ISTHMUS_DATA_DIR), or run replicas on PostgreSQL (DATABASE_URL).',
      exitCode: EXIT_IN_USE,
    };
  }
  const errno = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (errno instanceof Error && errno.code === 'EADDRINUSE' && errno.syscall === 'listen') {
    return { message: `port ${errno.port} on ${errno.address} is in use by another process; choose another with PORT or isthmus start --port (EADDRINUSE)`, exitCode: EXIT_IN_USE };
  }
  return undefined;
}

if (import.meta.main) await main();
