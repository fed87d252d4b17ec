import { accessSync, constants, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findChromium, SYSTEM_CHROMIUM } from './launch-chromium.ts';

describe('findChromium', () => {
  it('takes the system Chromium when there is one, unless told otherwise', async () => {
    const found = await findChromium({});
    expect(found.source).toBe(existsSync(SYSTEM_CHROMIUM) ? 'system' : 'bundled');
  });

  it('unpacks the Chromium of the @sparticuz/chromium package once, as an executable next to its own libraries', { timeout: 180_000 }, async () => {
    const first = await findChromium({ ISTHMUS_CHROMIUM: 'bundled' });
    expect(first.source).toBe('bundled');
    accessSync(first.executablePath, constants.X_OK);
    expect(first.env.LD_LIBRARY_PATH?.split(':')[0]).toMatch(/\/al2023\/lib$/);
    expect(existsSync(`${first.env.LD_LIBRARY_PATH!.split(':')[0]}/libnss3.so`)).toBe(true);
    // The second time it is there already: the same binary, nothing unpacked again.
    expect(await findChromium({ ISTHMUS_CHROMIUM: 'bundled' })).toEqual(first);
  });

  it('refuses a choice it does not know, naming it', async () => {
    await expect(findChromium({ ISTHMUS_CHROMIUM: 'firefox' })).rejects.toThrow('ISTHMUS_CHROMIUM must be auto, system, bundled or an absolute path to a Chromium executable, not "firefox"');
    await expect(findChromium({ ISTHMUS_CHROMIUM: '/nowhere/chromium' })).rejects.toThrow('ISTHMUS_CHROMIUM names /nowhere/chromium, which does not exist');
  });
});
