import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.js';

export type PoolMode = 'session' | 'transaction' | 'statement';

/**
 * A real PgBouncer (Debian's) on a free loopback port in front of the test PostgreSQL, run as an unprivileged
 * user. Every database name is forwarded (`* =`); logins come from an auth_file the test adds users to
 * (scram-sha-256, so PgBouncer logs into PostgreSQL with the same password). `admin` is in admin_users,
 * `stats` in stats_users.
 */
export interface PgBouncer {
  host: string;
  port: number;
  mode: PoolMode;
  admin: { username: string; password: string };
  stats: { username: string; password: string };
  logFile: string;
  /** Lets a login through PgBouncer (appends it to the auth_file and reloads): a password or a SCRAM secret. */
  addUser(username: string, password: string): Promise<void>;
  /** Runs an admin console command (SHOW POOLS, PAUSE db, RESUME db, RELOAD …) as the admin user. */
  console<R extends pg.QueryResultRow = pg.QueryResultRow>(command: string): Promise<R[]>;
  /** SIGKILL: the pooler dies with its connections. */
  kill(): Promise<void>;
  /** Starts it again on the same port and configuration. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  server: { host: string; port: number };
  mode: PoolMode;
  defaultPoolSize?: number;
  maxClientConn?: number;
  /** Extra pgbouncer.ini [pgbouncer] lines, e.g. "query_wait_timeout = 2". */
  settings?: string[];
}

const BINARY = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].find(existsSync) ?? 'pgbouncer';
const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;

export async function startPgBouncer(options: PgBouncerOptions): Promise<PgBouncer> {
  const runAs = process.getuid?.() === 0 ? 'postgres' : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'dbwatch-pgbouncer-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const secret = () => `pgb-${Math.random().toString(36).slice(2)}`;
  const admin = { username: 'pgb_admin', password: secret() };
  const stats = { username: 'pgb_stats', password: secret() };
  const authFile = join(dir, 'users.txt');
  const logFile = join(dir, 'pgbouncer.log');
  writeFileSync(authFile, [admin, stats].map((u) => `${quote(u.username)} ${quote(u.password)}\n`).join(''), {
    mode: 0o644,
  });
  const ini = join(dir, 'pgbouncer.ini');
  writeFileSync(
    ini,
    [
      '[databases]',
      `* = host=${options.server.host} port=${options.server.port}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      `auth_file = ${authFile}`,
      'auth_type = scram-sha-256',
      `admin_users = ${admin.username}`,
      `stats_users = ${stats.username}`,
      `pool_mode = ${options.mode}`,
      `default_pool_size = ${options.defaultPoolSize ?? 10}`,
      `max_client_conn = ${options.maxClientConn ?? 100}`,
      `logfile = ${logFile}`,
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
      'server_login_retry = 1',
      ...(options.settings ?? []),
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  // runuser resets the soft open-files limit to 1024: raise it to the hard limit, or PgBouncer holds ~1,000 clients.
  const raised = ['sh', '-c', 'ulimit -n "$(ulimit -Hn)" && exec "$0" "$@"', BINARY, ini];
  const [cmd, args] = runAs ? ['runuser', ['-u', runAs, '--', ...raised]] : [raised[0]!, raised.slice(1)];
  let child: ChildProcess;
  let stderr = '';
  const launch = () => {
    child = spawn(cmd, args as string[], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString()).slice(-4000);
    });
  };
  const connectAdmin = async () => {
    const client = new pg.Client({
      host: '127.0.0.1',
      port,
      user: admin.username,
      password: admin.password,
      database: 'pgbouncer',
    });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };
  const consoleCommand = async <R extends pg.QueryResultRow>(command: string): Promise<R[]> => {
    const client = await connectAdmin();
    try {
      return (await client.query<R>(command)).rows;
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  const ready = async () => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await consoleCommand('SHOW VERSION');
        return;
      } catch (error) {
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`PgBouncer did not start: ${(error as Error).message}\n${stderr}`);
        }
        await new Promise((ok) => setTimeout(ok, 100));
      }
    }
  };
  // Signals go to pgbouncer itself (its pid file), not to runuser, which cannot pass on a SIGKILL.
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((ok) => child.once('exit', ok));
    let pid = child.pid!;
    try {
      pid = Number(readFileSync(join(dir, 'pgbouncer.pid'), 'utf8').trim()) || pid;
    } catch {}
    process.kill(pid, sig);
    await Promise.race([exited, new Promise((ok) => setTimeout(ok, 5000).unref())]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const bouncer: PgBouncer = {
    host: '127.0.0.1',
    port,
    mode: options.mode,
    admin,
    stats,
    logFile,
    async addUser(username, password) {
      appendFileSync(authFile, `${quote(username)} ${quote(password)}\n`);
      await consoleCommand('RELOAD');
    },
    console: consoleCommand,
    async kill() {
      await signal('SIGKILL');
    },
    async restart() {
      launch();
      await ready();
    },
    async stop() {
      await signal('SIGINT');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  launch();
  try {
    await ready();
  } catch (error) {
    await bouncer.stop();
    throw error;
  }
  return bouncer;
}

/**
 * The role's SCRAM secret (`SCRAM-SHA-256$4096:…`) from pg_authid, for an auth_file: PgBouncer then checks a login
 * without deriving the key (PBKDF2) again, and logs into PostgreSQL with the client's proof.
 */
export async function scramSecretOf(superuserUrl: string, role: string): Promise<string> {
  const client = new pg.Client({ connectionString: superuserUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ rolpassword: string | null }>(
      'SELECT rolpassword FROM pg_authid WHERE rolname = $1',
      [role],
    );
    const secret = rows[0]?.rolpassword;
    if (!secret?.startsWith('SCRAM-SHA-256$')) throw new Error(`role ${role} has no SCRAM secret`);
    return secret;
  } finally {
    await client.end();
  }
}
