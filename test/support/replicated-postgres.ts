import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { waitFor } from './wait-for.ts';

/** The server programs a replicated pair needs. */
const PROGRAMS = ['initdb', 'pg_ctl', 'postgres', 'pg_basebackup'] as const;
/** Where Debian installs PostgreSQL's server programs, one folder per major version. */
const DEBIAN_ROOT = '/usr/lib/postgresql';
/** Bound of one server program run (initdb, a start, a base backup, a promotion): far above the seconds each takes. */
const PROGRAM_TIMEOUT_MS = 60_000;
/** Small settings for servers that hold a test's few thousand rows, on a 2-core machine shared by several suites. */
const SMALL_SERVER = ['-c', 'shared_buffers=16MB', '-c', 'max_connections=50', '-c', 'max_wal_senders=4', '-c', 'wal_level=replica', '-c', 'fsync=on'];
/** The standby's name, as the primary's `synchronous_standby_names` names it. */
const STANDBY_NAME = 'isthmus_standby';

/**
 * The folder of PostgreSQL's server programs: `ISTHMUS_PG_BIN` if set, else
 * the newest `/usr/lib/postgresql/<major>/bin` that has them all; undefined
 * when there is none (then the caller skips, or fails in CI).
 */
export function findPostgresBin(env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  const complete = (dir: string) => PROGRAMS.every((program) => existsSync(join(dir, program)));
  if (env.ISTHMUS_PG_BIN) return complete(env.ISTHMUS_PG_BIN) ? env.ISTHMUS_PG_BIN : undefined;
  if (!existsSync(DEBIAN_ROOT)) return undefined;
  const majors = readdirSync(DEBIAN_ROOT)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  return majors.map((major) => join(DEBIAN_ROOT, major, 'bin')).find(complete);
}

/** One server of the pair. */
export interface ReplicaServer {
  readonly port: number;
  /** A single-host URL of `database` on this server. */
  url(database: string): string;
}

/** A standby whose WAL receiver {@link ReplicatedPostgres.holdStandbyAcks} stopped. */
export interface HeldStandby {
  /** Lets it go on (SIGCONT): it writes and acknowledges what the primary had sent meanwhile. */
  resume(): void;
  /**
   * Kills it (SIGKILL): what the primary sent that it had not written yet,
   * still in its socket, is lost, as WAL on the wire is when the primary's
   * machine dies. The standby's postmaster restarts its processes and
   * recovers from the WAL it has; the next receiver streams again, from a
   * live primary.
   */
  drop(): void;
}

/** A primary with a synchronous standby, private to one test, on loopback ports. */
export interface ReplicatedPostgres {
  readonly primary: ReplicaServer;
  readonly standby: ReplicaServer;
  /** `postgres://…@primary,standby/<database>?target_session_attrs=read-write`: what a gateway is given. */
  multiHostUrl(database: string): string;
  /** Creates `database` on the primary (replicated to the standby like everything else). */
  createDatabase(database: string): Promise<void>;
  /**
   * Stops the primary the way a crash does: `pg_ctl stop -m immediate`, every
   * server process quits at once, no shutdown checkpoint, connections cut.
   * Resolves once the postmaster has exited.
   */
  killPrimary(): Promise<void>;
  /**
   * Stops the standby's WAL receiver (SIGSTOP) so that it acknowledges
   * nothing: the primary's commits then wait (`SyncRep`) with their WAL
   * written locally but not on the standby.
   */
  holdStandbyAcks(): Promise<HeldStandby>;
  /** Commits on the primary waiting for the standby's acknowledgement. */
  waitingCommits(): Promise<number>;
  /** `pg_ctl promote` on the standby; resolves once it accepts writes. */
  promoteStandby(): Promise<void>;
  /** Stops both servers (if still running) and removes their folders. */
  close(): Promise<void>;
}

/**
 * Starts a primary and a standby that streams from it and is named in the
 * primary's `synchronous_standby_names`, with `synchronous_commit=on`: a
 * commit returns only once the standby has flushed its WAL, so whatever the
 * primary acknowledged is on the standby too. Both listen on 127.0.0.1 on
 * free ports; trust authentication on loopback; the folders are in a temp
 * dir. Run as root (as the tests and CI are), the servers run as the
 * `postgres` OS user, since `initdb` refuses root.
 *
 * The synchronous setting is written to the primary only, after the base
 * backup (`ALTER SYSTEM`): a promoted standby that inherited it would wait,
 * forever, for a standby of its own.
 *
 * @example
 * const pair = await startReplicatedPostgres(findPostgresBin()!);
 * await pair.killPrimary();
 * await pair.promoteStandby();
 * await pair.close();
 */
