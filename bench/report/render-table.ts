import type { BenchReport } from './bench-report.ts';

/**
 * The run as plain-text tables: one block per scenario and concurrency, one
 * row per system with its medians and its ratios to stitch-bare of the same
 * city; then the systems' peak RSS and the goals.
 *
 * @example
 * process.stdout.write(renderTable(report));
 */
export function renderTable(report: BenchReport): string {
  const lines: string[] = [];
  const rss = new Map(report.systems.map((system) => [system.name, system.peakRssMiB]));
  const calls = new Map(report.probes.map((probe) => [`${probe.scenario}/${probe.system}`, probe.callsPerRequest.total]));
  const header = ['system', 'req/s', '× base', 'p50 ms', 'p99 ms', 'p99 × base', 'CPU ms/req', 'CPU × base', 'bureaus CPU ms/req', 'db CPU ms/req', 'errors', 'calls/req', 'peak RSS MiB'];
  const blocks = [...new Set(report.cells.map((cell) => `${cell.scenario}@${cell.connections}`))];
  for (const block of blocks) {
    const [scenario, connections] = block.split('@');
    lines.push(`\n${scenario}, concurrency ${connections} — medians of ${report.settings.rounds} round(s) × ${report.settings.durationSeconds} s; ratios vs stitch-bare of the same city`);
    const rows = report.cells
      .filter((cell) => `${cell.scenario}@${cell.connections}` === block)
      .map((cell) => [
        cell.system,
        cell.requestsPerSecond.toFixed(0),
        formatRatio(cell.ratio.requestsPerSecond),
        cell.p50Ms.toFixed(2),
        cell.p99Ms.toFixed(2),
        formatRatio(cell.ratio.p99Ms),
        cell.systemCpuMsPerRequest.toFixed(2),
        formatRatio(cell.ratio.systemCpuMsPerRequest),
        cell.bureausCpuMsPerRequest.toFixed(2),
        Number.isNaN(cell.databaseCpuMsPerRequest) ? '—' : cell.databaseCpuMsPerRequest.toFixed(2),
        String(cell.errors),
        String(calls.get(`${cell.scenario}/${cell.system}`) ?? '—'),
        String(rss.get(cell.system) ?? '—'),
      ]);
    lines.push(...align([header, ...rows]));
  }
  if (report.goals.length > 0) {
    lines.push('\ngoals (single lookup)');
    lines.push(...align([['goal', 'value', 'target', 'met'], ...report.goals.map((goal) => [goal.goal, goal.value === null ? '—' : goal.value.toFixed(3), goal.target, goal.met === null ? 'not run' : goal.met ? 'yes' : 'NO'])]));
  }
  return `${lines.join('\n')}\n`;
}

function formatRatio(ratio: number | null): string {
  return ratio === null ? '—' : `${ratio.toFixed(2)}×`;
}

/** Pads columns to their widest cell: names left, figures right. */
function align(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => [...(row[column] ?? '')].length)));
  return rows.map((row) =>
    row
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ')
      .trimEnd(),
  );
}
