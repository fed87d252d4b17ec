import packageJson from '../package.json' with { type: 'json' };

/**
 * The gateway's version: the one in `package.json`, so a release changes it
 * in one place. Reported by `isthmus --version`, instance rows and logs.
 */
export const GATEWAY_VERSION: string = packageJson.version;
