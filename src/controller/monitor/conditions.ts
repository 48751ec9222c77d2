import {
  type AvailabilityStatus,
  type DatabaseMonitorSpec,
  type DatabaseMonitorStatus,
  ConditionReason as R,
  ConditionType as T,
} from '../../api/index.js';
import type { MonitorReport } from '../../checks/index.js';
import type { ConditionInput } from '../status/conditions.js';
import { targetRatio } from './availability.js';

/*
 * The conditions a check gives a monitor besides Ready/Reconciling/Stalled, each named for what it asserts.
 * A condition whose check is not configured is not computed, so it disappears from the status.
 */

export function monitorConditions(
  spec: DatabaseMonitorSpec,
  report: MonitorReport,
  performance: DatabaseMonitorStatus['performance'],
  availability: AvailabilityStatus | undefined,
): ConditionInput[] {
  return [
    connected(report.health),
    migrationsApplied(report.health.migrationStatus),
    connectionUtilization(report.pool),
    ...pgbouncerPools(report.pgbouncer),
    ...performanceWithinTarget(performance),
    ...sloMet(spec, availability),
  ];
}

function connected(health: MonitorReport['health']): ConditionInput {
  if (health.connection)
    return { type: T.Connected, status: 'True', reason: R.Connected, message: 'Connected and authenticated' };
  return {
    type: T.Connected,
    status: 'False',
    reason: health.errorReason ?? R.ConnectionFailed,
    message: health.error ?? 'cannot connect',
  };
}

function migrationsApplied(m: MonitorReport['health']['migrationStatus']): ConditionInput {
  const condition = (status: ConditionInput['status'], reason: string, message: string): ConditionInput => ({
    type: T.MigrationsApplied,
    status,
    reason,
    message,
  });
  if (!m)
    return condition('Unknown', R.NotChecked, 'checks.migrations is not configured or the database is unreachable');
  if (m.failedMigrations.length > 0)
    return condition('False', R.MigrationFailed, `failed: ${m.failedMigrations.join(', ')}`);
  if (m.pendingMigrations.length > 0)
    return condition('False', R.MigrationsPending, `pending: ${m.pendingMigrations.join(', ')}`);
  if (m.error) return condition('Unknown', R.MigrationTableUnreadable, m.error);
  if (m.unknownReason) return condition('Unknown', R.MigrationStateUnknown, m.unknownReason);
  return condition('True', R.UpToDate, `current version ${m.currentVersion ?? '(none)'}`);
}

/** The server's connection utilization against its threshold. */
function connectionUtilization(pool: MonitorReport['pool']): ConditionInput {
  const type = T.ConnectionUtilizationWithinLimits;
  if (!pool?.poolHealth)
    return { type, status: 'Unknown', reason: R.NotMeasured, message: pool?.error ?? 'not measured' };
  if (pool.poolHealth === 'high')
    return { type, status: 'False', reason: R.UtilizationHigh, message: pool.overflowAnalysis };
  return { type, status: 'True', reason: R.WithinLimits, message: `utilization ${pool.poolHealth}` };
}

/** PgBouncer's pools, only when spec.checks.pgbouncer is set. */
function pgbouncerPools(pgbouncer: MonitorReport['pgbouncer']): ConditionInput[] {
  if (!pgbouncer) return [];
  const type = T.PgBouncerPoolsWithinLimits;
  if (pgbouncer.poolHealth === undefined)
    return [{ type, status: 'Unknown', reason: R.NotMeasured, message: pgbouncer.error ?? 'not measured' }];
  const within = pgbouncer.poolHealth !== 'high';
  return [{ type, status: within ? 'True' : 'False', reason: pgbouncer.reason, message: pgbouncer.recommendation }];
}

function performanceWithinTarget(performance: DatabaseMonitorStatus['performance']): ConditionInput[] {
  if (!performance) return [];
  const { performanceRating: rating, apdex, targetMs } = performance.overallAssessment;
  const type = T.PerformanceWithinTarget;
  return ['excellent', 'good'].includes(rating)
    ? [{ type, status: 'True', reason: R.WithinTarget, message: `rated ${rating} (Apdex ${apdex})` }]
    : [
        {
          type,
          status: 'False',
          reason: R.SlowerThanTarget,
          message: `rated ${rating} (Apdex ${apdex} at ${targetMs} ms)`,
        },
      ];
}

/** SLOMet, only when spec.slo is set: the 7-day availability against the target. */
function sloMet(spec: DatabaseMonitorSpec, availability: AvailabilityStatus | undefined): ConditionInput[] {
  if (!spec.slo) return [];
  const target = spec.slo.target;
  const observed = availability?.last7d;
  if (observed === undefined) {
    return [{ type: T.SLOMet, status: 'Unknown', reason: R.NoChecksYet, message: `target ${target}%: no checks yet` }];
  }
  const percent = `${Math.round(observed * 1_000_000) / 10_000}%`;
  const budget = `error budget left ${Math.round((availability?.errorBudgetRemaining ?? 0) * 100)}%`;
  return observed >= targetRatio(target)
    ? [
        {
          type: T.SLOMet,
          status: 'True',
          reason: R.ObjectiveMet,
          message: `${percent} over 7 d ≥ ${target}%; ${budget}`,
        },
      ]
    : [
        {
          type: T.SLOMet,
          status: 'False',
          reason: R.ErrorBudgetExhausted,
          message: `${percent} over 7 d < ${target}%; ${budget}`,
        },
      ];
}
