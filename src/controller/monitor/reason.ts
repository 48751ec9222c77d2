import { type DatabaseMonitorStatus, ConditionReason as R, StateReason, ConditionType as T } from '../../api/index.js';
import { findCondition } from '../status/conditions.js';

/**
 * One CamelCase word for why a monitor is in its (debounced) state, the most specific the status holds: a
 * stall reason or Suspended, the last check's failure cause when it could not reach the database
 * (ConnectionRefused, Timeout, WrongPassword…), a failed or pending migration, high connection utilization,
 * else the Ready reason (Healthy, Degraded, Unhealthy, Progressing). A bounded vocabulary, never error text:
 * it is a metric label (dbwatch_database_status_reason) and the `reason` annotation of alerts.
 */
export function monitorReason(status: DatabaseMonitorStatus | undefined): string {
  const ready = findCondition(status?.conditions, T.Ready);
  const health = status?.health;
  // Stalled, suspended or not checked yet: no measured state, the Ready condition says why.
  if (!status?.status || !health) return ready?.reason ?? R.Progressing;
  if (status.status === 'healthy') return R.Healthy;
  if (!health.connection || !health.queryTest) return health.errorReason ?? R.ConnectionFailed;
  if (health.database && health.database.state !== 'ONLINE') return StateReason.DatabaseNotOnline;
  const migrations = health.migrationStatus;
  if (migrations && migrations.failedMigrations.length > 0) return R.MigrationFailed;
  if (migrations && migrations.pendingMigrations.length > 0) return R.MigrationsPending;
  if (status.pool?.poolHealth === 'high') return R.UtilizationHigh;
  return ready?.reason ?? (status.status === 'degraded' ? R.Degraded : R.Unhealthy);
}
