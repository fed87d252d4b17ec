import { execFile } from 'node:child_process';

/** Bound on asking fontconfig. */
const FC_LIST_TIMEOUT_MS = 5_000;

/**
 * Says on the test's console (a warning, not a failure) when the machine has
 * no font with Chinese glyphs: the console's pages then render as boxes in
 * every screenshot, which no assertion would notice. `.ci/run` installs
 * Debian's `fonts-noto-cjk`; on a developer's machine `apt-get install
 * fonts-noto-cjk` (or the system's CJK fonts) fixes it. True when one is found.
 */
export async function warnWithoutCjkFont(): Promise<boolean> {
  const families = await new Promise<string>((resolve) => {
    execFile('fc-list', [':lang=zh', 'family'], { timeout: FC_LIST_TIMEOUT_MS }, (error, stdout) => resolve(error ? '' : stdout));
  });
  if (families.trim() !== '') return true;
  console.warn('No CJK font is installed (fc-list :lang=zh finds none): Chinese text in the console\'s screenshots will not render. Install Debian\'s fonts-noto-cjk (.ci/run does).');
  return false;
}
