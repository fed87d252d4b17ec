import { readFile } from 'node:fs/promises';

/** Samples a process's resident set size while a round runs. */
export interface RssSampler {
  /** Stops sampling; resolves to the largest RSS seen, in MiB (NaN if none could be read). */
  stop(): Promise<number>;
}

/** How often a running system's RSS is read. */
export const DEFAULT_RSS_INTERVAL_MS = 100;

/**
 * Reads `VmRSS` from `/proc/<pid>/status` every `intervalMs` (Linux; on
 * other systems every read fails and the result is NaN).
 *
 * @example
 * const sampler = startRssSampler(child.pid);
 * await runLoad(…);
 * const peakMiB = await sampler.stop();
 */
export function startRssSampler(pid: number, intervalMs = DEFAULT_RSS_INTERVAL_MS): RssSampler {
  let peakKiB = Number.NaN;
  let reading: Promise<void> = Promise.resolve();
  const read = async (): Promise<void> => {
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const kib = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
      if (Number.isFinite(kib) && !(kib <= peakKiB)) peakKiB = kib;
    } catch {
      // The process is gone or this is not Linux: nothing to sample.
    }
  };
  const timer = setInterval(() => {
    reading = read();
  }, intervalMs);
  reading = read();
  return {
    async stop() {
      clearInterval(timer);
      await reading;
      await read();
      return Math.round((peakKiB / 1_024) * 10) / 10;
    },
  };
}
