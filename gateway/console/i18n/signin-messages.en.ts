import type { SIGNIN_ZH } from './signin-messages.zh-cn.ts';

/** The console's words for signing in through the city's identity provider, in English: the same keys as {@link SIGNIN_ZH}. */
export const SIGNIN_EN: Readonly<Record<keyof typeof SIGNIN_ZH, string>> = {
  'signin.oidc.intro': "Sign in with your account at the city's identity service.",
  'signin.oidc.button': "Sign in with the city's identity service",
  'signin.continue.title': 'Signed in',
  'signin.continue.text': 'You are signed in; opening the console…',
  'signin.continue.link': 'Continue',
  'signin.signedOut.title': 'Signed out',
  'signin.signedOut.text': "You have signed out of the console; signing you out of the city's identity service…",
  'signin.signedOut.link': "Sign out of the city's identity service",
  'signin.refused.title': 'Sign-in not completed',
  'signin.refused.STATE_MISMATCH': 'This sign-in was not started by this console, or it was used already or took too long. Nobody was signed in. Please sign in again.',
  'signin.refused.PROVIDER_REFUSED': "The city's identity service refused this sign-in (perhaps you cancelled it). Nobody was signed in.",
  'signin.refused.CODE_REJECTED': "The city's identity service did not accept this sign-in's code (it may have been used already or expired). Nobody was signed in. Please sign in again.",
  'signin.refused.ID_TOKEN_INVALID': "The identity token from the city's identity service was not issued to this console, or did not verify. Nobody was signed in.",
  'signin.refused.PROVIDER_UNAVAILABLE': "The city's identity service cannot be reached now. Nobody was signed in. Please try again shortly.",
  'signin.refused.again': 'Sign in again',
};
