import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, which `.ci/run` installs and prefers. */
export const SYSTEM_CHROMIUM = '/usr/bin/chromium';

/**
 * Flags for every browser test: headless, no sandbox (tests run as root in
 * containers), no GPU, and nothing that reaches out to the network by itself
 * — a test must see only the requests its page makes.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/** Bound on unpacking the bundled Chromium (about 2 s here; a cold disk on a busy machine takes longer). */
const DEFAULT_UNPACK_TIMEOUT_MS = 120_000;
/** Bound on the browser's start (about 1–3 s here). */
const DEFAULT_LAUNCH_TIMEOUT_MS = 60_000;

/** Which Chromium a browser test drives, and where it came from. */
export interface ChromiumExecutable {
  /** `system`: {@link SYSTEM_CHROMIUM}; `bundled`: the binary inside the `@sparticuz/chromium` npm package; `path`: `ISTHMUS_CHROMIUM` named a file. */
  readonly source: 'system' | 'bundled' | 'path';
  readonly executablePath: string;
  /** Environment the browser needs besides this process's (the bundled build's own libraries). */
  readonly env: Readonly<Record<string, string>>;
}

/** A launched browser and the executable it runs. */
export interface LaunchedChromium {
  readonly browser: Browser;
  readonly executable: ChromiumExecutable;
}

/**
 * Finds the Chromium for browser tests, never downloading one.
 * `ISTHMUS_CHROMIUM` chooses:
 * - unset or `auto`: {@link SYSTEM_CHROMIUM} when it is there, else the bundled one;
 * - `system`: {@link SYSTEM_CHROMIUM}, or fail saying how to install it;
 * - `bundled`: the Chromium that `npm ci` brought in `@sparticuz/chromium`
 *   (brotli-compressed inside the package), unpacked once per version under
 *   the temporary folder;
 * - an absolute path: that executable.
 *
 * @example
 * ISTHMUS_CHROMIUM=bundled npx vitest run test/graphiql.browser.test.ts
 */
export async function findChromium(env: Readonly<Record<string, string | undefined>> = process.env, signal?: AbortSignal): Promise<ChromiumExecutable> {
  const choice = env.ISTHMUS_CHROMIUM || 'auto';
  switch (choice) {
    case 'auto':
      return existsSync(SYSTEM_CHROMIUM) ? { source: 'system', executablePath: SYSTEM_CHROMIUM, env: {} } : bundledChromium(signal);
    case 'system':
      if (!existsSync(SYSTEM_CHROMIUM)) throw new Error(`ISTHMUS_CHROMIUM=system, but ${SYSTEM_CHROMIUM} is missing: apt-get install chromium (.ci/run does), or use ISTHMUS_CHROMIUM=bundled`);
      return { source: 'system', executablePath: SYSTEM_CHROMIUM, env: {} };
    case 'bundled':
      return bundledChromium(signal);
    default:
      if (!choice.startsWith('/')) throw new Error(`ISTHMUS_CHROMIUM must be auto, system, bundled or an absolute path to a Chromium executable, not "${choice}"`);
      if (!existsSync(choice)) throw new Error(`ISTHMUS_CHROMIUM names ${choice}, which does not exist`);
      return { source: 'path', executablePath: choice, env: {} };
  }
}

/**
 * Launches the Chromium {@link findChromium} chooses through playwright-core,
 * with {@link CHROMIUM_ARGS}.
 *
 * @example
 * const { browser } = await launchChromium();
 * try { const page = await browser.newPage(); … } finally { await browser.close(); }
 */
export async function launchChromium(options: { readonly signal?: AbortSignal; readonly timeoutMs?: number } = {}): Promise<LaunchedChromium> {
  const executable = await findChromium(process.env, options.signal);
  options.signal?.throwIfAborted();
  const browser = await chromium.launch({
    executablePath: executable.executablePath,
    args: [...CHROMIUM_ARGS],
    env: { ...process.env, ...executable.env },
    timeout: options.timeoutMs ?? DEFAULT_LAUNCH_TIMEOUT_MS,
  });
  return { browser, executable };
}

/**
 * The Chromium inside `@sparticuz/chromium`, unpacked by the package's own
 * `executablePath()` into `<tmp>/isthmus-chromium-<uid>/<version>/`.
 *
 * The package unpacks into `os.tmpdir()` itself, in place, and takes any
 * `chromium` file already there as done; so it runs in a child process whose
 * TMPDIR is a fresh staging folder, which is then renamed into place: two test
 * processes unpacking at once cannot hand each other a half-written binary,
 * and a run killed halfway leaves only a staging folder. The child also says
 * it runs on Amazon Linux 2023: only then does the package unpack the NSS and
 * expat libraries its build links against, which a machine with nothing but
 * Node does not have (the browser gets them through LD_LIBRARY_PATH).
 */
async function bundledChromium(signal?: AbortSignal): Promise<ChromiumExecutable> {
  let entry: string;
  try {
    entry = fileURLToPath(import.meta.resolve('@sparticuz/chromium'));
  } catch (error) {
    throw new Error('no Chromium: @sparticuz/chromium is not installed (npm ci installs it), and there is no system Chromium', { cause: error });
  }
  const { version } = packageOf(entry);
  // Per user: the folder is made private (mkdtemp), and another user's copy would not be ours to run.
  const parent = join(tmpdir(), `isthmus-chromium-${process.getuid?.() ?? 'user'}`);
  const dir = join(parent, version);
  const found = (): ChromiumExecutable => ({
    source: 'bundled',
    executablePath: join(dir, 'chromium'),
    env: { LD_LIBRARY_PATH: [join(dir, 'al2023', 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') },
  });
  if (existsSync(join(dir, 'chromium'))) return found();

  mkdirSync(parent, { recursive: true });
  const staging = mkdtempSync(join(parent, `${version}.staging-`));
  try {
    await unpackInto(staging, entry, signal);
    if (!existsSync(join(staging, 'chromium'))) throw new Error(`@sparticuz/chromium ${version} did not unpack a chromium binary into ${staging}`);
    try {
      renameSync(staging, dir);
    } catch (error) {
      // Another process renamed its copy first: use that one.
      if (!existsSync(join(dir, 'chromium'))) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return found();
}

async function unpackInto(staging: string, entry: string, signal?: AbortSignal): Promise<void> {
  const script = 'const { default: chromium } = await import(process.argv[1]); process.stdout.write(await chromium.executablePath());';
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, entry], {
    env: { ...process.env, TMPDIR: staging, AWS_LAMBDA_JS_RUNTIME: 'nodejs22.x' },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: DEFAULT_UNPACK_TIMEOUT_MS,
    ...(signal ? { signal } : {}),
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code, killedBy] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (code !== 0) throw new Error(`unpacking @sparticuz/chromium failed (${killedBy ?? `exit ${code}`}): ${output.slice(-2_000)}`);
}

/** The `package.json` of the package `entry` belongs to (its build folders have package.json files of their own, without a name). */
function packageOf(entry: string): { readonly name: string; readonly version: string } {
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (manifest.name === '@sparticuz/chromium' && manifest.version) return { name: manifest.name, version: manifest.version };
  }
  throw new Error(`no package.json of @sparticuz/chromium above ${entry}`);
}
