import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { demoCity } from '../examples/data/generate-city.ts';
import { parseBenchOptions, type BenchOptions } from './bench-options.ts';
import type { BenchBureauAddresses, UpstreamCounts } from './bureaus/start-bench-bureaus.ts';
import { systemBureauCalls, systemUpstreams, type BureauCalls } from './bureaus/system-upstreams.ts';
import { probeSystem } from './measure/probe-system.ts';
import { cpuMsSince, readCpuMs, readCpuMsByName } from './measure/read-cpu-time.ts';
import { runLoad } from './measure/run-load.ts';
import { startRssSampler } from './measure/sample-rss.ts';
import { BUREAUS_OPTIONS_ENV } from './processes/bureaus-process.ts';
import { spawnBenchChild, type BenchChild } from './processes/spawn-bench-child.ts';
import { SYSTEM_PROFILE_ENV, SYSTEM_UPSTREAMS_ENV } from './processes/system-process.ts';
import { checkGoals, summarizeCells, type BenchReport, type MeasuredCell, type ProbeSummary, type RoundResult, type SystemSummary } from './report/bench-report.ts';
import { renderChart } from './report/render-chart.ts';
import { renderTable } from './report/render-table.ts';
import { benchScenarios, type BenchScenario } from './scenarios/bench-scenarios.ts';
import { BENCH_SYSTEMS, type BenchSystem } from './systems/bench-systems.ts';
import type { BenchEndpoint } from './systems/running-system.ts';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
const PROFILES_DIR = fileURLToPath(new URL('./results/profiles/', import.meta.url));
const BUREAUS_ENTRY = fileURLToPath(new URL('./processes/bureaus-process.ts', import.meta.url));
const SYSTEM_ENTRY = fileURLToPath(new URL('./processes/system-process.ts', import.meta.url));
const START_TIMEOUT_MS = 60_000;
/**
 * Pause after each load: requests still in flight when autocannon stops are
 * abandoned by the client but finished by the system and the bureaus, and
 * must not spill into the next system's round.
 */
const SETTLE_MS = 500;

/** A started system: its description, its process and where to send load. */
interface Contender {
  readonly system: BenchSystem;
  readonly child: BenchChild<BenchEndpoint>;
  peakRssMiB: number;
}

/**
 * `npm run bench [-- --quick]`: issue #5's comparison. Starts the bureaus and
 * every system, each in its own process; checks every answer and counts the
 * upstream calls per request; then runs each scenario at each concurrency in
 * rounds that alternate the systems' order (A B C … C B A …) so that drift on
 * a shared, noisy machine cancels out; and reports medians, ratios to
 * stitch-bare, p99, errors, peak RSS and the issue's goals, as a table on
 * stdout, `bench/results/latest.json` and `bench/results/latest.svg`.
 *
 * The load generator (autocannon) runs in this process: it is neither a
 * system nor a bureau, and it hands us every response's time and body.
 */
