import { resolve } from 'node:path';
import { isOperationsMode, OPERATIONS_MODES, type OperationsMode } from './operation-manifest.ts';

/**
 * Off: an app without a manifest keeps working after an upgrade. An operator
 * turns `log-unknown` on to learn what apps send, then `require`.
 */
export const DEFAULT_OPERATIONS_MODE: OperationsMode = 'off';

/** The trusted-operations settings (`ISTHMUS_OPERATIONS_*`). */
export interface OperationsSettings {
  /** `ISTHMUS_OPERATIONS_DIR`: manifests as files, `<consumer bureau>/<app>.json`; none by default. */
  readonly dir: string | undefined;
  /** `ISTHMUS_OPERATIONS_MODE`: the mode of every app not named below; `off` by default. */
  readonly defaultMode: OperationsMode;
  /** `ISTHMUS_OPERATIONS_APP_MODES`: comma-separated `<bureau>/<app>=<mode>` overrides. */
  readonly appModes: ReadonlyMap<string, OperationsMode>;
}

/** The key an app is known by: `<consumer bureau>/<app>`, as in the folder's file names. */
export function appKey(bureau: string, app: string): string {
  return `${bureau}/${app}`;
}

/**
 * Reads the `ISTHMUS_OPERATIONS_*` settings, pushing one problem per bad
 * value onto `problems` (the caller reports them all together).
 *
 * @example
 * readOperationsSettings({ ISTHMUS_OPERATIONS_APP_MODES: 'civil-affairs/marriage-app=require' }, problems);
 */
export function readOperationsSettings(env: Readonly<Record<string, string | undefined>>, problems: string[]): OperationsSettings {
  const modeText = env.ISTHMUS_OPERATIONS_MODE || DEFAULT_OPERATIONS_MODE;
  const valid = `one of ${OPERATIONS_MODES.join(', ')}`;
  let defaultMode = DEFAULT_OPERATIONS_MODE;
  if (isOperationsMode(modeText)) defaultMode = modeText;
  else problems.push(`ISTHMUS_OPERATIONS_MODE must be ${valid}`);
  const appModes = new Map<string, OperationsMode>();
  const entries = (env.ISTHMUS_OPERATIONS_APP_MODES ?? '').split(',').map((part) => part.trim()).filter((part) => part !== '');
  entries.forEach((entry, index) => {
    const position = `ISTHMUS_OPERATIONS_APP_MODES entry ${index + 1} of ${entries.length}`;
    const match = /^([a-z0-9][a-z0-9._-]*)\/([a-z0-9][a-z0-9._-]*)=(.+)$/i.exec(entry);
    if (!match) problems.push(`${position} must be "<bureau>/<app>=<mode>"`);
    else if (!isOperationsMode(match[3])) problems.push(`${position} (${match[1]}/${match[2]}): the mode must be ${valid}`);
    else if (appModes.has(appKey(match[1]!, match[2]!))) problems.push(`${position}: ${match[1]}/${match[2]} is named twice`);
    else appModes.set(appKey(match[1]!, match[2]!), match[3]);
  });
  return { dir: env.ISTHMUS_OPERATIONS_DIR ? resolve(env.ISTHMUS_OPERATIONS_DIR) : undefined, defaultMode, appModes };
}
