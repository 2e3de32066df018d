import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'pg';

/**
 * A throwaway PostgreSQL for the tests: a server started from the installed binaries in a temp
 * folder, listening on a Unix socket only (no TCP port, so nothing but this machine can reach it),
 * with fsync off (its data dies with the test run anyway). KANBAN_TEST_POSTGRES_URL names a server
 * to use instead. Without either, the PostgreSQL tests skip on a developer's machine and fail under
 * CI=true (`.ci/run` installs Debian's `postgresql` package where it is missing).
 */
export interface TestPostgres {
  /** A connection string node-postgres takes (the socket's folder as host), to the `postgres` database. */
  url: string;
  /** The TCP port, when the server was asked to listen on TCP too (`tcp`); the socket's folder is still `url`'s host. */
  port?: number;
  stop(): void;
}

export interface StartOptions {
  /**
   * Listen on TCP too, on these addresses and this port, accepting (without a password) clients from
   * these networks (CIDR): the multi-host chaos run's hosts, in network namespaces of their own, reach
   * the server over a veth. Without it (the default) the server listens on its Unix socket only.
   */
  tcp?: { addresses: string[]; port: number; clients: string[] };
}

/** The folder holding initdb and pg_ctl: pg_config's, else the newest under /usr/lib/postgresql. */
export function postgresBinaries(): string | null {
  const candidates: string[] = [];
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // no pg_config: look where Debian puts the server
  }
  try {
    const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch {
    // no server installed there
  }
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) ?? null;
}

/** Why the PostgreSQL tests cannot run here, or null when they can. */
export function postgresUnavailable(): string | null {
  if (process.env.KANBAN_TEST_POSTGRES_URL) return null;
  if (postgresBinaries() === null) return 'no PostgreSQL server binaries (initdb, pg_ctl) and no KANBAN_TEST_POSTGRES_URL';
  if (userInfo().uid === 0 && spawnSync('id', ['postgres'], { stdio: 'ignore' }).status !== 0) return 'running as root and there is no postgres user for initdb';
  return null;
}

/**
 * Starts a server (or hands the one KANBAN_TEST_POSTGRES_URL names). initdb refuses to run as root,
 * so as root the server runs as the `postgres` user, through runuser, in a folder it owns.
 */
export function startPostgres(start: StartOptions = {}): TestPostgres {
  const given = process.env.KANBAN_TEST_POSTGRES_URL;
  if (given) return { url: given, stop: () => {} };
  const why = postgresUnavailable();
  if (why) throw new Error(`cannot start PostgreSQL: ${why}`);
  const bin = postgresBinaries()!;
  const dir = mkdtempSync(join(tmpdir(), 'kanban-pg-'));
  const data = join(dir, 'data');
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  const run = (program: string, args: string[]) => {
    const argv = asRoot ? ['runuser', '-u', 'postgres', '--', join(bin, program), ...args] : [join(bin, program), ...args];
    const result = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) throw new Error(`${program} failed (${result.status ?? result.signal ?? result.error?.message}): ${(result.stderr || result.stdout || '').trim().slice(-2000)}`);
  };
  const listen = start.tcp ? `listen_addresses='${start.tcp.addresses.join(',')}'` : "listen_addresses=''";
  const port = start.tcp ? ['-p', String(start.tcp.port)] : [];
  const options = ['-k', dir, ...port, '-c', listen, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'].join(' ');
  try {
    run('initdb', ['-D', data, '--no-sync', '-A', 'trust', '-U', 'kanban', '-E', 'UTF8', '--no-locale']);
    if (start.tcp) appendFileSync(join(data, 'pg_hba.conf'), start.tcp.clients.map((cidr) => `host all all ${cidr} trust\n`).join(''));
    run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-o', options, '-w', '-t', '60', 'start']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `postgresql://kanban@/postgres?host=${encodeURIComponent(dir)}${start.tcp ? `&port=${start.tcp.port}` : ''}`,
    ...(start.tcp && { port: start.tcp.port }),
    stop: () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * A new, empty database on the run's server (test/postgres/global-setup.ts), for one test file:
 * its connection string. Null when there is no server: the caller skips (or fails, under CI=true).
 */
export async function freshDatabase(serverUrl: string, label: string): Promise<string> {
  const name = `${label}_${process.pid}_${++databases}`.replace(/[^a-z0-9_]/gi, '_').toLowerCase();
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  return withDatabase(serverUrl, name);
}

/**
 * `body` on a connection of its own to `url`, closed after it whatever happens: the tests', the
 * bench's and the chaos harness's administration (CREATE and DROP DATABASE, a template's migration).
 * pg is loaded here, so a SQLite-only run of the chaos harness never loads it.
 */
export async function withClient<T>(url: string, body: (client: Client) => Promise<T>): Promise<T> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

let databases = 0;

/** `url` with its database replaced by `database` (works for a Unix-socket URL, whose host is empty). */
export function withDatabase(url: string, database: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^/]*\/)[^?]*/, `$1${database}`);
}
