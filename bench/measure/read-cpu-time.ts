import { readFile } from 'node:fs/promises';

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
