import type { Condition, DatabaseMonitorSpec, DatabaseMonitorStatus, HealthStatus } from '../api/index.js';
import type { MonitorReport } from '../checks/index.js';
import { type ConditionInput, setConditions } from './conditions.js';
import { nextStreak } from './debounce.js';
import type { EventIntent } from './events.js';

export interface CheckedInput {
  previous: DatabaseMonitorStatus | undefined;
  report: MonitorReport;
  spec: DatabaseMonitorSpec;
  generation: number;
  now: Date;
  requestedAt?: string;
}

const READY_REASON: Record<HealthStatus, string> = { healthy: 'Healthy', degraded: 'Degraded', unhealthy: 'Unhealthy' };

function migrationsCondition(m: MonitorReport['health']['migrationStatus']): ConditionInput {
  const condition = (status: ConditionInput['status'], reason: string, message: string): ConditionInput => ({
    type: 'MigrationsApplied',
    status,
    reason,
    message,
  });
  if (!m)
    return condition('Unknown', 'NotChecked', 'checks.migrations is not configured or the database is unreachable');
  if (m.failedMigrations.length > 0)
    return condition('False', 'MigrationFailed', `failed: ${m.failedMigrations.join(', ')}`);
  if (m.pendingMigrations.length > 0)
    return condition('False', 'MigrationsPending', `pending: ${m.pendingMigrations.join(', ')}`);
  if (m.error) return condition('Unknown', 'MigrationTableUnreadable', m.error);
  return condition('True', 'UpToDate', `current version ${m.currentVersion ?? '(none)'}`);
}

function aspectConditions(report: MonitorReport): ConditionInput[] {
  const { health, pool, performance } = report;
  return [
    health.connection
      ? { type: 'Connected', status: 'True', reason: 'Connected', message: 'Connected and authenticated' }
      : {
          type: 'Connected',
          status: 'False',
          reason: health.errorReason ?? 'ConnectionFailed',
          message: health.error ?? 'cannot connect',
        },
    migrationsCondition(health.migrationStatus),
    !pool?.poolHealth
      ? { type: 'PoolWithinLimits', status: 'Unknown', reason: 'NotMeasured', message: pool?.error ?? 'not measured' }
      : pool.poolHealth === 'high'
        ? { type: 'PoolWithinLimits', status: 'False', reason: 'UtilizationHigh', message: pool.overflowAnalysis }
        : {
            type: 'PoolWithinLimits',
            status: 'True',
            reason: 'WithinLimits',
            message: `utilization ${pool.poolHealth}`,
          },
    ...(performance
      ? [
          ['excellent', 'good'].includes(performance.overallAssessment.performanceRating)
            ? {
                type: 'PerformanceWithinTarget',
                status: 'True' as const,
                reason: 'WithinTarget',
                message: `rated ${performance.overallAssessment.performanceRating} (Apdex ${performance.overallAssessment.apdex})`,
              }
            : {
                type: 'PerformanceWithinTarget',
                status: 'False' as const,
                reason: 'SlowerThanTarget',
                message: `rated ${performance.overallAssessment.performanceRating} (Apdex ${performance.overallAssessment.apdex} at ${performance.overallAssessment.targetMs} ms)`,
              },
        ]
      : []),
  ];
}

function transitionEvents(before: DatabaseMonitorStatus | undefined, after: DatabaseMonitorStatus): EventIntent[] {
  const events: EventIntent[] = [];
  const was = before?.status;
  const now = after.status!;
  const reasons = after.health?.reasons.join('; ') ?? '';
  if (was !== now) {
    if (now === 'healthy') {
      events.push(
        was === undefined
          ? { type: 'Normal', reason: 'Healthy', message: 'Database is healthy' }
          : { type: 'Normal', reason: 'Recovered', message: `Database recovered (was ${was})` },
      );
    } else if (now === 'degraded') events.push({ type: 'Warning', reason: 'Degraded', message: reasons });
    else events.push({ type: 'Warning', reason: 'Unhealthy', message: reasons });
  }
  const pendingBefore = before?.health?.migrationStatus?.pendingMigrations.length ?? 0;
  const pendingAfter = after.health?.migrationStatus?.pendingMigrations ?? [];
  if (pendingBefore === 0 && pendingAfter.length > 0) {
    events.push({
      type: 'Warning',
      reason: 'MigrationsPending',
      message: `Pending migrations: ${pendingAfter.join(', ')}`,
    });
  }
  if (before?.pool?.poolHealth !== 'high' && after.pool?.poolHealth === 'high') {
    events.push({ type: 'Warning', reason: 'PoolHigh', message: after.pool.overflowAnalysis });
  }
  return events;
}

