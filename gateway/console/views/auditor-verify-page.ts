import { html } from 'hono/html';
import type { AccessLogVerification } from '../../access-log/verify-access-log.ts';
import { csrfField, type Markup } from './layout.ts';
import type { PageContext } from './page-context.ts';

/** The chains' verification: a button that runs it (a POST: it is recorded in the trail), and the outcome of the run just made. */
export function renderAuditVerifyPage(ctx: PageContext, result: AccessLogVerification | undefined): Markup {
  const { t, base } = ctx;
  return html`<h1>${t.t('auditor.verify.title')}</h1>
    <p class="lead">${t.t('auditor.verify.lead')}</p>
    <form method="post" action="${base}/audit/verify">${csrfField(ctx)}<button type="submit">${t.t('auditor.verify.run')}</button></form>
    ${result === undefined
      ? ''
      : html`<section aria-labelledby="verify-result" class="notice ${result.problems.length === 0 ? 'ok' : 'refusal'}" role="status">
          <h2 id="verify-result">${result.problems.length === 0 ? t.t('auditor.verify.intact') : t.t('auditor.verify.broken', { count: result.problems.length })}</h2>
          <p>${t.t('auditor.verify.counts', { chains: result.chains, entries: result.entries, checkpoints: result.checkpoints })}</p>
          <p>${result.proven ? t.t('auditor.verify.proven', { witnesses: result.witnesses.filter((w) => w.ok).map((w) => w.name).join(', '), uncovered: result.uncoveredEntries }) : t.t('auditor.verify.unproven')}</p>
          <p>${t.t(`auditor.verify.keys.${result.keySource}`)}</p>
          ${result.problems.length === 0
            ? ''
            : html`<ul>${result.problems.map((problem) => html`<li>${t.t(`auditor.verify.problem.${problem.kind}`)} — <code>${problem.chainId}</code> #${problem.seq} ${problem.detail}${problem.entryId ? html` · <a href="${base}/audit/log/${problem.entryId}">${t.t('auditor.log.open')}</a>` : ''}</li>`)}</ul>`}
        </section>`}`;
}
