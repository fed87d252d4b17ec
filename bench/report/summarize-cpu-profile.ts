import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The parts of a V8 `.cpuprofile` (as `node --cpu-prof` writes it) that a summary needs. */
interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
    readonly children?: readonly number[];
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** One line of a summary: a function or a package, its share of the busy time. */
export interface ProfileEntry {
  readonly name: string;
  readonly ms: number;
  /** Percent of busy time (all samples but `(idle)`). */
  readonly percent: number;
}

/** Where a profiled process spent its CPU time. */
export interface ProfileSummary {
  readonly busyMs: number;
  readonly idleMs: number;
  /** Self time by package or project folder (`graphql`, `@graphql-tools/delegate`, `isthmus gateway/`, `node internals`, `(garbage collector)` …). */
  readonly byPackage: readonly ProfileEntry[];
  /** Self time by function. */
  readonly bySelf: readonly ProfileEntry[];
  /** Time with the function anywhere on the stack (each sample counted once per function). */
  readonly byTotal: readonly ProfileEntry[];
}

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Reduces a `.cpuprofile` to the top costs by package, by function (self)
 * and by function (total), so that "where the time goes" can be read off
 * without a profiler UI.
 *
 * @example
 * const summary = summarizeCpuProfile(JSON.parse(readFileSync(file, 'utf8')), 20);
 */
export function summarizeCpuProfile(profile: CpuProfile, top: number): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const packages = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  profile.samples.forEach((id, index) => {
    const micros = Math.max(0, profile.timeDeltas[index] ?? 0);
    const node = byId.get(id);
    if (!node) return;
    if (node.callFrame.functionName === '(idle)') {
      idle += micros;
      return;
    }
    busy += micros;
    const key = functionKey(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + micros);
    const pkg = packageOf(node.callFrame);
    packages.set(pkg, (packages.get(pkg) ?? 0) + micros);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (frame.functionName === '(root)') continue;
      const each = functionKey(frame);
      if (seen.has(each)) continue;
      seen.add(each);
      total.set(each, (total.get(each) ?? 0) + micros);
    }
  });
  const rank = (values: Map<string, number>, count: number): ProfileEntry[] =>
    [...values]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, micros]) => ({ name, ms: Math.round(micros / 100) / 10, percent: Math.round((micros / Math.max(1, busy)) * 1_000) / 10 }));
  return { busyMs: Math.round(busy / 1_000), idleMs: Math.round(idle / 1_000), byPackage: rank(packages, top), bySelf: rank(self, top), byTotal: rank(total, top) };
}

function functionKey(frame: CpuProfile['nodes'][number]['callFrame']): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  return `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

function shortUrl(url: string): string {
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) return path.slice(modules + '/node_modules/'.length);
  return path.startsWith(PROJECT_ROOT) ? path.slice(PROJECT_ROOT.length) : path;
}

function packageOf(frame: CpuProfile['nodes'][number]['callFrame']): string {
  if (!frame.url) return frame.functionName.startsWith('(') ? frame.functionName : 'native / V8 builtins';
  if (frame.url.startsWith('node:')) return 'node internals';
  const path = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url;
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = path.slice(modules + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (path.startsWith(PROJECT_ROOT)) return `isthmus ${path.slice(PROJECT_ROOT.length).split('/')[0]}/`;
  return path;
}

/** `node bench/report/summarize-cpu-profile.ts <file.cpuprofile> [top]`: prints the summary. */
function main(): void {
  const [file, topArgument] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node bench/report/summarize-cpu-profile.ts <file.cpuprofile> [top=20]\n');
    process.exit(64);
  }
  // `… | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => process.exit(error.code === 'EPIPE' ? 0 : 1));
  const summary = summarizeCpuProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(topArgument ?? 20));
  const print = (title: string, entries: readonly ProfileEntry[]): void => {
    process.stdout.write(`\n${title}\n`);
    for (const entry of entries) process.stdout.write(`${entry.percent.toFixed(1).padStart(5)}%  ${entry.ms.toFixed(0).padStart(7)} ms  ${entry.name}\n`);
  };
  process.stdout.write(`busy ${summary.busyMs} ms, idle ${summary.idleMs} ms\n`);
  print('self time by package', summary.byPackage);
  print('self time by function', summary.bySelf);
  print('total time by function (on the stack)', summary.byTotal);
}

if (import.meta.main) main();
