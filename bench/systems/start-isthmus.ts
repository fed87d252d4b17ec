import type { DevTokenClaims } from '../../gateway/auth/dev-issuer.ts';
import { sampleResident } from '../../examples/demo-city.ts';
import { loadConfig } from '../../gateway/config/config.ts';
import { PURPOSE_HEADER } from '../../gateway/graphql/use-enforcement.ts';
import { startGateway, type StartGatewayOptions } from '../../gateway/gateway.ts';
import { inLifeOrder } from '../../gateway/graphql/gateway-plugins.ts';
import { createScratchDatabase } from '../../test/support/test-stores.ts';
import { catalogueSettings } from './catalogue-settings.ts';
import { BENCH_CONSUMERS, seedBenchAgreements } from './seed-bench-agreements.ts';
import type { RunningSystem, SystemUpstreams } from './running-system.ts';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { MAX_QUOTA } from '../../policies/agreement-quota.ts';
import { operationHashOf } from '../../gateway/operations/operation-manifest.ts';
import { CITIZEN_SELF_DOCUMENT, DENIED_DOCUMENT, LIST_DOCUMENT, SINGLE_DOCUMENT } from '../scenarios/scenario-documents.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LOG_NAME, openLogNoteKey } from '../../gateway/access-log/log-tree-note-key.ts';
import { startBenchWitness, type BenchWitness } from './start-bench-witness.ts';

/** Options of {@link startIsthmusSystem}. */
export interface StartIsthmusOptions {
  /** No request log (tests); the benchmark keeps the default, because the log is part of the gateway's cost. */
  readonly quiet?: boolean;
  /**
   * Stages switched off to see what each costs (`startGateway`'s
   * `plugins` option): the `isthmus-no-*` systems. Everything is on by default.
   */
  readonly stages?: { readonly enforcement?: boolean; readonly accessLog?: boolean; readonly hardening?: boolean };
  /**
   * A witness (`isthmus-witness`, its own process) cosigns the log's
   * checkpoints, every 10 s or 1,000 entries as in production: the
   * `isthmus-witnessed` system. Off by default.
   */
  readonly witness?: boolean;
  /**
   * Every check of issue 13 that a production city would turn on, beyond the
   * defaults (cost limit, failed-authentication throttling, security events):
   * trusted operations in mode `require` over a manifest of the bench's
   * documents (one sha256 per request), and a quota on every agreement,
   * metered through the store (a lease of `ISTHMUS_QUOTA_LEASE_BLOCK`
   * requests per round trip), set high enough never to refuse: the
   * `isthmus-hardened` system. Off by default.
   */
  readonly hardened?: boolean;
}

/** The hardened system's quota: the highest the terms allow, so it meters every request and refuses none. */
const HARDENED_QUOTA = { requestsPerMinute: MAX_QUOTA.requestsPerMinute, recordsPerDay: MAX_QUOTA.recordsPerDay };

/** Long enough for any run; tokens are minted per start and never leave the machine. */
const BENCH_TOKEN_TTL = '12h';

/**
 * Starts the real Isthmus gateway (`startGateway`) for the benchmark: the one
 * place where the `isthmus` and `isthmus-ag` systems are configured, so that
 * the bench follows the gateway as authentication, enforcement and the
 * access log land.
 *
 * - Defaults everywhere else: request log at `info` on stdout (which the
 *   harness discards), metrics, limits, enforcement with partial results.
 * - Its store is a scratch database on `databaseServerUrl` when there is one,
 *   as in production, or in memory (PGlite) otherwise.
 * - It trusts its dev issuer (`ISTHMUS_DEV_ISSUER=true`, keys in memory) and
 *   holds the bench's agreements (`seedBenchAgreements`), so the load speaks
 *   as their consumers, with the purpose their agreements name:
 *   - `headers`: 民政局's allowance reviewer (`BENCH_CONSUMERS.reviewer`),
 *     whose ACTIVE agreements (one per providing bureau) cover every field of
 *     `single`, `list100` and `denied-field`, mask `Person.address`, and leave
 *     `Person.householdId` (category NONE) denied;
 *   - `principals['citizen-app']`: the one-stop citizen app signed in as the
 *     sample resident, under a `SELF` agreement that masks `Person.name`.
 * Every request is therefore authenticated, planned, decided, pruned and
 * shaped, exactly as a client's would be.
 *
 * @example
 * const isthmus = await startIsthmusSystem(upstreams);
 * autocannon({ url: isthmus.url, headers: isthmus.headers, … });
 */
