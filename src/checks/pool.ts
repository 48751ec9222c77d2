import type { PoolResult, ServerConnections } from '../api/index.js';
import type { ClientPoolStats, DatabaseEngine } from './engine.js';

export const OPTIMAL_BELOW_PERCENT = 50;

export function poolHealthFor(percent: number, thresholdPercent: number): PoolResult['poolHealth'] {
  if (percent >= thresholdPercent) return 'high';
  return percent < OPTIMAL_BELOW_PERCENT ? 'optimal' : 'moderate';
}

/** Pure: server-side utilization and dbwatch's own pool → the pool result of the original design. */
export function assessPool(
  server: ServerConnections | undefined,
  client: ClientPoolStats,
  thresholdPercent: number,
  error?: string,
): PoolResult {
  const base = {
    poolSize: client.size,
    checkedOut: client.checkedOut,
    waiting: client.waiting,
  };
  if (!server) {
    return {
      ...base,
      recommendation: `Server connection figures unavailable${error ? `: ${error}` : ''}`,
      overflowAnalysis: overflowOfClient(client),
      ...(error ? { error } : {}),
    };
  }
  const percent = server.utilizationPercent;
  const health = poolHealthFor(percent, thresholdPercent);
  const recommendations: string[] = [];
  if (health === 'high') {
    recommendations.push(
      `${server.total} of ${server.maxUsable} usable connections are open: put a pooler (PgBouncer) in front, lower application pool sizes, or raise max_connections`,
    );
  } else if (health === 'moderate') {
    recommendations.push('Utilization is moderate: watch the trend before it reaches the threshold');
  } else {
    recommendations.push('Pool utilization is healthy');
  }
  if (server.idleInTransaction > 0) {
    recommendations.push(
      `${server.idleInTransaction} session(s) idle in transaction hold connections and locks: find and fix the client`,
    );
  }
  if (server.visibility === 'partial') {
    recommendations.push(
      "The monitoring login cannot see other sessions' state: grant it pg_monitor (PostgreSQL) or VIEW SERVER STATE (SQL Server) for a full breakdown",
    );
  }
  return {
    ...base,
    server,
    utilizationPercent: percent,
    poolHealth: health,
    recommendation: recommendations.join('; '),
    overflowAnalysis: `${server.total} of ${server.maxUsable} usable server connections in use (${server.active} active, ${server.idle} idle, ${server.idleInTransaction} idle in transaction${server.visibility === 'partial' ? `, ${server.other} not visible to this login` : ''}); ${overflowOfClient(client)}`,
  };
}

function overflowOfClient(client: ClientPoolStats): string {
  return client.waiting > 0
    ? `${client.waiting} request(s) waiting for one of dbwatch's ${client.size} pooled connections`
    : 'No overflow: no requests waiting for a pooled connection';
}

export async function checkPool(
  engine: DatabaseEngine,
  thresholdPercent: number,
  timeoutMs: number,
  describeError: (e: unknown) => string,
): Promise<PoolResult> {
  try {
    const server = await engine.serverConnections(timeoutMs);
    return assessPool(server, engine.poolStats(), thresholdPercent);
  } catch (error) {
    return assessPool(undefined, engine.poolStats(), thresholdPercent, describeError(error));
  }
}
