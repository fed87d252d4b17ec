import type { BenchEndpoint, SystemUpstreams } from '../systems/running-system.ts';
import { benchSystem } from '../systems/bench-systems.ts';
import { serveChild } from './child-protocol.ts';
import { startCpuProfile, type CpuProfileRecording } from './start-cpu-profile.ts';

/** Environment variable carrying the system's {@link SystemUpstreams}. */
export const SYSTEM_UPSTREAMS_ENV = 'BENCH_UPSTREAMS';
/** Environment variable naming the `.cpuprofile` to write; unset: no profiling. */
export const SYSTEM_PROFILE_ENV = 'BENCH_PROFILE_FILE';

/**
 * One system's process: `node system-process.ts <system>`. Its own process
 * so that its peak RSS is its own, and so that a profile shows only its
 * work. Reports its {@link BenchEndpoint} when ready; with
 * {@link SYSTEM_PROFILE_ENV} set, answers `profile-start` and `profile-stop`.
 */
async function main(): Promise<void> {
  const system = benchSystem(process.argv[2] ?? '');
  const upstreams = JSON.parse(process.env[SYSTEM_UPSTREAMS_ENV] ?? 'null') as SystemUpstreams;
  const profileFile = process.env[SYSTEM_PROFILE_ENV];
  let recording: CpuProfileRecording | undefined;
  await serveChild(
    async () => {
      const running = await system.start(upstreams);
      const endpoint: BenchEndpoint = { url: running.url, headers: running.headers, ...(running.principals ? { principals: running.principals } : {}) };
      return { payload: endpoint, close: () => running.close() };
    },
    profileFile
      ? {
          'profile-start': async () => {
            recording ??= await startCpuProfile();
            return true;
          },
          'profile-stop': async () => {
            await recording?.stop(profileFile);
            recording = undefined;
            return profileFile;
          },
        }
      : {},
  );
}

if (import.meta.main) await main();
