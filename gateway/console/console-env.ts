import type { Context } from 'hono';
import type { ConsoleForm } from './console-form.ts';
import type { ConsoleSession } from './console-sessions.ts';
import type { Translator } from './i18n/translator.ts';
import type { Markup } from './views/layout.ts';
import type { PageContext } from './views/page-context.ts';

/** What the console's middleware hands every route. */
export type ConsoleEnv = {
  Variables: {
    /** The words of the language this request is answered in. */
    t: Translator;
    /** The live session the cookie names, if any. */
    session: ConsoleSession | undefined;
    /** The request named a session that has ended: pages say "expired", not "please sign in". */
    lapsed: boolean;
    /** The CSRF token the page's forms carry. */
    csrf: string;
    /** A POST's form, read and CSRF-checked before the route runs. */
    form: ConsoleForm;
    /** Where the language switch returns to: this page for a GET; a route that answers a POST with a page sets the page's own address. */
    here: string;
  };
};

/** A console route's context. */
export type ConsoleContext = Context<ConsoleEnv>;

/** Answers with a whole page in the console's frame, its body built with the page's context (no caching: pages hold personal and official data). */
export type RenderPage = (c: ConsoleContext, title: string, body: (page: PageContext) => Markup, status?: number) => Response | Promise<Response>;