/** Pure: a finished check → the next status and the Events its transitions call for. */
export function checkedStatus(input: CheckedInput): { status: DatabaseMonitorStatus; events: EventIntent[] } {
  const { previous, report, spec, generation, now } = input;
  const streak = nextStreak(
    {
      ...(previous?.status ? { reported: previous.status } : {}),
      consecutiveFailures: previous?.consecutiveFailures ?? 0,
      consecutiveSuccesses: previous?.consecutiveSuccesses ?? 0,
    },
    report.health.status,
    spec.thresholds,
  );
  const reported = streak.reported!;
  const readyMessage =
    reported === 'healthy'
      ? 'Database is healthy'
      : report.health.reasons.join('; ') || `observed ${report.health.status}`;
  const conditions = setConditions(
    previous?.conditions,
    [
      {
        type: 'Ready',
        status: reported === 'healthy' ? 'True' : 'False',
        reason: READY_REASON[reported],
        message: readyMessage,
      },
      { type: 'Reconciling', status: 'False', reason: 'Checked', message: `generation ${generation} checked` },
      { type: 'Stalled', status: 'False', reason: 'Checked', message: 'Spec and Secret are valid' },
      ...aspectConditions(report),
    ],
    generation,
    now,
  );
  const performance = report.performance ?? previous?.performance;
  const status: DatabaseMonitorStatus = {
    observedGeneration: generation,
    conditions,
    status: reported,
    lastCheckTime: now.toISOString(),
    ...(report.health.status === 'healthy'
      ? { lastSuccessTime: now.toISOString() }
      : previous?.lastSuccessTime
        ? { lastSuccessTime: previous.lastSuccessTime }
        : {}),
    ...(report.performance
      ? { lastPerformanceTime: now.toISOString() }
      : previous?.lastPerformanceTime
        ? { lastPerformanceTime: previous.lastPerformanceTime }
        : {}),
    consecutiveFailures: streak.consecutiveFailures,
    consecutiveSuccesses: streak.consecutiveSuccesses,
    ...(input.requestedAt
      ? { lastHandledReconcileAt: input.requestedAt }
      : previous?.lastHandledReconcileAt
        ? { lastHandledReconcileAt: previous.lastHandledReconcileAt }
        : {}),
    health: report.health,
    ...(report.pool ? { pool: report.pool } : {}),
    ...(performance ? { performance } : {}),
    ...(report.diagnostics ? { diagnostics: report.diagnostics } : {}),
    alerts: report.alerts,
  };
  return { status, events: transitionEvents(previous, status) };
}

export type StallReason = 'InvalidSpec' | 'SecretNotFound' | 'SecretKeyMissing' | 'InvalidConnection';

/** Pure: a problem no retry can fix → Stalled=True and Ready=False, keeping the last results. */
export function stalledStatus(
  previous: DatabaseMonitorStatus | undefined,
  reason: StallReason,
  message: string,
  generation: number,
  now: Date,
): { status: DatabaseMonitorStatus; events: EventIntent[] } {
  const conditions = setConditions(
    previous?.conditions,
    [
      { type: 'Ready', status: 'False', reason, message },
      { type: 'Stalled', status: 'True', reason, message },
      { type: 'Reconciling', status: 'False', reason, message: 'waiting for the spec or Secret to be fixed' },
    ],
    generation,
    now,
  );
  const wasStalled = previous?.conditions?.find((c: Condition) => c.type === 'Stalled' && c.status === 'True');
  const changed = !wasStalled || wasStalled.message !== message;
  const eventReason = reason === 'InvalidSpec' ? 'InvalidSpec' : 'SecretNotFound';
  return {
    status: { ...previous, observedGeneration: generation, conditions },
    events: changed ? [{ type: 'Warning', reason: eventReason, message }] : [],
  };
}

/** Pure: a new generation seen and about to be checked. */
export function reconcilingStatus(
  previous: DatabaseMonitorStatus | undefined,
  generation: number,
  now: Date,
): DatabaseMonitorStatus {
  const conditions = setConditions(
    previous?.conditions,
    [
      { type: 'Reconciling', status: 'True', reason: 'Progressing', message: `checking generation ${generation}` },
      ...(previous?.conditions?.some((c) => c.type === 'Ready')
        ? []
        : [{ type: 'Ready', status: 'Unknown' as const, reason: 'Progressing', message: 'first check running' }]),
    ],
    generation,
    now,
  );
  return { ...previous, conditions };
}

export function suspendedStatus(
  previous: DatabaseMonitorStatus | undefined,
  generation: number,
  now: Date,
): DatabaseMonitorStatus {
  const conditions = setConditions(
    previous?.conditions,
    [
      { type: 'Ready', status: 'Unknown', reason: 'Suspended', message: 'spec.suspend is true: checks are paused' },
      { type: 'Reconciling', status: 'False', reason: 'Suspended', message: 'checks are paused' },
    ],
    generation,
    now,
  );
  return { ...previous, observedGeneration: generation, conditions };
}
