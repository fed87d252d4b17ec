import { html } from 'hono/html';
import type { PinnedOperation, RegisteredOperation } from '../../operations/pinned-operations.ts';
import type { Markup } from './layout.ts';
import type { PageContext } from './page-context.ts';

/**
 * The operations an agreement pins, as the data officer reviews them: each
 * one's operation names, its hash and its document in a `<pre>` block (the
 * page is neutralized as a whole, `console-app.ts`, so a control character
 * in a document cannot steer the browser either); a hash no app registers
 * any more says so. Nothing when the agreement pins none.
 */
export function renderPinnedOperations(ctx: PageContext, pinned: readonly PinnedOperation[] | undefined): Markup {
  const { t } = ctx;
  if (!pinned || pinned.length === 0) return html``;
  return html`<section class="pinned-operations" aria-labelledby="pinned-title">
    <h2 id="pinned-title">${t.t('pinned.title', { count: pinned.length })}</h2>
    <p class="hint">${t.t('pinned.intro')}</p>
    <ol>
      ${pinned.map(
        (operation) => html`<li>
          <p><strong>${operation.names.length > 0 ? operation.names.join(', ') : t.t('pinned.anonymous')}</strong>
            <span class="hint">${t.t('pinned.hash')} <code>${operation.hash}</code></span></p>
          ${operation.document === undefined
            ? html`<p class="notice">${t.t('pinned.notRegistered')}</p>`
            : // A long line scrolls in its own box, which the keyboard can focus and scroll too (as the fields table).
              html`<div class="table-scroll" role="region" tabindex="0" aria-label="${t.t('pinned.document')}"><pre><code>${operation.document}</code></pre></div>`}
        </li>`,
      )}
    </ol>
  </section>`;
}

/**
 * The requester's choice of operations to pin: the registered documents of
 * the bureau's apps as checkboxes (`operation:<hash>`), grouped by app, each
 * by its name and first line, so nobody types a hash. Only those of the app
 * the request names will be accepted (the route checks).
 */
export function renderPinChoices(ctx: PageContext, registered: readonly RegisteredOperation[], chosen: readonly string[], invalid: boolean): Markup {
  const { t } = ctx;
  const apps = [...new Set(registered.map((operation) => operation.app))];
  return html`<fieldset class="pin-operations"${invalid ? html` aria-invalid="true"` : ''}>
    <legend>${t.t('pinned.form.legend')}</legend>
    <p class="hint">${t.t('pinned.form.hint')}</p>
    ${apps.length === 0
      ? html`<p class="hint">${t.t('pinned.form.none')}</p>`
      : apps.map(
          (app) => html`<fieldset class="field-group">
            <legend>${t.t('pinned.form.app', { app })}</legend>
            <ul class="field-choices">
              ${registered
                .filter((operation) => operation.app === app)
                .map((operation) => {
                  const id = `operation-${app}-${operation.hash.slice('sha256:'.length, 'sha256:'.length + 16)}`;
                  return html`<li class="choice">
                    <input type="checkbox" id="${id}" name="operation:${operation.hash}" value="on"${chosen.includes(operation.hash) ? ' checked' : ''}>
                    <label for="${id}"><strong>${operation.names.length > 0 ? operation.names.join(', ') : t.t('pinned.anonymous')}</strong> <code>${operation.firstLine}</code></label>
                  </li>`;
                })}
            </ul>
          </fieldset>`,
        )}
  </fieldset>`;
}
