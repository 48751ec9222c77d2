import type {
  HealthResult,
  HealthStatus,
  LoginResult,
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

/** A fresh login: what a new application connection meets, which the warm session cannot show. */
export async function probeLogin(engine: DatabaseEngine, timeoutMs: number): Promise<LoginResult> {
  try {
    return { succeeded: true, durationMs: round2(await engine.freshLogin(timeoutMs)) };
  } catch (error) {
    const failure = engine.classifyError(error);
    return { succeeded: false, error: failure.message, errorReason: failure.cause };
  }
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
  login?: LoginResult;
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
  if (probe.connection && inputs.login?.succeeded === false) {
    unhealthy.push(`a new connection cannot log in (the open session still works): ${inputs.login.error}`);
  }
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
  const { probe, migrationStatus, login } = inputs;
  // A login that fails while the warm session works: applications cannot connect, so neither can "we".
  const loginFailed = probe.connection && login?.succeeded === false;
  const error = probe.failure?.message ?? (loginFailed ? login.error : undefined);
  const errorReason = probe.failure?.cause ?? (loginFailed ? login.errorReason : undefined);
  return {
    status,
    connection: probe.connection && !loginFailed,
    queryTest: probe.queryTest,
    ...(probe.responseTimeMs !== undefined ? { responseTimeMs: probe.responseTimeMs } : {}),
    ...(login ? { login } : {}),
    ...(inputs.database ? { database: inputs.database } : {}),
    ...(migrationStatus ? { migrationStatus } : {}),
    reasons,
    timestamp: now.toISOString(),
    ...(error !== undefined ? { error } : {}),
    ...(errorReason !== undefined ? { errorReason } : {}),
  };
}
