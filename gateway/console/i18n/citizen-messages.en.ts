import type { CITIZEN_ZH } from './citizen-messages.zh-cn.ts';

/** The citizen's page in English, typed by the Chinese keys. */
export const CITIZEN_EN: Readonly<Record<keyof typeof CITIZEN_ZH, string>> = {
  'nav.citizenReads': 'Who read my data',
  'citizen.home': 'See which bureaus read your data, when, why and on what basis.',
  'citizen.title': 'Who read my data',
  'citizen.lead': 'Each time a bureau read your personal data, newest first. A read whose disclosure the law delays is shown once the delay ends.',
  'citizen.empty': 'No bureau has read your data yet.',
  'citizen.who': '{bureau} read your data',
  'citizen.from': 'Data held by',
  'citizen.fields': 'What was read',
  'citizen.noFields': 'Nothing was returned',
  'citizen.purpose': 'Purpose',
  'citizen.basis': 'Legal basis',
  'citizen.agreement': '(sharing agreement {id})',
  'citizen.notStated': 'Not stated',
  'citizen.outcome': 'Outcome',
  'citizen.outcome.ALLOWED': 'Provided',
  'citizen.outcome.PARTIAL': 'Partly provided',
  'citizen.outcome.DENIED': 'Refused, nothing provided',
  'citizen.outcome.FAILED': 'Did not succeed, nothing provided',
};
