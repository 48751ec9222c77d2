import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.js';

/**
 * A throwaway PostgreSQL on a free loopback port, in a temporary directory, run as an unprivileged
 * user (PostgreSQL refuses to run as root). Used by the tests and by `npm run demo`.
 */
export interface PostgresServer {
  host: string;
  port: number;
  superuser: string;
  superuserPassword: string;
  /** The superuser's URL on the `postgres` database. */
  url: string;
  dataDir: string;
  /** Stops the server and removes its files. */
  stop(): Promise<void>;
  /** Fast shutdown, keeping the data: for outage tests. */
  halt(): Promise<void>;
  /** Starts it again on the same port and data. */
  resume(): Promise<void>;
  /** Runs one statement (or a script) as the superuser on a connection of its own; resolves to its row count. */
  asSuperuser(sql: string, database?: string): Promise<number>;
}

function binDir(): string {
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    const versions = existsSync('/usr/lib/postgresql')
      ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))
      : [];
    if (versions[0]) return `/usr/lib/postgresql/${versions[0]}/bin`;
    throw new Error('PostgreSQL server binaries not found: install them (Debian: apt-get install postgresql)');
  }
}

/** A pinned PostgreSQL build installed by hack/install-postgres.sh. */
export interface PostgresBuild {
  major: number;
  /** The server's version, e.g. 16.14. */
  version: string;
  /** Holds bin/, lib/ and share/. */
  dir: string;
}

const INSTALL_SCRIPT = resolve(import.meta.dirname, '../../hack/install-postgres.sh');

/** A cold install downloads about 20 MB per build from npm: bound it, with room for a slow network. */
export const POSTGRES_INSTALL_TIMEOUT_MS = 5 * 60_000;

