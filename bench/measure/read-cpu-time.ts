import { readdir, readFile } from 'node:fs/promises';

/** Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`): 100 on Linux. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU time a process has used so far (user + system), in milliseconds, from
 * `/proc/<pid>/stat`; NaN when it cannot be read (not Linux, or gone).
 *
 * Why it matters here: on a shared, noisy machine a system's requests per
 * second also measure everyone else's load, while the CPU time it spends per
 * request is its own.
 *
 * @example
 * const before = await readCpuMs(pid);
 * … load …
 * const cpuMsPerRequest = ((await readCpuMs(pid)) - before) / requests;
 */
export async function readCpuMs(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const userTicks = Number(fields[11]);
    const systemTicks = Number(fields[12]);
    return ((userTicks + systemTicks) * 1_000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time used so far by every process of one name (`/proc/<pid>/comm`),
 * by pid; for the local PostgreSQL server, whose backends do the access
 * log's and the SQL bureau's database work outside the processes measured
 * one by one. Empty when `/proc` cannot be read.
 */
export async function readCpuMsByName(name: string): Promise<ReadonlyMap<number, number>> {
  const byPid = new Map<number, number>();
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return byPid;
  }
  await Promise.all(
    entries.filter((entry) => /^\d+$/.test(entry)).map(async (entry) => {
      const comm = await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '');
      if (comm.trim() !== name) return;
      const ms = await readCpuMs(Number(entry));
      if (!Number.isNaN(ms)) byPid.set(Number(entry), ms);
    }),
  );
  return byPid;
}

/** CPU time the processes of a {@link readCpuMsByName} reading used since `before`; a process born since counts whole. */
export function cpuMsSince(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}
