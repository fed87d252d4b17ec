/** Every code a store error can carry. */
export type StoreErrorCode = 'STORE_UNAVAILABLE' | 'MIGRATION_FAILED' | 'MIGRATIONS_PENDING' | 'STORE_LOCKED' | 'STORE_ROLE_UNSAFE';

/** An error of the gateway's own database. The message is safe to show; the driver's error is in `cause`. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}

/** Who holds an embedded store's lock, as its lock file says. */
export interface StoreLockHolder {
  readonly pid: number;
  readonly hostname: string;
  /** The holder's command line, with option values that could be secrets left out. */
  readonly command: string;
  /** ISO instant the holder took the lock. */
  readonly since: string;
  /** Where the holder serves, once it listens (a gateway); undefined for a CLI command. */
  readonly url: string | undefined;
}

/**
 * Another process holds the embedded store: one process owns a PGlite data
 * folder at a time (PGlite itself does not stop a second one, and two
 * writers lose each other's commits). Raised before PGlite is opened or
 * anything is written. `holder` is undefined when the lock file cannot be
 * read as Isthmus's.
 */
export class StoreLockedError extends StoreError {
  override readonly code = 'STORE_LOCKED';
  /** The data folder. */
  readonly dataDir: string;
  /** The lock file inside it. */
  readonly lockFile: string;
  readonly holder: StoreLockHolder | undefined;
  constructor(dataDir: string, lockFile: string, holder: StoreLockHolder | undefined, message?: string) {
    super('STORE_LOCKED', message ?? describeHolder(dataDir, lockFile, holder));
    this.name = 'StoreLockedError';
    this.dataDir = dataDir;
    this.lockFile = lockFile;
    this.holder = holder;
  }
}

function describeHolder(dataDir: string, lockFile: string, holder: StoreLockHolder | undefined): string {
  if (!holder) return `the embedded store in ${dataDir} is locked by ${lockFile}, which is not an Isthmus lock file; if no process uses the folder, remove that file`;
  return (
    `the embedded store in ${dataDir} is in use by process ${holder.pid} (${holder.command}) on ${holder.hostname} since ${holder.since}` +
    (holder.url ? `, serving ${holder.url}` : '')
  );
}

/**
 * `ISTHMUS_PRODUCTION=true` and the gateway's database login could alter the
 * access log (a superuser, an owner of its tables, or able to disable their
 * triggers): the gateway refuses to start. The message names each problem
 * and the fix; `problems` holds their codes.
 */
export class StoreRoleUnsafeError extends StoreError {
  override readonly code = 'STORE_ROLE_UNSAFE';
  readonly problems: readonly string[];
  constructor(problems: readonly string[], message: string) {
    super('STORE_ROLE_UNSAFE', message);
    this.name = 'StoreRoleUnsafeError';
    this.problems = problems;
  }
}
