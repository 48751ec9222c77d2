import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PostgresServer } from '../../test/support/postgres-server.js';

/*
 * The database's own view of what the operator did: PostgreSQL logs every statement and every login with a
 * millisecond timestamp, and the benchmark counts them. It sees both operator processes across a restart
 * (a process's counters start again at zero, and the last checks of a process that is stopping are never
 * scraped) and counts what reached the server, whatever the operator believes it ran.
 */

/** Server settings (at start): a log file in dataDir/log with UTC millisecond timestamps; nothing logged yet. */
export const LOG_FILE_SETTINGS = [
  'logging_collector=on',
  'log_directory=log',
  'log_filename=postgresql.log',
  'log_rotation_age=0',
  'log_rotation_size=0',
  'log_timezone=UTC',
  'log_line_prefix=%m %c ',
];

/** Every check reads the server version once, on its warm session (before and after issue 21/25's redesign). */
const CHECK_STATEMENT = "SELECT current_setting('server_version') AS version, pg_is_in_recovery() AS in_recovery";
const DBWATCH_LOGIN = /connection authorized: .*application_name=dbwatch/;
const PREFIX = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) UTC /;

/** Turns statement and login logging on or off (a reload; sessions pick it up at their next statement). */
export async function logStatements(pg: PostgresServer, on: boolean): Promise<void> {
  await pg.asSuperuser(`ALTER SYSTEM SET log_statement = '${on ? 'all' : 'none'}'`);
  await pg.asSuperuser(`ALTER SYSTEM SET log_connections = ${on ? 'on' : 'off'}`);
  await pg.asSuperuser('SELECT pg_reload_conf()');
}

/** Times (epoch ms) of the operator's checks and logins that the server logged. */
export function loggedActivity(pg: PostgresServer): { checks: number[]; logins: number[] } {
  const checks: number[] = [];
  const logins: number[] = [];
  let at = 0;
  // A statement of several lines continues on lines without the prefix: they belong to the last prefix.
  for (const line of readFileSync(join(pg.dataDir, 'log/postgresql.log'), 'utf8').split('\n')) {
    const prefix = PREFIX.exec(line);
    if (prefix) at = Date.parse(`${prefix[1]}T${prefix[2]}Z`);
    if (line.includes(CHECK_STATEMENT)) checks.push(at);
    else if (DBWATCH_LOGIN.test(line)) logins.push(at);
  }
  return { checks, logins };
}

/** How many of `times` fall in [from, to). */
export const countIn = (times: number[], from: number, to: number) =>
  times.reduce((n, t) => n + (t >= from && t < to ? 1 : 0), 0);

/** The largest count of `times` in any bin of `binMs` from `from` up to `to`. */
export function peakBin(times: number[], from: number, to: number, binMs: number): number {
  let peak = 0;
  for (let start = from; start < to; start += binMs) peak = Math.max(peak, countIn(times, start, start + binMs));
  return peak;
}
