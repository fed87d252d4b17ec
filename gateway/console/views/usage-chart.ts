import { html, raw } from 'hono/html';
import type { AgreementUseDay } from '../../access-log/agreement-use.ts';
import type { Markup } from './layout.ts';
import type { PageContext } from './page-context.ts';

/** The chart's drawing box; the SVG scales to its container (viewBox), so this only sets proportions. */
const WIDTH = 640;
const HEIGHT = 200;
const AXIS = 28;
/** Bar colours per consumer app, in order; more apps than colours repeat them (the table tells them apart anyway). */
const COLOURS = ['#1f5fa8', '#c2571a', '#2e7d4f', '#7b3fa0', '#8a6d00'];

/**
 * An agreement's use over `days` days ending `lastDay` (`YYYY-MM-DD`): a bar
 * per day, stacked by consumer app, drawn as SVG on the server (no script),
 * with the same figures in a table beside it for screen readers and anyone
 * who would rather read. The SVG is `role="img"` with a label and hides its
 * own shapes from assistive technology: the table is the accessible form.
 */
export function renderUsageChart(ctx: PageContext, rows: readonly AgreementUseDay[], lastDay: string, days: number): Markup {
  const { t } = ctx;
  const dates = Array.from({ length: days }, (_, index) => new Date(Date.parse(`${lastDay}T00:00:00Z`) - (days - 1 - index) * 86_400_000).toISOString().slice(0, 10));
  const apps = [...new Set(rows.map((row) => row.clientApp))].sort();
  const perDay = new Map<string, number>();
  for (const row of rows) perDay.set(row.day, (perDay.get(row.day) ?? 0) + row.reads);
  const total = rows.reduce((sum, row) => sum + row.reads, 0);
  const max = Math.max(1, ...perDay.values());
  const slot = (WIDTH - AXIS) / days;
  const scale = (HEIGHT - 20) / max;
  const bars: string[] = [];
  dates.forEach((date, index) => {
    let y = HEIGHT - 16;
    for (const [appIndex, app] of apps.entries()) {
      const reads = rows.find((row) => row.day === date && row.clientApp === app)?.reads ?? 0;
      if (reads === 0) continue;
      const h = reads * scale;
      y -= h;
      bars.push(`<rect x="${(AXIS + index * slot + slot * 0.15).toFixed(1)}" y="${y.toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLOURS[appIndex % COLOURS.length]}"/>`);
    }
  });
  // Numbers and dates only go into the SVG's text, never a name someone typed: the raw markup carries nothing to escape.
  const axis = `<line x1="${AXIS}" y1="${HEIGHT - 16}" x2="${WIDTH}" y2="${HEIGHT - 16}" stroke="#555"/><text x="${AXIS - 4}" y="14" text-anchor="end" font-size="11">${max}</text><text x="${AXIS - 4}" y="${HEIGHT - 18}" text-anchor="end" font-size="11">0</text><text x="${AXIS}" y="${HEIGHT - 2}" font-size="11">${dates[0]!.slice(5)}</text><text x="${WIDTH}" y="${HEIGHT - 2}" text-anchor="end" font-size="11">${dates.at(-1)!.slice(5)}</text>`;
  return html`<section class="usage" aria-labelledby="usage-title">
    <h2 id="usage-title">${t.t('usage.title')}</h2>
    <p>${t.t('usage.lead', { days })}</p>
    ${total === 0
      ? html`<p>${t.t('usage.empty', { days })}</p>`
      : html`<div class="usage-body">
          <figure class="usage-chart">
            <svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${t.t('usage.chartLabel', { total })}" xmlns="http://www.w3.org/2000/svg"><g aria-hidden="true">${raw(axis + bars.join(''))}</g></svg>
            <figcaption><ul class="legend">${apps.map((app, index) => html`<li><span class="swatch swatch-${index % COLOURS.length}" aria-hidden="true"></span>${app}</li>`)}</ul></figcaption>
          </figure>
          <div class="table-scroll" role="region" tabindex="0" aria-label="${t.t('usage.caption')}"><table class="usage-table">
            <caption>${t.t('usage.caption')}</caption>
            <thead><tr><th scope="col">${t.t('usage.day')}</th><th scope="col">${t.t('usage.app')}</th><th scope="col">${t.t('usage.reads')}</th></tr></thead>
            <tbody>${rows.map((row) => html`<tr><th scope="row"><time datetime="${row.day}">${row.day}</time></th><td>${row.clientApp}</td><td>${t.number(row.reads)}</td></tr>`)}</tbody>
            <tfoot><tr><th scope="row" colspan="2">${t.t('usage.total')}</th><td>${t.number(total)}</td></tr></tfoot>
          </table></div>
        </div>`}
  </section>`;
}
