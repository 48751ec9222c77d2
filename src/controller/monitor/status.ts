import {
  type AvailabilityStatus,
  type Condition,
  type DatabaseMonitorSpec,
  type DatabaseMonitorStatus,
  EventReason,
  type HealthStatus,
  ConditionReason as R,
  StallReason,
  ConditionType as T,
} from '../../api/index.js';
import type { MonitorReport } from '../../checks/index.js';
import { nextAvailability, targetRatio } from './availability.js';
import { type ConditionInput, isTrue, recomputeConditions, setConditions } from '../status/conditions.js';
import { nextStreak } from './debounce.js';
import type { EventIntent } from '../status/events.js';

export interface CheckedInput {
  previous: DatabaseMonitorStatus | undefined;
  report: MonitorReport;
  spec: DatabaseMonitorSpec;
  generation: number;
  now: Date;
  requestedAt?: string;
}

const READY_REASON: Record<HealthStatus, string> = { healthy: R.Healthy, degraded: R.Degraded, unhealthy: R.Unhealthy };

function migrationsCondition(m: MonitorReport['health']['migrationStatus']): ConditionInput {
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
function connectionUtilizationCondition(pool: MonitorReport['pool']): ConditionInput {
  if (!pool?.poolHealth)
    return {
      type: T.ConnectionUtilizationWithinLimits,
      status: 'Unknown',
      reason: R.NotMeasured,
      message: pool?.error ?? 'not measured',
    };
  if (pool.poolHealth === 'high')
    return {
      type: T.ConnectionUtilizationWithinLimits,
      status: 'False',
      reason: R.UtilizationHigh,
      message: pool.overflowAnalysis,
    };
  return {
    type: T.ConnectionUtilizationWithinLimits,
    status: 'True',
    reason: R.WithinLimits,
    message: `utilization ${pool.poolHealth}`,
  };
}

/** PgBouncer's pools, only when spec.checks.pgbouncer is set. */
function pgbouncerCondition(pgbouncer: MonitorReport['pgbouncer']): ConditionInput[] {
  if (!pgbouncer) return [];
  const type = T.PgBouncerPoolsWithinLimits;
  if (pgbouncer.poolHealth === undefined)
    return [{ type, status: 'Unknown', reason: R.NotMeasured, message: pgbouncer.error ?? 'not measured' }];
  if (pgbouncer.poolHealth === 'high')
    return [{ type, status: 'False', reason: pgbouncer.reason, message: pgbouncer.recommendation }];
  return [{ type, status: 'True', reason: pgbouncer.reason, message: pgbouncer.recommendation }];
}

function performanceCondition(performance: DatabaseMonitorStatus['performance']): ConditionInput[] {
  if (!performance) return [];
  const { performanceRating: rating, apdex, targetMs } = performance.overallAssessment;
  return ['excellent', 'good'].includes(rating)
    ? [
        {
          type: T.PerformanceWithinTarget,
          status: 'True',
          reason: R.WithinTarget,
          message: `rated ${rating} (Apdex ${apdex})`,
        },
      ]
    : [
        {
          type: T.PerformanceWithinTarget,
          status: 'False',
          reason: R.SlowerThanTarget,
          message: `rated ${rating} (Apdex ${apdex} at ${targetMs} ms)`,
        },
      ];
}

function connectedCondition(health: MonitorReport['health']): ConditionInput {
  return health.connection
    ? { type: T.Connected, status: 'True', reason: R.Connected, message: 'Connected and authenticated' }
    : {
        type: T.Connected,
        status: 'False',
        reason: health.errorReason ?? R.ConnectionFailed,
        message: health.error ?? 'cannot connect',
      };
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
          ? { type: 'Normal', reason: EventReason.Healthy, message: 'Database is healthy' }
          : { type: 'Normal', reason: EventReason.Recovered, message: `Database recovered (was ${was})` },
      );
    } else if (now === 'degraded') events.push({ type: 'Warning', reason: EventReason.Degraded, message: reasons });
    else events.push({ type: 'Warning', reason: EventReason.Unhealthy, message: reasons });
  }
  const pendingBefore = before?.health?.migrationStatus?.pendingMigrations.length ?? 0;
  const pendingAfter = after.health?.migrationStatus?.pendingMigrations ?? [];
  if (pendingBefore === 0 && pendingAfter.length > 0) {
    events.push({
      type: 'Warning',
      reason: EventReason.MigrationsPending,
      message: `Pending migrations: ${pendingAfter.join(', ')}`,
    });
  }
  if (before?.pool?.poolHealth !== 'high' && after.pool?.poolHealth === 'high') {
    events.push({
      type: 'Warning',
      reason: EventReason.ConnectionUtilizationHigh,
      message: after.pool.overflowAnalysis,
    });
  }
  if (before?.pgbouncer?.poolHealth !== 'high' && after.pgbouncer?.poolHealth === 'high') {
    events.push({
      type: 'Warning',
      reason: EventReason.PgBouncerPoolsSaturated,
      message: after.pgbouncer.recommendation,
    });
  }
  return events;
}

/** What survives from one status to the next although not measured now: history, not health. */
const history = (previous: DatabaseMonitorStatus | undefined, requestedAt?: string) => ({
  ...(previous?.lastSuccessTime ? { lastSuccessTime: previous.lastSuccessTime } : {}),
  // History, not a measurement: paused or stalled time adds no checks, and the record stays.
  ...(previous?.availability ? { availability: previous.availability } : {}),
  ...(requestedAt
    ? { lastHandledReconcileAt: requestedAt }
    : previous?.lastHandledReconcileAt
      ? { lastHandledReconcileAt: previous.lastHandledReconcileAt }
      : {}),
});

