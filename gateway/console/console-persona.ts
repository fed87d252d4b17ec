import type { DevTokenClaims } from '../auth/dev-issuer.ts';

/** A name in each of the console's languages, as the catalogue names bureaus (`{ zh, en }`). */
export interface LocalName {
  readonly zh: string;
  readonly en: string;
}

/**
 * Someone to sign in as in the demo: the persona picker asks the dev issuer
 * for a token with these claims, and the console verifies that token like
 * any other, so a persona's session holds exactly what the APIs would see.
 */
export interface ConsolePersona {
  /** Stable and URL-safe (`hrss-officer`): what the picker's form sends. */
  readonly id: string;
  /** The person's name, as the picker shows it. */
  readonly name: LocalName;
  /** The token's claims, less its lifetime (the console's session lifetime). */
  readonly claims: Omit<DevTokenClaims, 'ttl'>;
}

/** Ids of personas: letters, digits and dashes. */
export const PERSONA_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
