import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

/** A V8 CPU profile being recorded in this process. */
export interface CpuProfileRecording {
  /** Stops recording and writes the `.cpuprofile` (the format `node --cpu-prof` writes) to `file`. */
  stop(file: string): Promise<void>;
}

/**
 * Starts V8's sampling CPU profiler in this process through the inspector —
 * the profiler `node --cpu-prof` uses — so that the profile covers only the
 * load (not start-up and module loading, as `--cpu-prof` would).
 *
 * @example
 * const recording = await startCpuProfile();
 * … load …
 * await recording.stop('bench/results/profiles/isthmus.cpuprofile');
 */
export async function startCpuProfile(): Promise<CpuProfileRecording> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}
