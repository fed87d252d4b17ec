import type { BenchReport, CellSummary } from './bench-report.ts';

const PANEL_WIDTH = 620;
const LABEL_WIDTH = 120;
const VALUE_WIDTH = 290;
const BAR_HEIGHT = 18;
const ROW_HEIGHT = 24;
const PANEL_TITLE = 28;
const PANEL_GAP = 24;
const COLUMNS = 2;
const MARGIN = 20;
const HEADER = 48;

/** Bar colours: the mixed city in blues, the all-GraphQL city in greens; Isthmus darkest in each. */
const COLOURS: Readonly<Record<string, string>> = {
  direct: '#9ecae1',
  'stitch-bare': '#6baed6',
  isthmus: '#08519c',
  'stitch-bare-ag': '#74c476',
  'hive-gateway': '#a1d99b',
  'isthmus-ag': '#006d2c',
};

/**
 * The run as an SVG bar chart, written by hand (no chart library): one panel
 * per scenario and concurrency, one bar per system for its median req/s,
 * labelled with the ratio to its baseline and its median p99.
 *
 * @example
 * writeFileSync('bench/results/latest.svg', renderChart(report));
 */
export function renderChart(report: BenchReport): string {
  const blocks = [...new Set(report.cells.map((cell) => `${cell.scenario}@${cell.connections}`))];
  const panels = blocks.map((block) => report.cells.filter((cell) => `${cell.scenario}@${cell.connections}` === block));
  // Each row of panels is as tall as its longest panel.
  const rows = Math.ceil(panels.length / COLUMNS);
  const rowHeights = Array.from({ length: rows }, (_, row) => PANEL_TITLE + Math.max(1, ...panels.slice(row * COLUMNS, row * COLUMNS + COLUMNS).map((cells) => cells.length)) * ROW_HEIGHT);
  const rowTops = rowHeights.map((_, row) => HEADER + MARGIN + rowHeights.slice(0, row).reduce((sum, each) => sum + each + PANEL_GAP, 0));
  const width = MARGIN * 2 + COLUMNS * PANEL_WIDTH + (COLUMNS - 1) * PANEL_GAP;
  const height = (rowTops[rows - 1] ?? HEADER + MARGIN) + (rowHeights[rows - 1] ?? 0) + MARGIN;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    text(MARGIN, 24, `Isthmus bench — median req/s (${report.settings.rounds} × ${report.settings.durationSeconds} s rounds${report.quick ? ', quick run' : ''}), ratio vs stitch-bare of the same city, median p99, system CPU per request`, { size: 14, weight: 'bold' }),
    text(MARGIN, 40, `${report.startedAt} · ${report.machine.cpus} × ${report.machine.cpuModel} · Node ${report.machine.node} · HRSS on ${report.hrssStore} · load average ${report.machine.loadAverageAtStart[0]} → ${report.machine.loadAverageAtEnd[0]}`, { size: 11, fill: '#555555' }),
  ];
  panels.forEach((cells, index) => {
    const x = MARGIN + (index % COLUMNS) * (PANEL_WIDTH + PANEL_GAP);
    const y = rowTops[Math.floor(index / COLUMNS)]!;
    parts.push(panel(x, y, cells));
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function panel(x: number, y: number, cells: readonly CellSummary[]): string {
  const first = cells[0]!;
  const max = Math.max(1, ...cells.map((cell) => cell.requestsPerSecond));
  const barSpace = PANEL_WIDTH - LABEL_WIDTH - VALUE_WIDTH;
  const parts = [text(x, y + 16, `${first.scenario}, concurrency ${first.connections}`, { size: 13, weight: 'bold' })];
  cells.forEach((cell, row) => {
    const top = y + PANEL_TITLE + row * ROW_HEIGHT;
    const length = Math.max(1, Math.round((cell.requestsPerSecond / max) * barSpace));
    const ratio = cell.ratio.requestsPerSecond === null ? '' : ` (${cell.ratio.requestsPerSecond.toFixed(2)}×)`;
    parts.push(
      text(x, top + 13, cell.system),
      `<rect x="${x + LABEL_WIDTH}" y="${top}" width="${length}" height="${BAR_HEIGHT}" fill="${COLOURS[cell.system] ?? '#999999'}"><title>${escape(`${cell.system}: ${cell.requestsPerSecondByRound.join(', ')} req/s by round`)}</title></rect>`,
      text(x + LABEL_WIDTH + length + 6, top + 13, `${cell.requestsPerSecond.toFixed(0)}/s${ratio} · p99 ${cell.p99Ms.toFixed(1)} ms · CPU ${cell.systemCpuMsPerRequest.toFixed(2)} ms/req${cell.errors > 0 ? ` · ${cell.errors} err` : ''}`, { size: 11 }),
    );
  });
  return parts.join('\n');
}

function text(x: number, y: number, content: string, style: { size?: number; weight?: string; fill?: string } = {}): string {
  const attributes = [`x="${x}"`, `y="${y}"`, style.size ? `font-size="${style.size}"` : '', style.weight ? `font-weight="${style.weight}"` : '', style.fill ? `fill="${style.fill}"` : ''].filter(Boolean).join(' ');
  return `<text ${attributes}>${escape(content)}</text>`;
}

function escape(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}
