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
import { join } from 'node:path';
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

const asUser = (user: string | undefined, cmd: string, args: string[]): [string, string[]] =>
  user ? ['runuser', ['-u', user, '--', cmd, ...args]] : [cmd, args];

export interface TlsFiles {
  cert: string;
  key: string;
}

/**
 * `reachableAt`: also listen on that address and accept password logins from `clients` (a CIDR) — for
 * Pods on a node's bridge (test/e2e).
 */
export async function startPostgres(
  options: { maxConnections?: number; tls?: TlsFiles; reachableAt?: { address: string; clients: string } } = {},
): Promise<PostgresServer> {
  const bin = binDir();
  const runAs = process.getuid?.() === 0 ? 'postgres' : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'dbwatch-pg-'));
  chmodSync(dir, 0o777);
  const dataDir = join(dir, 'data');
  const superuser = 'postgres';
  const superuserPassword = `pw-${Math.random().toString(36).slice(2)}`;
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, superuserPassword, { mode: 0o644 });
  const [initCmd, initArgs] = asUser(runAs, join(bin, 'initdb'), [
    `--pgdata=${dataDir}`,
    `--username=${superuser}`,
    `--pwfile=${pwfile}`,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '--encoding=UTF8',
    '--no-sync',
  ]);
  execFileSync(initCmd, initArgs, { stdio: 'pipe' });
  rmSync(pwfile);
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
