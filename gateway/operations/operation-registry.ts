import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Unlisten } from '../store/store.ts';
import { parseOperationManifest, type OperationHash, type OperationManifest, type OperationsMode } from './operation-manifest.ts';
import { OPERATIONS_CHANNEL, type OperationManifestStore } from './operation-manifest-store.ts';
import { appKey, type OperationsSettings } from './operations-settings.ts';

/**
 * How often a replica asks the store for manifest changes even when it hears
 * none: a lost NOTIFY (a dropped LISTEN connection) is made good within a minute.
 */
export const DEFAULT_OPERATIONS_POLL_MS = 60_000;

/** What one app may run, and how strictly. */
export interface AppOperations {
  readonly mode: OperationsMode;
  readonly documents: OperationManifest;
}

/** A manifest folder or a stored manifest that does not check out; `problems` name the file or app and the hash. */
export class OperationsManifestInvalid extends Error {
  override readonly name = 'OperationsManifestInvalid';
  readonly code = 'OPERATIONS_MANIFEST_INVALID';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`ISTHMUS_OPERATIONS_DIR: invalid manifests:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.problems = problems;
  }
}

/** The in-memory view every request reads: no database round trip per request. */
export interface OperationRegistry {
  /** The app's mode and registered documents. */
  forApp(bureau: string, app: string): AppOperations;
  /** The document of a hash any app registered, for showing a pinned operation to the data officer. */
  documentOf(hash: OperationHash): string | undefined;
  /** The apps of a consumer bureau that registered documents, sorted: what a requester may pin operations of. */
  appsOf(bureau: string): readonly string[];
  /** Reads the store again (after a change through the admin API). */
  refresh(): Promise<void>;
  /** Reads the folder and the store again; a folder that no longer checks out is refused and the running view stays. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

const EMPTY: OperationManifest = new Map();

/**
 * Reads `<dir>/<bureau>/<app>.json` manifests. Every problem of every file is
 * reported together; a missing folder is one (the setting names a path that
 * is not there).
 */
export function readManifestDir(dir: string): ReadonlyMap<string, OperationManifest> {
  const manifests = new Map<string, OperationManifest>();
  const problems: string[] = [];
  let bureaus: string[];
  try {
    bureaus = readdirSync(dir).filter((name) => statSync(join(dir, name)).isDirectory());
  } catch {
    throw new OperationsManifestInvalid([`${dir}: not a readable folder`]);
  }
  for (const bureau of bureaus.sort()) {
    for (const file of readdirSync(join(dir, bureau)).filter((name) => name.endsWith('.json')).sort()) {
      const source = `${bureau}/${file}`;
      let json: unknown;
      try {
        json = JSON.parse(readFileSync(join(dir, bureau, file), 'utf8'));
      } catch {
        problems.push(`${source}: not valid JSON`);
        continue;
      }
      const parsed = parseOperationManifest(json, source);
      if (parsed.ok) manifests.set(appKey(bureau, file.slice(0, -'.json'.length)), parsed.manifest);
      else problems.push(...parsed.problems);
    }
  }
  if (problems.length > 0) throw new OperationsManifestInvalid(problems);
  return manifests;
}

/** What the registry is built from. */
export interface OperationRegistryOptions {
  readonly settings: OperationsSettings;
  readonly store: OperationManifestStore;
  /** `Store.listen`: hear other replicas' changes as they commit. */
  readonly listen?: (channel: string, onNotify: (payload: string) => void) => Promise<Unlisten>;
  readonly pollIntervalMs?: number;
  readonly onError?: (error: unknown) => void;
}

/**
 * The registered operations of every app: the folder's manifests, overridden
 * per app by what an operator stored through the admin API (the later, audited
 * change). The mode: the stored one, else `ISTHMUS_OPERATIONS_APP_MODES`, else
 * `ISTHMUS_OPERATIONS_MODE`. Replicas learn stored changes by LISTEN on
 * {@link OPERATIONS_CHANNEL} and, should a notification be lost, by polling.
 */
export async function createOperationRegistry(options: OperationRegistryOptions): Promise<OperationRegistry> {
  const { settings, store, listen, pollIntervalMs = DEFAULT_OPERATIONS_POLL_MS, onError = () => {} } = options;
  let files: ReadonlyMap<string, OperationManifest> = settings.dir ? readManifestDir(settings.dir) : new Map();
  let apps = new Map<string, AppOperations>();
  let byHash = new Map<OperationHash, string>();

  const rebuild = async (): Promise<void> => {
    const stored = await store.current();
    const next = new Map<string, AppOperations>();
    const modeOf = (key: string): OperationsMode => settings.appModes.get(key) ?? settings.defaultMode;
    for (const [key, documents] of files) next.set(key, { mode: modeOf(key), documents });
    for (const row of stored) {
      const key = appKey(row.bureau, row.app);
      next.set(key, { mode: row.mode ?? modeOf(key), documents: row.manifest });
    }
    const hashes = new Map<OperationHash, string>();
    for (const { documents } of next.values()) for (const [hash, document] of documents) hashes.set(hash, document);
    apps = next;
    byHash = hashes;
  };
  await rebuild();

  let unlisten: Unlisten | undefined;
  if (listen) unlisten = await listen(OPERATIONS_CHANNEL, () => void rebuild().catch(onError));
  let timer: NodeJS.Timeout | undefined;
  if (pollIntervalMs > 0) {
    timer = setInterval(() => void rebuild().catch(onError), pollIntervalMs);
    timer.unref();
  }

  return {
    forApp(bureau, app) {
      const key = appKey(bureau, app);
      return apps.get(key) ?? { mode: settings.appModes.get(key) ?? settings.defaultMode, documents: EMPTY };
    },
    documentOf: (hash) => byHash.get(hash),
    appsOf(bureau) {
      const prefix = appKey(bureau, '');
      return [...apps].filter(([key, { documents }]) => key.startsWith(prefix) && documents.size > 0).map(([key]) => key.slice(prefix.length)).sort();
    },
    refresh: rebuild,
    async reload() {
      if (settings.dir) files = readManifestDir(settings.dir);
      await rebuild();
    },
    async close() {
      clearInterval(timer);
      await unlisten?.();
    },
  };
}
