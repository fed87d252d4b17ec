import { open, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Flushes a directory, so a rename or a new file in it survives a power cut (a no-op where directories cannot be opened, e.g. Windows). */
export async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
  } catch {
    return;
  }
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename is then as durable as they make it.
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` with `contents` so that a crash leaves either the old file or
 * the new one, never half of either: write a temporary file beside it, fsync,
 * rename over, fsync the directory.
 */
export async function writeFileDurably(path: string, contents: string, mode: number): Promise<void> {
  const temporary = join(dirname(path), `.${process.pid}.${Date.now()}.tmp`);
  const handle = await open(temporary, 'wx', mode);
  try {
    await handle.writeFile(contents);
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
  await syncDirectory(dirname(path));
}