async function runBench(options: BenchOptions): Promise<void> {
  const startedAt = new Date();
  const loadAverageAtStart = loadAverage();
  const city = demoCity();
  const systems = BENCH_SYSTEMS.filter((system) => options.systems.includes(system.name));
  const scenarios = benchScenarios(city).filter((scenario) => scenario.enabled && (options.scenarios === undefined || options.scenarios.includes(scenario.name)));
  if (systems.length === 0 || scenarios.length === 0) throw new Error('nothing to run: no system or no enabled scenario selected');
  const databaseServerUrl = process.env.DATABASE_URL || undefined;
  const log = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const runs = scenarios.reduce((sum, scenario) => sum + (scenario.runsOn === 'all' ? systems.length : systems.filter((system) => system.name === scenario.runsOn).length), 0);
  const settle = SETTLE_MS / 1_000;
  const estimate = runs * options.connections.length * (options.rounds * (options.durationSeconds + settle) + options.warmupSeconds + settle);
  log(`isthmus bench: ${systems.length} systems, ${scenarios.length} scenarios, ${options.connections.length} concurrencies, ${options.rounds} rounds of ${options.durationSeconds} s (about ${Math.ceil(estimate / 60)} min of load); HRSS on ${databaseServerUrl ? 'PostgreSQL (DATABASE_URL)' : 'embedded PGlite'}; load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
  if (!databaseServerUrl) {
    log('warning: without DATABASE_URL the SQL bureau is an embedded PGlite with one connection per system, and it, not the gateways, sets the pace at concurrency 64; see bench/README.md');
  }

  const children: BenchChild<unknown>[] = [];
  const stopAll = () => Promise.allSettled(children.map((child) => child.stop()));
  process.once('SIGINT', () => {
    void stopAll().then(() => process.exit(130));
  });
  try {
    const bureaus = await spawnBenchChild<BenchBureauAddresses>(BUREAUS_ENTRY, [], {
      name: 'bureaus',
      env: {
        ...process.env,
        [BUREAUS_OPTIONS_ENV]: JSON.stringify({
          ...(databaseServerUrl ? { databaseServerUrl } : {}),
          sqlReaders: systems.filter((system) => system.readsSql).map((system) => system.name),
          allGraphql: systems.some((system) => system.variant === 'all-graphql'),
        }),
      },
      readyTimeoutMs: START_TIMEOUT_MS,
    });
    children.push(bureaus);
    log(`bureaus up (pid ${bureaus.pid})`);

    const contenders: Contender[] = [];
    if (options.profile.length > 0) mkdirSync(PROFILES_DIR, { recursive: true });
    for (const system of systems) {
      const child = await spawnBenchChild<BenchEndpoint>(SYSTEM_ENTRY, [system.name], {
        name: system.name,
        env: {
          ...process.env,
          [SYSTEM_UPSTREAMS_ENV]: JSON.stringify(systemUpstreams(system, bureaus.ready, databaseServerUrl)),
          ...(options.profile.includes(system.name) ? { [SYSTEM_PROFILE_ENV]: `${PROFILES_DIR}${system.name}-${startedAt.toISOString().replaceAll(':', '-')}.cpuprofile` } : {}),
        },
        readyTimeoutMs: START_TIMEOUT_MS,
        showStdout: options.verbose,
      });
      children.push(child);
      contenders.push({ system, child, peakRssMiB: Number.NaN });
      log(`${system.name} up at ${child.ready.url} (pid ${child.pid})`);
    }

    const applicable = (scenario: BenchScenario): Contender[] => contenders.filter(({ system }) => scenario.runsOn === 'all' || system.name === scenario.runsOn);
    const headersFor = (contender: Contender, scenario: BenchScenario): Readonly<Record<string, string>> =>
      scenario.principal === 'bureau-app' ? contender.child.ready.headers : (contender.child.ready.principals?.[scenario.principal] ?? contender.child.ready.headers);

    const readCalls = async (contender: Contender): Promise<BureauCalls> => systemBureauCalls(contender.system, await bureaus.request<UpstreamCounts>('counts'));

    // Correctness first, before any timing: every answer is checked against the city's data.
    const probes: ProbeSummary[] = [];
    for (const scenario of scenarios) {
      for (const contender of applicable(scenario)) {
        const probe = await probeSystem(contender.child.ready, headersFor(contender, scenario), scenario, options.probeRequests, () => readCalls(contender));
        probes.push({ scenario: scenario.name, system: contender.system.name, correct: probe.problem === undefined, ...(probe.problem ? { problem: probe.problem } : {}), callsPerRequest: probe.callsPerRequest });
        const calls = probe.callsPerRequest;
        log(`check ${scenario.name} on ${contender.system.name}: ${probe.problem ?? 'correct'}; upstream calls/request ${calls.total} (public-security ${calls['public-security']}, market-supervision ${calls['market-supervision']}, hrss ${calls['human-resources-social-security']})`);
      }
    }
    // A system that answers wrongly is not timed on that scenario: its speed would mean nothing.
    const wrong = probes.filter((probe) => !probe.correct);
    for (const probe of wrong) log(`NOT TIMED: ${probe.system} on ${probe.scenario}: wrong answer (${probe.problem?.slice(0, 200)})`);
    const timed = (scenario: BenchScenario): Contender[] =>
      applicable(scenario).filter(({ system }) => !wrong.some((probe) => probe.system === system.name && probe.scenario === scenario.name));

    // Profiles cover the load only: warm-ups and timed rounds, not start-up.
    const profiled = contenders.filter(({ system }) => options.profile.includes(system.name));
    for (const { child } of profiled) await child.request('profile-start');

    const cells: MeasuredCell[] = [];
    const totalCalls = (calls: BureauCalls): number => calls['public-security'] + calls['market-supervision'] + calls['human-resources-social-security'];
    // The local PostgreSQL server's processes, when the run uses one (PGlite runs inside the measured processes).
    const readDatabaseCpu = async (): Promise<ReadonlyMap<number, number>> => (process.env.DATABASE_URL ? readCpuMsByName('postgres') : new Map());
    const load = async (contender: Contender, scenario: BenchScenario, connections: number, seconds: number): Promise<RoundResult> => {
      const sampler = startRssSampler(contender.child.pid);
      const callsBefore = totalCalls(await readCalls(contender));
      const [systemCpuBefore, bureausCpuBefore, databaseCpuBefore] = await Promise.all([readCpuMs(contender.child.pid), readCpuMs(bureaus.pid), readDatabaseCpu()]);
      const result = await runLoad({
        url: contender.child.ready.url,
        headers: headersFor(contender, scenario),
        bodies: scenario.bodies,
        connections,
        durationSeconds: seconds,
        verifyBody: scenario.verifyBody,
      });
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const [systemCpuAfter, bureausCpuAfter, databaseCpuAfter] = await Promise.all([readCpuMs(contender.child.pid), readCpuMs(bureaus.pid), readDatabaseCpu()]);
      const peak = await sampler.stop();
      // A dead bureau or system makes every later figure meaningless: stop here, saying which.
      for (const [name, child] of [['bureaus', bureaus], [contender.system.name, contender.child]] as const) {
        const ended = child.exited();
        if (ended) throw new Error(`${name} ${ended} during ${scenario.name} c=${connections}; see its stderr above`);
      }
      if (!(peak <= contender.peakRssMiB)) contender.peakRssMiB = peak;
      // Requests the system processed, those abandoned at the round's end included (their CPU is in
      // the readings too): the calls the bureaus received meanwhile over the calls one request costs.
      const perRequest = probes.find((probe) => probe.system === contender.system.name && probe.scenario === scenario.name)?.callsPerRequest.total ?? 0;
      const processed = perRequest > 0 ? (totalCalls(await readCalls(contender)) - callsBefore) / perRequest : result.responses;
      const perProcessed = (ms: number): number => (processed > 0 ? Math.round((ms / processed) * 1_000) / 1_000 : Number.NaN);
      return {
        ...result,
        processedRequests: Math.round(processed),
        systemCpuMsPerRequest: perProcessed(systemCpuAfter - systemCpuBefore),
        bureausCpuMsPerRequest: perProcessed(bureausCpuAfter - bureausCpuBefore),
        databaseCpuMsPerRequest: databaseCpuBefore.size > 0 ? perProcessed(cpuMsSince(databaseCpuBefore, databaseCpuAfter)) : Number.NaN,
      };
    };
    for (const scenario of scenarios) {
      const runners = timed(scenario);
      if (runners.length === 0) continue;
      for (const connections of options.connections) {
        if (options.warmupSeconds > 0) for (const contender of runners) await load(contender, scenario, connections, options.warmupSeconds);
        const rounds = new Map(runners.map((contender) => [contender.system.name, [] as RoundResult[]]));
        for (let round = 0; round < options.rounds; round += 1) {
          const order = round % 2 === 0 ? runners : [...runners].reverse();
          for (const contender of order) {
            const result = await load(contender, scenario, connections, options.durationSeconds);
            rounds.get(contender.system.name)!.push(result);
            const errors = result.non2xx + result.bodyErrors + result.transportErrors;
            log(`${scenario.name} c=${connections} round ${round + 1}/${options.rounds} ${contender.system.name.padEnd(18)} ${result.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms  cpu ${result.systemCpuMsPerRequest.toFixed(2)} ms/req (bureaus ${result.bureausCpuMsPerRequest.toFixed(2)}, db ${result.databaseCpuMsPerRequest.toFixed(2)})${errors ? `  ${errors} errors` : ''}`);
          }
        }
        for (const contender of runners) cells.push({ scenario: scenario.name, connections, system: contender.system.name, rounds: rounds.get(contender.system.name)! });
      }
    }

    // Group commit at work: entries per access log transaction over the whole run, from each gateway's /metrics.
    for (const { system, child } of contenders) {
      const metrics = await fetch(new URL('/metrics', child.ready.url), { signal: AbortSignal.timeout(5_000) }).then((reply) => (reply.ok ? reply.text() : ''), () => '');
      const sum = Number(/^isthmus_access_log_batch_entries_sum (\S+)$/m.exec(metrics)?.[1]);
      const count = Number(/^isthmus_access_log_batch_entries_count (\S+)$/m.exec(metrics)?.[1]);
      const seconds = Number(/^isthmus_access_log_transaction_duration_seconds_sum (\S+)$/m.exec(metrics)?.[1]);
      if (sum > 0) log(`${system.name}: access log ${(sum / count).toFixed(1)} entries per transaction on average (${count} transactions of ${((seconds / count) * 1_000).toFixed(2)} ms on average)`);
    }

    const profiles: string[] = [];
    for (const { child } of profiled) profiles.push(await child.request<string>('profile-stop'));

    const summaries = summarizeCells(cells, systems);
    const report: BenchReport = {
      version: 1,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      quick: options.quick,
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model.trim() ?? 'unknown', node: process.versions.node, loadAverageAtStart, loadAverageAtEnd: loadAverage() },
      settings: { durationSeconds: options.durationSeconds, rounds: options.rounds, warmupSeconds: options.warmupSeconds, connections: options.connections },
      hrssStore: bureaus.ready.hrssStore,
      systems: contenders.map(({ system, peakRssMiB }): SystemSummary => ({ name: system.name, variant: system.variant, description: system.description, baseline: system.baseline, peakRssMiB })),
      probes,
      cells: summaries,
      goals: checkGoals(summaries),
    };
    if (wrong.length > 0) process.exitCode = 1;
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(`${RESULTS_DIR}latest.json`, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(`${RESULTS_DIR}latest.svg`, renderChart(report));
    log(renderTable(report));
    log(`wrote ${RESULTS_DIR}latest.json and latest.svg`);
    for (const file of profiles) log(`profile: ${file}\n  summarise: node bench/report/summarize-cpu-profile.ts ${file}`);
  } finally {
    await stopAll();
  }
}

/** The 1, 5 and 15 minute load averages: on a shared machine, the context of every figure. */
function loadAverage(): number[] {
  return loadavg().map((value) => Math.round(value * 100) / 100);
}

if (import.meta.main) {
  let options: BenchOptions;
  try {
    options = parseBenchOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(64);
  }
  await runBench(options);
}