/** The majors hack/install-postgres.sh pins, oldest first (installs nothing). */
export function pinnedPostgresMajors(): number[] {
  return execFileSync(INSTALL_SCRIPT, ['--list'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => Number(line.split(' ')[0]));
}

/** The pinned build of a major, installed into the cache on first use (seconds when cached). */
export function installPostgres(major: number): PostgresBuild {
  const out = execFileSync(INSTALL_SCRIPT, [String(major)], {
    encoding: 'utf8',
    timeout: POSTGRES_INSTALL_TIMEOUT_MS - 10_000,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [printed, version, dir] = out.trim().split(' ');
  if (Number(printed) !== major || !version || !dir)
    throw new Error(`hack/install-postgres.sh ${major} printed no "<major> <version> <dir>": ${out}`);
  return { major, version, dir };
}

/**
 * The bin directory of a pinned build as `runAs` can reach it. The cache is private to its owner (under /root,
 * or a `mktemp -d`) and is not opened up: the server runs from hard links to the build inside its own
 * directory, removed with it (a copy where the two are on different filesystems).
 */
function buildBinDir(build: PostgresBuild, serverDir: string, runAs: string | undefined): string {
  if (!runAs) return join(build.dir, 'bin');
  const view = join(serverDir, 'pgsql');
  try {
    execFileSync('cp', ['-al', build.dir, view], { stdio: 'pipe' });
  } catch {
    rmSync(view, { recursive: true, force: true });
    execFileSync('cp', ['-a', build.dir, view], { stdio: 'pipe' });
  }
  return join(view, 'bin');
}

const asUser = (user: string | undefined, cmd: string, args: string[]): [string, string[]] =>
  user ? ['runuser', ['-u', user, '--', cmd, ...args]] : [cmd, args];

function initCluster(c: {
  bin: string;
  runAs: string | undefined;
  dir: string;
  dataDir: string;
  superuser: string;
  superuserPassword: string;
}): void {
  const pwfile = join(c.dir, 'pwfile');
  writeFileSync(pwfile, c.superuserPassword, { mode: 0o644 });
  const [initCmd, initArgs] = asUser(c.runAs, join(c.bin, 'initdb'), [
    `--pgdata=${c.dataDir}`,
    `--username=${c.superuser}`,
    `--pwfile=${pwfile}`,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '--encoding=UTF8',
    '--no-sync',
  ]);
  execFileSync(initCmd, initArgs, { stdio: 'pipe' });
  rmSync(pwfile);
}

export interface TlsFiles {
  cert: string;
  key: string;
}

/**
 * `reachableAt`: also listen on that address and accept password logins from `clients` (a CIDR) — for
 * Pods on a node's bridge (test/e2e). `build`: run that pinned build (installPostgres) instead of the
 * system's server (pg_config). `settings`: more `name=value` server settings, after the defaults.
 */
export async function startPostgres(
  options: {
    maxConnections?: number;
    tls?: TlsFiles;
    reachableAt?: { address: string; clients: string };
    build?: PostgresBuild;
    settings?: string[];
  } = {},
): Promise<PostgresServer> {
  const runAs = process.getuid?.() === 0 ? 'postgres' : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'dbwatch-pg-'));
  chmodSync(dir, 0o777);
  const dataDir = join(dir, 'data');
  const superuser = 'postgres';
  const superuserPassword = `pw-${Math.random().toString(36).slice(2)}`;
  let bin: string;
  try {
    bin = options.build ? buildBinDir(options.build, dir, runAs) : binDir();
    initCluster({ bin, runAs, dir, dataDir, superuser, superuserPassword });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  if (options.reachableAt) {
    appendFileSync(join(dataDir, 'pg_hba.conf'), `host all all ${options.reachableAt.clients} scram-sha-256\n`);
  }
  const port = await freePort();
  const tlsArgs: string[] = [];
  if (options.tls) {
    // PostgreSQL insists the key belongs to the server's user and is not group- or world-readable.
    for (const [source, target] of [
      [options.tls.cert, 'server.crt'],
      [options.tls.key, 'server.key'],
    ] as const) {
      writeFileSync(join(dir, target), readFileSync(source), { mode: 0o600 });
      if (runAs) execFileSync('chown', [runAs, join(dir, target)]);
    }
    tlsArgs.push(
      '-c',
      'ssl=on',
      '-c',
      `ssl_cert_file=${join(dir, 'server.crt')}`,
      '-c',
      `ssl_key_file=${join(dir, 'server.key')}`,
    );
  }
  const settings = [
    `listen_addresses=${['127.0.0.1', ...(options.reachableAt ? [options.reachableAt.address] : [])].join(',')}`,
    'fsync=off',
    'synchronous_commit=off',
    'full_page_writes=off',
    `max_connections=${options.maxConnections ?? 40}`,
    'superuser_reserved_connections=3',
    ...(options.settings ?? []),
  ];
  const [cmd, args] = asUser(runAs, join(bin, 'postgres'), [
    `-D${dataDir}`,
    `-p${port}`,
    `-k${dir}`,
    ...settings.flatMap((setting) => ['-c', setting]),
    ...tlsArgs,
  ]);
  let child: ChildProcess;
  let stderr = '';
  const launch = () => {
    child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: false });
    child.stderr?.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString()).slice(-4000);
    });
  };
  const halt = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((ok) => child.once('exit', ok));
    // SIGINT is PostgreSQL's fast shutdown; send it to the postmaster itself, not to runuser.
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(Number.isInteger(pid) && pid > 0 ? pid : child.pid!, 'SIGINT');
    await Promise.race([exited, new Promise((ok) => setTimeout(ok, 10_000).unref())]);
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  const ready = async () => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const client = new pg.Client({
        host: '127.0.0.1',
        port,
        user: superuser,
        password: superuserPassword,
        database: 'postgres',
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.end();
        return;
      } catch (error) {
        await client.end().catch(() => undefined);
        if (child.exitCode !== null || Date.now() > deadline)
          throw new Error(`PostgreSQL did not start: ${(error as Error).message}\n${stderr}`);
        await new Promise((ok) => setTimeout(ok, 200));
      }
    }
  };
  const server: PostgresServer = {
    host: '127.0.0.1',
    port,
    superuser,
    superuserPassword,
    url: `postgres://${superuser}:${encodeURIComponent(superuserPassword)}@127.0.0.1:${port}/postgres`,
    dataDir,
    halt,
    async resume() {
      launch();
      await ready();
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
    async asSuperuser(sql, database = 'postgres') {
      const client = new pg.Client({ host: '127.0.0.1', port, user: superuser, password: superuserPassword, database });
      client.on('error', () => undefined);
      await client.connect();
      try {
        const result = await client.query(sql);
        return (Array.isArray(result) ? result.at(-1)?.rowCount : result.rowCount) ?? 0;
      } finally {
        await client.end();
      }
    },
  };
  launch();
  try {
    await ready();
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}