/** SLOMet, only when spec.slo is set: the 7-day availability against the target. */
function sloCondition(spec: DatabaseMonitorSpec, availability: AvailabilityStatus | undefined): ConditionInput[] {
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

/**
 * Pure: a finished check → the next status and the Events its transitions call for. The status is built
 * from the spec and this check only; performance results (measured on their own, longer interval) are the
 * one thing taken from the previous status, and only while checks.performance is still configured.
 */
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
  const availability = nextAvailability(previous?.availability, now, {
    available: report.health.status === 'healthy',
    ...(spec.slo ? { target: spec.slo.target } : {}),
  });
  const performanceConfigured = spec.checks.performance !== undefined;
  const performance = performanceConfigured ? (report.performance ?? previous?.performance) : undefined;
  const lastPerformanceTime = !performanceConfigured
    ? undefined
    : report.performance
      ? now.toISOString()
      : previous?.lastPerformanceTime;
  const conditions = recomputeConditions(
    previous?.conditions,
    [
      {
        type: T.Ready,
        status: reported === 'healthy' ? 'True' : 'False',
        reason: READY_REASON[reported],
        message: readyMessage,
      },
      { type: T.Reconciling, status: 'False', reason: R.Checked, message: `generation ${generation} checked` },
      { type: T.Stalled, status: 'False', reason: R.Checked, message: 'Spec and Secret are valid' },
      connectedCondition(report.health),
      migrationsCondition(report.health.migrationStatus),
      connectionUtilizationCondition(report.pool),
      ...pgbouncerCondition(report.pgbouncer),
      ...performanceCondition(performance),
      ...sloCondition(spec, availability),
    ],
    generation,
    now,
  );
  const status: DatabaseMonitorStatus = {
    observedGeneration: generation,
    conditions,
    status: reported,
    lastCheckTime: now.toISOString(),
    ...history(previous, input.requestedAt),
    ...(report.health.status === 'healthy' ? { lastSuccessTime: now.toISOString() } : {}),
    ...(lastPerformanceTime ? { lastPerformanceTime } : {}),
    consecutiveFailures: streak.consecutiveFailures,
    consecutiveSuccesses: streak.consecutiveSuccesses,
    health: report.health,
    ...(report.pool ? { pool: report.pool } : {}),
    ...(report.pgbouncer ? { pgbouncer: report.pgbouncer } : {}),
    ...(performance ? { performance } : {}),
    ...(report.diagnostics ? { diagnostics: report.diagnostics } : {}),
    alerts: report.alerts,
    ...(availability ? { availability } : {}),
  };
  return { status, events: transitionEvents(previous, status) };
}

/**
 * Pure: a problem no retry can fix → Stalled=True and Ready=False. Nothing measured before is kept: a
 * monitor that cannot run shows no health (`status` absent), only why it cannot run.
 */
export function stalledStatus(
  previous: DatabaseMonitorStatus | undefined,
  reason: StallReason,
  message: string,
  generation: number,
  now: Date,
): { status: DatabaseMonitorStatus; events: EventIntent[] } {
  const conditions = recomputeConditions(
    previous?.conditions,
    [
      { type: T.Ready, status: 'False', reason, message },
      { type: T.Stalled, status: 'True', reason, message },
      { type: T.Reconciling, status: 'False', reason, message: 'waiting for the spec or Secret to be fixed' },
    ],
    generation,
    now,
  );
  const wasStalled = previous?.conditions?.find((c: Condition) => c.type === T.Stalled && c.status === 'True');
  const changed = !wasStalled || wasStalled.message !== message;
  const eventReason = reason === StallReason.InvalidSpec ? EventReason.InvalidSpec : EventReason.SecretNotFound;
  return {
    status: { observedGeneration: generation, conditions, ...history(previous) },
    events: changed ? [{ type: 'Warning', reason: eventReason, message }] : [],
  };
}

/**
 * Pure: a new generation seen and about to be checked. The last results stay, still labelled with the
 * generation they were measured for (status.observedGeneration), until this check replaces them.
 */
export function reconcilingStatus(
  previous: DatabaseMonitorStatus | undefined,
  generation: number,
  now: Date,
): DatabaseMonitorStatus {
  const conditions = setConditions(
    previous?.conditions,
    [
      { type: T.Reconciling, status: 'True', reason: R.Progressing, message: `checking generation ${generation}` },
      ...(previous?.conditions?.some((c) => c.type === T.Ready)
        ? []
        : [{ type: T.Ready, status: 'Unknown' as const, reason: R.Progressing, message: 'first check running' }]),
    ],
    generation,
    now,
  );
  return { ...previous, conditions };
}

/** Pure: checks are paused, so no health is claimed: Ready=Unknown and no results. */
export function suspendedStatus(
  previous: DatabaseMonitorStatus | undefined,
  generation: number,
  now: Date,
): DatabaseMonitorStatus {
  const conditions = recomputeConditions(
    previous?.conditions,
    [
      { type: T.Ready, status: 'Unknown', reason: R.Suspended, message: 'spec.suspend is true: checks are paused' },
      { type: T.Reconciling, status: 'False', reason: R.Suspended, message: 'checks are paused' },
      { type: T.Stalled, status: 'False', reason: R.Suspended, message: 'checks are paused' },
    ],
    generation,
    now,
  );
  return { observedGeneration: generation, conditions, ...history(previous) };
}

/** True when the status claims no measured health (stalled, suspended, never checked). */
export const hasNoHealth = (status: DatabaseMonitorStatus | undefined) => status?.health === undefined;

export const isStalled = (status: DatabaseMonitorStatus | undefined) => isTrue(status?.conditions, T.Stalled);
