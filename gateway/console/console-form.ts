import type { Context } from 'hono';
import { ConsoleError } from './console-error.ts';

/** A submitted form: one value per name. */
export type ConsoleForm = ReadonlyMap<string, string>;

/**
 * Reads a form the console's own pages posted (`application/x-www-form-urlencoded`;
 * the body's size is bounded before this runs). A name sent twice is refused
 * rather than guessed at: no page of the console sends one twice.
 *
 * @throws ConsoleError `BAD_USER_INPUT` for another encoding or a repeated name.
 */
export async function readForm(c: Context): Promise<ConsoleForm> {
  const type = (c.req.header('content-type') ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new ConsoleError('BAD_USER_INPUT', `a console form is urlencoded, not ${JSON.stringify(type.slice(0, 60))}`);
  const form = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(await c.req.text())) {
    if (form.has(name)) throw new ConsoleError('BAD_USER_INPUT', `form field ${JSON.stringify(name.slice(0, 40))} was sent twice`);
    form.set(name, value);
  }
  return form;
}