export async function startReplicatedPostgres(bin: string): Promise<ReplicatedPostgres> {
  const root = mkdtempSync(join(tmpdir(), 'isthmus-replicated-pg-'));
  const owner = process.getuid?.() === 0 ? await postgresUser() : undefined;
  if (owner) chownSync(root, owner.uid, owner.gid);
  const primaryDir = join(root, 'primary');
  const standbyDir = join(root, 'standby');
  const running = new Set<string>();
  /** WAL receivers stopped by holdStandbyAcks, let go again on close so that the standby can stop. */
  const held = new Set<number>();
  const release = () => {
    for (const pid of held) signal(pid, 'SIGCONT');
    held.clear();
  };
  const run = (program: (typeof PROGRAMS)[number], args: readonly string[]) => runAs(owner, join(bin, program), args, root);
  /** Starts the server of `dir` on a free port and returns the port; a port taken meanwhile by another process is replaced, twice at most. */
  const start = async (dir: string): Promise<number> => {
    for (let attempt = 1; ; attempt += 1) {
      const port = await freePort();
      const options = [...SMALL_SERVER, '-c', `port=${port}`, '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${root}`].join(' ');
      try {
        await run('pg_ctl', ['-D', dir, '-l', `${dir}.log`, '-w', '-t', '60', '-o', options, 'start']);
        running.add(dir);
        return port;
      } catch (error) {
        const log = logTail(`${dir}.log`);
        if (attempt < 3 && /could not bind|already in use/i.test(log)) continue;
        throw new Error(`${(error as Error).message}\n${log}`, { cause: error });
      }
    }
  };
  const stop = async (dir: string) => {
    if (!running.delete(dir)) return;
    await run('pg_ctl', ['-D', dir, '-w', '-t', '60', '-m', 'immediate', 'stop']);
  };
  const server = (port: number): ReplicaServer => ({ port, url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}` });

  try {
    // The default pg_hba.conf of `--auth=trust` lets loopback connect, replication included.
    await run('initdb', ['-D', primaryDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-instructions']);
    const primaryPort = await start(primaryDir);
    const primary = server(primaryPort);
    await run('pg_basebackup', ['-d', `host=127.0.0.1 port=${primaryPort} user=postgres application_name=${STANDBY_NAME}`, '-D', standbyDir, '-R', '-X', 'stream', '--checkpoint=fast']);
    const standbyPort = await start(standbyDir);
    const standby = server(standbyPort);
    await onServer(primary, async (client) => {
      await client.query(`alter system set synchronous_standby_names = '${STANDBY_NAME}'`);
      await client.query('alter system set synchronous_commit = on');
      await client.query('select pg_reload_conf()');
      await waitFor(
        async () => (await client.query<{ n: number }>("select count(*)::int as n from pg_stat_replication where sync_state = 'sync' and state = 'streaming'")).rows[0]!.n === 1,
        { what: 'the standby streams synchronously' },
      );
    });

    return {
      primary,
      standby,
      multiHostUrl: (database) => `postgres://postgres@127.0.0.1:${primaryPort},127.0.0.1:${standbyPort}/${database}?target_session_attrs=read-write`,
      createDatabase: (database) => onServer(primary, (client) => client.query(`create database ${pg.escapeIdentifier(database)}`).then(() => undefined)),
      killPrimary: () => stop(primaryDir),
      async holdStandbyAcks() {
        const pid = await onServer(standby, async (client) => (await client.query<{ pid: number }>('select pid from pg_stat_wal_receiver')).rows[0]?.pid);
        if (!pid) throw new Error('the standby has no WAL receiver');
        signal(pid, 'SIGSTOP');
        held.add(pid);
        const letGo = (name: NodeJS.Signals) => {
          if (held.delete(pid)) signal(pid, name);
        };
        return { resume: () => letGo('SIGCONT'), drop: () => letGo('SIGKILL') };
      },
      waitingCommits: () => onServer(primary, async (client) => (await client.query<{ n: number }>("select count(*)::int as n from pg_stat_activity where wait_event = 'SyncRep'")).rows[0]!.n),
      async promoteStandby() {
        await run('pg_ctl', ['-D', standbyDir, '-w', '-t', '60', 'promote']);
        await onServer(standby, (client) => waitFor(async () => (await client.query<{ r: boolean }>('select pg_is_in_recovery() as r')).rows[0]!.r === false, { what: 'the standby leaves recovery' }));
      },
      async close() {
        release();
        await Promise.allSettled([stop(standbyDir), stop(primaryDir)]);
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.allSettled([stop(standbyDir), stop(primaryDir)]);
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
}

async function onServer<T>(server: ReplicaServer, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: server.url('postgres'), connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The `postgres` OS user's ids (Debian's PostgreSQL packages create it). */
async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([execText('id', ['-u', 'postgres']), execText('id', ['-g', 'postgres'])]);
  return { uid: Number(uid), gid: Number(gid) };
}

/** Runs a server program, as `owner` when given, with a bounded time and no inherited PG* settings. */
function runAs(owner: { uid: number; gid: number } | undefined, file: string, args: readonly string[], cwd: string): Promise<string> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PG')));
  return execText(file, args, { cwd, env: { ...env, LC_ALL: 'C' }, ...(owner && { uid: owner.uid, gid: owner.gid }) });
}

function execText(file: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; uid?: number; gid?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...options, timeout: PROGRAM_TIMEOUT_MS, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${stderr.trim() || error.message}`, { cause: error }));
      else resolve(stdout.trim());
    });
  });
}

/** A port free on 127.0.0.1 now (the kernel's choice); a server started right after takes it. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no free port');
  return address.port;
}

/** The last lines of a server's log, for a failure message. */
function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-15).join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}

/** Sends `name` to `pid`; a process that has exited meanwhile (the server stopped) needs nothing. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
