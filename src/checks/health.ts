import type {
  HealthResult,
  HealthStatus,
  MigrationStatus,
  PgbouncerResult,
  PoolResult,
  Thresholds,
} from '../api/index.js';
import { type ClassifiedError, type DatabaseEngine, type DatabaseInfo, PhaseError } from './engine.js';
import { round2, timed } from './timeout.js';

export interface ConnectionProbe {
  connection: boolean;
  queryTest: boolean;
  responseTimeMs?: number;
  failure?: ClassifiedError;
}

/** Connect (from the pool) and run the test query; a failure is a result, not an exception. */
export async function probeConnection(engine: DatabaseEngine, timeoutMs: number): Promise<ConnectionProbe> {
  try {
    const { ms } = await timed(() => engine.ping(timeoutMs));
    return { connection: true, queryTest: true, responseTimeMs: round2(ms) };
  } catch (error) {
    const failure = engine.classifyError(error);
    const connected = error instanceof PhaseError && error.phase === 'query';
    return { connection: connected, queryTest: false, failure };
  }
}

interface HealthInputs {
  probe: ConnectionProbe;
  database?: DatabaseInfo;
  migrationStatus?: MigrationStatus;
  pool?: PoolResult;
  pgbouncer?: PgbouncerResult;
}

/** Pure rating: unhealthy beats degraded beats healthy; every reason is listed. */
export function rateHealth(inputs: HealthInputs, thresholds: Thresholds): { status: HealthStatus; reasons: string[] } {
  const { probe, migrationStatus: m, pool } = inputs;
  const unhealthy: string[] = [];
  const degraded: string[] = [];
  if (!probe.connection) unhealthy.push(`cannot connect: ${probe.failure?.message ?? 'unknown error'}`);
  else if (!probe.queryTest) unhealthy.push(`test query failed: ${probe.failure?.message ?? 'unknown error'}`);
  if (inputs.database && inputs.database.state !== 'ONLINE')
    unhealthy.push(`database state is ${inputs.database.state}`);
  if (m && m.failedMigrations.length > 0) unhealthy.push(`failed migrations: ${m.failedMigrations.join(', ')}`);
  const bouncer = inputs.pgbouncer;
  if (bouncer?.reason === 'Paused') unhealthy.push(bouncer.recommendation);
  else if (bouncer?.poolHealth === 'high') degraded.push(`PgBouncer pools saturated: ${bouncer.recommendation}`);
  else if (bouncer?.reason === 'NotMeasured') degraded.push(`PgBouncer pools unknown: ${bouncer.error}`);
  if (probe.responseTimeMs !== undefined && probe.responseTimeMs > thresholds.responseTimeMs) {
    degraded.push(`response time ${probe.responseTimeMs} ms is over the ${thresholds.responseTimeMs} ms threshold`);
  }
  if (m && m.pendingMigrations.length > 0) {
    degraded.push(`${m.pendingMigrations.length} pending migration(s): ${m.pendingMigrations.join(', ')}`);
  }
  if (m?.error && probe.connection) degraded.push(`migration status unknown: ${m.error}`);
  if (pool?.poolHealth === 'high') {
    degraded.push(
      `connection utilization ${pool.utilizationPercent}% is at or over the ${thresholds.poolUtilizationPercent}% threshold`,
    );
  }
  if (unhealthy.length > 0) return { status: 'unhealthy', reasons: [...unhealthy, ...degraded] };
  if (degraded.length > 0) return { status: 'degraded', reasons: degraded };
  return { status: 'healthy', reasons: [] };
}

export function healthResult(inputs: HealthInputs, thresholds: Thresholds, now: Date): HealthResult {
  const { status, reasons } = rateHealth(inputs, thresholds);
  const { probe, migrationStatus } = inputs;
  return {
    status,
    connection: probe.connection,
    queryTest: probe.queryTest,
    ...(probe.responseTimeMs !== undefined ? { responseTimeMs: probe.responseTimeMs } : {}),
    ...(inputs.database ? { database: inputs.database } : {}),
    ...(migrationStatus ? { migrationStatus } : {}),
    reasons,
    timestamp: now.toISOString(),
    ...(probe.failure ? { error: probe.failure.message, errorReason: probe.failure.cause } : {}),
  };
}
