import { type PgbouncerCheck, type PgbouncerPool, PgbouncerReason, type PgbouncerResult } from '../api/index.js';
import type { ConnectionConfig } from './engine.js';
import { type PgbouncerConsoleData, readPgbouncerConsole } from './engines/pgbouncer-console.js';
import { OPTIMAL_BELOW_PERCENT } from './pool.js';
import { round2 } from './timeout.js';

/*
 * The original design's connection pool monitoring, for the pool that exists when applications reach the
 * database through PgBouncer: its pools per database and user (SHOW POOLS), their sizes (SHOW DATABASES,
 * default_pool_size) and its client limit (max_client_conn against SHOW LISTS used_clients).
 */

const num = (value: unknown) => {
  const n = Number(value);
  return Number.isFinite(n) ? n : 0;
};

/** The pool size PgBouncer applies to a database: its own pool_size, else default_pool_size. */
function poolSizeOf(data: PgbouncerConsoleData, database: string): number | undefined {
  const row = data.databases.find((d) => d.name === database);
  const own = row ? num(row.pool_size) : 0;
  if (own > 0) return own;
  const fallback = num(data.config.get('default_pool_size'));
  return fallback > 0 ? fallback : undefined;
}

function poolOf(data: PgbouncerConsoleData, row: Record<string, unknown>): PgbouncerPool {
  const database = String(row.database);
  const size = poolSizeOf(data, database);
  const serversActive = num(row.sv_active);
  const paused = data.databases.find((d) => d.name === database)?.paused;
  return {
    database,
    user: String(row.user),
    poolMode: String(row.pool_mode ?? data.config.get('pool_mode') ?? 'session'),
    clientsActive: num(row.cl_active),
    clientsWaiting: num(row.cl_waiting),
    serversActive,
    serversIdle: num(row.sv_idle),
    serversUsed: num(row.sv_used),
    serversOther: num(row.sv_tested) + num(row.sv_login),
    poolSize: size,
    maxWaitMs: round2(num(row.maxwait) * 1000 + num(row.maxwait_us) / 1000),
    utilizationPercent: size ? round2((serversActive / size) * 100) : undefined,
    paused: num(paused) > 0,
  };
}

/** Pure: the console's figures → the pools result, worst cause first. */
export function assessPgbouncer(
  data: PgbouncerConsoleData,
  wanted: string[],
  thresholdPercent: number,
): PgbouncerResult {
  const all = wanted.includes('*');
  const pools = data.pools
    .filter((p) => String(p.database) !== 'pgbouncer' && (all || wanted.includes(String(p.database))))
    .map((p) => poolOf(data, p));
  const clients = data.lists.get('used_clients');
  const maxClients = num(data.config.get('max_client_conn')) || undefined;
  const clientPercent = clients !== undefined && maxClients ? (clients / maxClients) * 100 : 0;
  const waiting = pools.reduce((sum, p) => sum + p.clientsWaiting, 0);
  const utilization = pools.reduce<number | undefined>(
    (max, p) => (p.utilizationPercent === undefined ? max : Math.max(max ?? 0, p.utilizationPercent)),
    undefined,
  );
  const base = {
    ...(data.version ? { version: data.version } : {}),
    pools,
    ...(clients !== undefined ? { clientConnections: clients } : {}),
    ...(maxClients !== undefined ? { maxClientConnections: maxClients } : {}),
    clientsWaiting: waiting,
    ...(utilization !== undefined ? { utilizationPercent: utilization } : {}),
  };
  const high = (reason: PgbouncerResult['reason'], recommendation: string): PgbouncerResult => ({
    ...base,
    poolHealth: 'high',
    reason,
    recommendation,
  });
  // From SHOW DATABASES, not the pools: a database paused before any client came has no pool yet.
  const paused = data.databases
    .filter((d) => num(d.paused) > 0 && d.name !== 'pgbouncer' && (all || wanted.includes(String(d.name))))
    .map((d) => String(d.name));
  if (paused.length > 0) {
    return high(
      PgbouncerReason.Paused,
      `PgBouncer database ${names(paused)} is paused (PAUSE): its clients wait until RESUME`,
    );
  }
  const queued = pools.filter((p) => p.clientsWaiting > 0);
  if (queued.length > 0) {
    const worst = queued.reduce((a, b) => (b.maxWaitMs > a.maxWaitMs ? b : a));
    return high(
      PgbouncerReason.ClientsWaiting,
      `${waiting} client(s) wait for a server connection (longest ${worst.maxWaitMs} ms in pool ${worst.database}/${worst.user}, pool size ${worst.poolSize ?? 'unknown'}): raise default_pool_size or the database's pool_size (and PostgreSQL's max_connections to match), or find the long transactions holding the servers`,
    );
  }
  if (utilization !== undefined && utilization >= thresholdPercent) {
    return high(
      PgbouncerReason.UtilizationHigh,
      `A pool uses ${utilization}% of its server connections: raise its pool_size before clients start to wait`,
    );
  }
  if (maxClients !== undefined && clientPercent >= thresholdPercent) {
    return high(
      PgbouncerReason.ClientLimitNear,
      `${clients} of max_client_conn ${maxClients} client connections are open: raise max_client_conn or lower application pool sizes`,
    );
  }
  if (pools.length === 0) {
    return {
      ...base,
      poolHealth: 'optimal',
      reason: PgbouncerReason.NoPools,
      recommendation: `PgBouncer has no pool for ${all ? 'any database' : names(wanted)} yet (no client has connected through it)`,
    };
  }
  const percent = Math.max(utilization ?? 0, clientPercent);
  return {
    ...base,
    poolHealth: percent < OPTIMAL_BELOW_PERCENT ? 'optimal' : 'moderate',
    reason: PgbouncerReason.WithinLimits,
    recommendation:
      percent < OPTIMAL_BELOW_PERCENT
        ? 'PgBouncer pools are within limits: no client waits'
        : 'PgBouncer pools are moderately used: watch the trend before clients start to wait',
  };
}

const names = (list: string[]) => [...new Set(list)].join(', ');

export function pgbouncerNotMeasured(error: string): PgbouncerResult {
  return {
    pools: [],
    clientsWaiting: 0,
    reason: PgbouncerReason.NotMeasured,
    recommendation: `PgBouncer's pools could not be read: ${error}; the login needs to be in stats_users (or admin_users) of pgbouncer.ini`,
    error,
  };
}

/** Reads and assesses PgBouncer's pools; a failure is a result, never an exception. */
export async function checkPgbouncer(
  console: ConnectionConfig,
  check: PgbouncerCheck,
  monitoredDatabase: string,
  thresholdPercent: number,
  timeoutMs: number,
  describeError: (e: unknown) => string,
): Promise<PgbouncerResult> {
  try {
    const data = await readPgbouncerConsole(console, timeoutMs);
    return assessPgbouncer(data, check.databases ?? [monitoredDatabase], thresholdPercent);
  } catch (error) {
    return pgbouncerNotMeasured(describeError(error));
  }
}
