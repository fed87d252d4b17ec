import { demoCity } from '../../examples/data/generate-city.ts';
import { startBenchBureaus, type BenchBureausOptions } from '../bureaus/start-bench-bureaus.ts';
import { serveChild } from './child-protocol.ts';

/** Environment variable carrying the bureaus' options (without the city, which is always the demo city). */
export const BUREAUS_OPTIONS_ENV = 'BENCH_BUREAUS_OPTIONS';

/**
 * The bureaus' process: every bureau system of the bench in one event loop,
 * apart from the systems under test and from the load generator, so that
 * each system's CPU and memory are its own. Answers `counts` requests with
 * the bureaus' own call counters.
 */
async function main(): Promise<void> {
  const options = JSON.parse(process.env[BUREAUS_OPTIONS_ENV] ?? '{}') as Omit<BenchBureausOptions, 'city'>;
  let bureaus: Awaited<ReturnType<typeof startBenchBureaus>> | undefined;
  await serveChild(
    async () => {
      bureaus = await startBenchBureaus({ ...options, city: demoCity() });
      const running = bureaus;
      return { payload: running.addresses, close: () => running.close() };
    },
    { counts: () => bureaus?.counts() },
  );
}

if (import.meta.main) await main();