export async function startIsthmusSystem(upstreams: SystemUpstreams, options: StartIsthmusOptions = {}): Promise<RunningSystem> {
  const settings = catalogueSettings(upstreams);
  const store = upstreams.databaseServerUrl ? await createScratchDatabase(upstreams.databaseServerUrl, 'isthmus_bench') : undefined;
  let keysDir: string | undefined;
  let witness: BenchWitness | undefined;
  let operationsDir: string | undefined;
  const closeWitness = async () => {
    await witness?.close();
    if (keysDir) await rm(keysDir, { recursive: true, force: true });
    if (operationsDir) await rm(operationsDir, { recursive: true, force: true });
  };
  try {
    if (options.witness) {
      // The gateway's note key is made first, in a folder of this run, so the witness can be told to trust it.
      keysDir = await mkdtemp(join(tmpdir(), 'isthmus-bench-keys-'));
      const { signer } = await openLogNoteKey({ dir: keysDir, logName: DEFAULT_LOG_NAME });
      witness = await startBenchWitness({ logKey: signer.verifierKey, originPrefix: DEFAULT_LOG_NAME });
    }
    if (options.hardened) operationsDir = await writeBenchManifests();
    const gateway = await startGateway(
      loadConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        ISTHMUS_SCHEMAS_DIR: settings.schemasDir,
        ISTHMUS_DEV_ISSUER: 'true',
        // No files: the dev issuer's and the gateway's keys stay in memory, even with a PostgreSQL store.
        ISTHMUS_DATA_DIR: ':memory:',
        ...(store ? { DATABASE_URL: store.url } : {}),
        ...(options.quiet ? { LOG_LEVEL: 'silent' } : {}),
        ...(witness && keysDir ? { ISTHMUS_KEYS_DIR: keysDir, ISTHMUS_WITNESSES: `${witness.verifierKey}@${witness.url}` } : {}),
        ...(operationsDir ? { ISTHMUS_OPERATIONS_DIR: operationsDir, ISTHMUS_OPERATIONS_MODE: 'require' } : {}),
        ...settings.env,
      }),
      options.stages ? { plugins: withStages(options.stages) } : {},
    );
    // The catalogue is read once, at start: a temporary schemas copy can go.
    settings.dispose();
    try {
      await seedBenchAgreements(gateway.agreements, gateway.catalogue, new Date(), options.hardened ? { quota: HARDENED_QUOTA } : {});
      await gateway.agreementRegistry.refresh();
      const { reviewer: civilAffairs, citizenApp } = BENCH_CONSUMERS;
      const sign = (claims: DevTokenClaims) => gateway.devIssuer!.signDevToken(claims);
      const reviewer = await sign({ bureau: civilAffairs.bureau, app: civilAffairs.app, user: 'bench@civil-affairs', roles: ['developer'], scopes: [civilAffairs.scope], ttl: BENCH_TOKEN_TTL });
      const citizen = await sign({ bureau: citizenApp.bureau, app: citizenApp.app, roles: ['citizen'], citizen: sampleResident().idNumber, scopes: [citizenApp.scope], ttl: BENCH_TOKEN_TTL });
      return {
        url: `${gateway.url}/graphql`,
        headers: { authorization: `Bearer ${reviewer}`, [PURPOSE_HEADER]: civilAffairs.purpose },
        principals: { 'citizen-app': { authorization: `Bearer ${citizen}`, [PURPOSE_HEADER]: citizenApp.purpose } },
        async close() {
          await gateway.close();
          await closeWitness();
          await store?.drop();
        },
      };
    } catch (error) {
      await gateway.close();
      throw error;
    }
  } catch (error) {
    settings.dispose();
    await closeWitness();
    await store?.drop();
    throw error;
  }
}

/** The bench's documents as each consumer app's manifest (`<dir>/<bureau>/<app>.json`), in a folder of this run. */
async function writeBenchManifests(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'isthmus-bench-operations-'));
  const documents = [SINGLE_DOCUMENT, LIST_DOCUMENT, DENIED_DOCUMENT, CITIZEN_SELF_DOCUMENT];
  const manifest = JSON.stringify(Object.fromEntries(documents.map((document) => [operationHashOf(document), document])));
  for (const { bureau, app } of Object.values(BENCH_CONSUMERS)) {
    await mkdir(join(dir, bureau), { recursive: true });
    await writeFile(join(dir, bureau, `${app}.json`), manifest);
  }
  return dir;
}

/**
 * The gateway's plugins with the stages switched off left out. Without
 * enforcement there is no consumer identity to sign and no record to log.
 */
function withStages(stages: NonNullable<StartIsthmusOptions['stages']>): NonNullable<StartGatewayOptions['plugins']> {
  return ({ accessLog, enforcement, consumerIdentity, trustedOperations, cost, securityEvents, ...always }) =>
    inLifeOrder({
      ...always,
      ...(stages.accessLog !== false ? { accessLog } : {}),
      ...(stages.enforcement !== false ? { enforcement, consumerIdentity } : {}),
      ...(stages.hardening !== false ? { trustedOperations, cost, securityEvents } : {}),
    });
}
