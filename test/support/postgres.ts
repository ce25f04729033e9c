// A real PostgreSQL 15 for the tests that need one (metadata on PostgreSQL): Debian's `postgresql`
// package, a cluster made by initdb in a temp dir, listening on 127.0.0.1 only with trust auth, run as
// the `postgres` user when the tests run as root (PostgreSQL refuses root). One cluster per test
// process (sharedPostgres), a fresh database per harness; or, with LADING_TEST_POSTGRES_URL set (a
// superuser URL of a cluster .ci/run started), databases in that one.
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';

export const POSTGRES_BIN_DIR = process.env.LADING_TEST_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';

const START_TIMEOUT_MS = 60_000;

/** Why PostgreSQL cannot be used here, or undefined when it can. Under CI=true a test must not skip for it. */
export function postgresMissing(): string | undefined {
  if (process.env.LADING_TEST_POSTGRES_URL) return undefined;
  for (const bin of ['initdb', 'pg_ctl', 'postgres']) {
    if (!existsSync(path.join(POSTGRES_BIN_DIR, bin))) {
      return `PostgreSQL 15 is not installed (${path.join(POSTGRES_BIN_DIR, bin)} missing; Debian: apt-get install postgresql)`;
    }
  }
  return undefined;
}

/** The skip reason for node:test, or false: never a skip when CI=true, where PostgreSQL must be there. */
export function skipWithoutPostgres(): string | false {
  const missing = postgresMissing();
  if (missing && process.env.CI === 'true') throw new Error(`CI=true and ${missing}`);
  return missing ?? false;
}

export interface PostgresCluster {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/<database>`. */
  url(database?: string): string;
  /** A new empty database, named `lading_<n>`; its URL. */
  createDatabase(): Promise<string>;
  /** `pg_ctl stop -m fast`: the database unreachable, as in an outage. */
  stop(): Promise<void>;
  /** `pg_ctl start` again, on the same port and data. */
  start(): Promise<void>;
  /** Stops and removes the cluster. */
  remove(): Promise<void>;
}

/** The uid and gid to run PostgreSQL as: the `postgres` user when we are root, else ourselves. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error('running as root and there is no postgres user to run PostgreSQL as');
  return { uid: Number(uid), gid: Number(gid) };
}

function exec(bin: string, args: readonly string[], user: { uid: number; gid: number } | undefined): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const options: SpawnOptions = { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C.UTF-8' }, cwd: '/', ...user };
    const child = spawn(path.join(POSTGRES_BIN_DIR, bin), args, options);
    let output = '';
    child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** A port the kernel gave nobody right now (PostgreSQL may still lose it to a race: startPostgres tries again). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

let databases = 0;

/** Starts a cluster of its own: initdb (~1 s), then pg_ctl start. */
export async function startPostgres(): Promise<PostgresCluster> {
  const missing = postgresMissing();
  if (missing) throw new Error(missing);
  const user = runAs();
  // Not paths.ts's tempDir: its exit handler would remove the data under a running server.
  const dir = mkdtempSync(path.join(tmpdir(), 'lading-pg-'));
  const data = path.join(dir, 'data');
  if (user) chownSync(dir, user.uid, user.gid);
  const init = await exec('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'], user);
  if (init.code !== 0) throw new Error(`initdb failed: ${init.output}`);
  // Loopback TCP only, and the socket in the cluster's own directory, not /var/run/postgresql.
  writeFileSync(path.join(data, 'pg_hba.conf'), 'host all all 127.0.0.1/32 trust\n');
  const logFile = path.join(dir, 'postgres.log');
  let port = 0;
  const ctl = (args: string[]) => exec('pg_ctl', ['-D', data, '-w', '-t', '60', ...args], user);
  const start = async (): Promise<void> => {
    const options = `-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories=${dir} -c fsync=off -c full_page_writes=off -c max_connections=200`;
    const res = await ctl(['-l', logFile, '-o', options, 'start']);
    if (res.code !== 0) {
      let log = '';
      try {
        log = readFileSync(logFile, 'utf8').slice(-2000);
      } catch {
        // No log written.
      }
      throw new Error(`pg_ctl start failed: ${res.output}\n${log}`);
    }
  };
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await start();
      break;
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
  let running = true;
  const stopSync = (): void => {
    if (running) spawnSync(path.join(POSTGRES_BIN_DIR, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop'], { stdio: 'ignore', ...user });
    running = false;
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stopSync);
  const cluster: PostgresCluster = {
    port,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    createDatabase: () => createDatabase(cluster.url()),
    async stop() {
      const res = await ctl(['-m', 'fast', 'stop']);
      if (res.code !== 0) throw new Error(`pg_ctl stop failed: ${res.output}`);
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async remove() {
      if (running) await ctl(['-m', 'fast', 'stop']);
      running = false;
      process.off('exit', stopSync);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** CREATE DATABASE with the `postgres` client the daemon uses (no psql needed). */
async function createDatabase(adminUrl: string): Promise<string> {
  const name = `lading_${process.pid}_${++databases}`;
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await sql.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

let shared: Promise<PostgresCluster> | undefined;

/**
 * The test process's cluster, started once (or the one LADING_TEST_POSTGRES_URL names) and removed
 * when the process exits. Tests that stop it (outages) start their own with startPostgres instead.
 */
export function sharedPostgres(): Promise<{ createDatabase(): Promise<string> }> {
  const given = process.env.LADING_TEST_POSTGRES_URL;
  if (given) return Promise.resolve({ createDatabase: () => createDatabase(given) });
  shared ??= startPostgres();
  return shared;
}
