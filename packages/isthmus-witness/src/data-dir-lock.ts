import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { WitnessSetupError } from './witness-setup-error.ts';

/** The lock file's name in the data directory: it holds the pid of the witness process using the directory. */
export const LOCK_FILE = 'witness.lock';

// Locks this process holds, so two witnesses in one process (tests, the demo) cannot share a directory either.
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data directory for this process: one journal has one writer, or
 * two witnesses could each cosign a different successor of the same
 * checkpoint. A lock left by a process that is gone is taken over. Returns
 * the function that releases it. Throws `DATA_DIR_LOCKED`.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const path = join(dataDir, LOCK_FILE);
  if (held.has(path)) throw new WitnessSetupError('DATA_DIR_LOCKED', 'another witness in this process uses the data directory');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(path, 'wx', 0o600);
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      held.add(path);
      return async () => {
        held.delete(path);
        await rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new WitnessSetupError('DATA_DIR_LOCKED', `witness process ${pid} uses the data directory; stop it first`);
      }
      await rm(path, { force: true });
    }
  }
  throw new WitnessSetupError('DATA_DIR_LOCKED', 'the data directory\'s lock file could not be taken');
}
