import { openStore } from '../gateway/store/store.ts';
import { EXIT_CONFIG } from '../gateway/main.ts';

/** Where the owner's connection string comes from: the same setting the gateway migrates with (README "Database roles"). */
export const MIGRATION_URL_VARIABLE = 'ISTHMUS_MIGRATION_DATABASE_URL';
/** Exit code when the database refused or failed a migration, or could not be reached (the Job retries). */
export const EXIT_FAILED = 1;

/** Where {@link migrateStore} writes: one line per outcome, never the connection string. */
export interface MigrateStoreOutput {
  write(line: string): void;
}

/**
 * The migration Job of a Kubernetes deployment (`deploy/k8s/base/migration-job.yaml`):
 * applies the gateway's pending migrations as the login that owns its tables,
 * then exits, so that the gateway's pods run as a login that owns nothing and
 * never hold the owner's password. Returns the exit code: 0 done (also when
 * nothing was pending), {@link EXIT_CONFIG} for a missing or malformed
 * setting, {@link EXIT_FAILED} when the database failed or refused.
 *
 * Messages name the setting and the error's code, never the connection
 * string (it carries a password); a driver error's SQLSTATE and message are
 * printed for the operator, as the gateway logs its causes.
 *
 * @example
 * ISTHMUS_MIGRATION_DATABASE_URL=postgres://owner:…@db/isthmus node deploy/migrate-store.ts
 */
export async function migrateStore(env: Readonly<Record<string, string | undefined>>, output: MigrateStoreOutput): Promise<number> {
  const url = env[MIGRATION_URL_VARIABLE]?.trim() || undefined;
  if (url === undefined || !/^postgres(ql)?:\/\//.test(url)) {
    output.write(`isthmus migrate: ${MIGRATION_URL_VARIABLE} must be the postgres:// connection string of the login that owns the gateway's tables (CONFIG_INVALID)`);
    return EXIT_CONFIG;
  }
  const store = await openStore({ kind: 'postgres', url, poolSize: 1 });
  try {
    const applied = await store.migrate();
    output.write(applied.length === 0 ? 'isthmus migrate: no migration was pending' : `isthmus migrate: applied ${applied.join(', ')}`);
    return 0;
  } catch (error) {
    output.write(`isthmus migrate: ${describeFailure(error)}`);
    return EXIT_FAILED;
  } finally {
    await store.close().catch(() => {});
  }
}

/** The error's own message and code, and its cause's code (a SQLSTATE, or ECONNREFUSED …) and message: neither PostgreSQL's nor Node's quotes a password. */
function describeFailure(error: unknown): string {
  const { message, code, cause } = error as { message?: string; code?: string; cause?: { message?: string; code?: string } };
  const driver = cause?.code !== undefined ? `; ${cause.code}: ${cause.message ?? ''}` : '';
  return `${message ?? 'the migration failed'} (${code ?? 'MIGRATION_FAILED'})${driver}`;
}

if (import.meta.main) process.exitCode = await migrateStore(process.env, { write: (line) => process.stdout.write(`${line}\n`) });
