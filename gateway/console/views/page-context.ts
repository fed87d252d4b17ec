import type { BureauNamer } from '../bureau-names.ts';
import type { ConsoleSession } from '../console-sessions.ts';
import type { Translator } from '../i18n/translator.ts';
import type { WorkingCalendar } from '../../../policies/working-calendar.ts';

/** What every page is rendered with, besides its own data. */
export interface PageContext {
  readonly t: Translator;
  /** Where the console is mounted (`/console`); every link starts with it. */
  readonly base: string;
  /** The stylesheet's URL (it carries the file's hash, so it can be cached for good). */
  readonly stylesheet: string;
  /** The CSRF token every form of the page carries: the session's, or the signed-out visitor's. */
  readonly csrf: string;
  readonly session: ConsoleSession | undefined;
  /** This page's path and query, for the language switch to come back to. */
  readonly here: string;
  readonly bureauName: (bureau: string) => string;
  /** A purpose code (`housing-loan-review`) in the reader's words, else the code itself. */
  readonly purposeName: (purpose: string) => string;
  /** The working calendar reply-by dates are counted in (the lifecycle's own); Monday to Friday when absent. */
  readonly calendar?: WorkingCalendar;
}

/** Builds the bureau naming of a page context from the console's namer. */
export function pageBureauName(namer: BureauNamer, t: Translator): (bureau: string) => string {
  return (bureau) => namer(bureau, t.locale);
}
