import {
  type AvailabilityStatus,
  type DatabaseMonitorSpec,
  type DatabaseMonitorStatus,
  EventReason,
  type HealthStatus,
  parseDuration,
  ConditionReason as R,
  type StallReason,
  ConditionType as T,
} from '../../api/index.js';
import type { MonitorReport } from '../../checks/index.js';
import { type ConditionInput, findCondition, recomputeConditions } from '../status/conditions.js';
import { type EventIntent, withTransitionEvents } from '../status/events.js';
import { nextAvailability } from './availability.js';
import { monitorConditions } from './conditions.js';
import { nextStreak, type Streak } from './debounce.js';
import { heartbeatMs } from './schedule.js';

/** What one reconcile found out about a monitor: exactly one of these. */
export type MonitorObservation =
  | { kind: 'InvalidSpec'; message: string }
  | { kind: 'Unresolved'; reason: StallReason; message: string }
  | { kind: 'Suspended' }
  | {
      kind: 'Checked';
      spec: DatabaseMonitorSpec;
      report: MonitorReport;
      /** When the check started. */
      at: Date;
      /** Checks that ran since the status was last written, each with the written result (schedule.ts). */
      unwrittenChecks: number;
    };

export interface StatusInput {
  observation: MonitorObservation;
  previous: DatabaseMonitorStatus | undefined;
  generation: number;
  now: Date;
  /** The requestedAt annotation value this pass acted on (a check ran for it). */
  requestedAt?: string;
  /** Sharded: the replica writing (status.shard). */
  shard?: string;
}

/**
 * Pure: the whole next status of a monitor, and the Events of its transition, from what this pass observed
 * and the status as last written. Nothing is carried from the previous status except history that a single
 * check cannot measure again: when it last succeeded, the availability record, the last performance test
 * (it runs on its own, longer interval) and the last run request handled.
 */
export function nextMonitorStatus(input: StatusInput): { status: DatabaseMonitorStatus; events: EventIntent[] } {
  const { status, events } = statusFor(input);
  return { status: withTransitionEvents(status, events, input.now), events };
}

function statusFor(input: StatusInput): { status: DatabaseMonitorStatus; events: EventIntent[] } {
  const { observation: o } = input;
  switch (o.kind) {
    case 'InvalidSpec':
      return stalled(input, 'InvalidSpec', o.message);
    case 'Unresolved':
      return stalled(input, o.reason, o.message);
    case 'Suspended':
      return suspended(input);
    case 'Checked':
      return checked(input, o);
  }
}

const READY_REASON: Record<HealthStatus, string> = { healthy: R.Healthy, degraded: R.Degraded, unhealthy: R.Unhealthy };

function checked(
  input: StatusInput,
  o: Extract<MonitorObservation, { kind: 'Checked' }>,
): { status: DatabaseMonitorStatus; events: EventIntent[] } {
  const { previous, generation, now } = input;
  const { spec, report, at } = o;
  const availableNow = report.health.status === 'healthy';
  // The unwritten checks between the last write and this one all had the written result.
  const before = previous?.health?.status;
  let streak: Streak = {
    ...(previous?.status ? { reported: previous.status } : {}),
    consecutiveFailures: previous?.consecutiveFailures ?? 0,
    consecutiveSuccesses: previous?.consecutiveSuccesses ?? 0,
  };
  let availability = previous?.availability;
  const target = spec.slo?.target;
  for (let i = 0; i < o.unwrittenChecks && before !== undefined; i++) {
    streak = nextStreak(streak, before, spec.thresholds);
    availability = nextAvailability(availability, at, { available: before === 'healthy', target });
  }
  streak = nextStreak(streak, report.health.status, spec.thresholds);
  availability = nextAvailability(availability, at, { available: availableNow, target });
  const reported = streak.reported!;
  const performanceConfigured = spec.checks.performance !== undefined;
  const performance = performanceConfigured ? (report.performance ?? previous?.performance) : undefined;
  const lastPerformanceTime = !performanceConfigured
    ? undefined
    : report.performance
      ? at.toISOString()
      : previous?.lastPerformanceTime;
  const conditions = recomputeConditions(
    previous?.conditions,
    [
      {
        type: T.Ready,
        status: reported === 'healthy' ? 'True' : 'False',
        reason: READY_REASON[reported],
        message:
          reported === 'healthy'
            ? 'Database is healthy'
            : report.health.reasons.join('; ') || `observed ${report.health.status}`,
      },
      { type: T.Reconciling, status: 'False', reason: R.Checked, message: `generation ${generation} checked` },
      { type: T.Stalled, status: 'False', reason: R.Checked, message: 'Spec and Secret are valid' },
      ...monitorConditions(spec, report, performance, availability),
    ],
    generation,
    now,
  );
  const lastSuccessTime = availableNow ? at.toISOString() : previous?.lastSuccessTime;
  const lastHandledReconcileAt = input.requestedAt ?? previous?.lastHandledReconcileAt;
  const status: DatabaseMonitorStatus = {
    observedGeneration: generation,
    conditions,
    ...(input.shard ? { shard: input.shard } : {}),
    status: reported,
    lastCheckTime: at.toISOString(),
    nextHeartbeatTime: new Date(at.getTime() + heartbeatMs(intervalOf(spec))).toISOString(),
    ...(lastSuccessTime ? { lastSuccessTime } : {}),
    ...(lastPerformanceTime ? { lastPerformanceTime } : {}),
    consecutiveFailures: streak.consecutiveFailures,
    consecutiveSuccesses: streak.consecutiveSuccesses,
    ...(lastHandledReconcileAt ? { lastHandledReconcileAt } : {}),
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

const intervalOf = (spec: DatabaseMonitorSpec) => parseDuration(spec.interval);

/** A problem no retry can fix: Stalled=True and Ready=False; nothing measured is claimed, history stays. */
function stalled(
  input: StatusInput,
  reason: StallReason,
  message: string,
): { status: DatabaseMonitorStatus; events: EventIntent[] } {
  const { previous, generation, now } = input;
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
  const was = findCondition(previous?.conditions, T.Stalled);
  const changed = was?.status !== 'True' || was.message !== message;
  const eventReason = reason === 'InvalidSpec' ? EventReason.InvalidSpec : EventReason.SecretNotFound;
  return {
    status: {
      observedGeneration: generation,
      conditions,
      ...(input.shard ? { shard: input.shard } : {}),
      ...history(previous),
    },
    events: changed ? [{ type: 'Warning', reason: eventReason, message }] : [],
  };
}

/** Checks are paused, so no health is claimed: Ready=Unknown and no results. */
function suspended(input: StatusInput): { status: DatabaseMonitorStatus; events: EventIntent[] } {
  const { previous, generation, now } = input;
  const paused: ConditionInput[] = [
    { type: T.Ready, status: 'Unknown', reason: R.Suspended, message: 'spec.suspend is true: checks are paused' },
    { type: T.Reconciling, status: 'False', reason: R.Suspended, message: 'checks are paused' },
    { type: T.Stalled, status: 'False', reason: R.Suspended, message: 'checks are paused' },
  ];
  return {
    status: {
      observedGeneration: generation,
      conditions: recomputeConditions(previous?.conditions, paused, generation, now),
      ...(input.shard ? { shard: input.shard } : {}),
      ...history(previous),
    },
    events: [],
  };
}

/** History that a status keeps while nothing is measured (stalled, suspended). */
function history(previous: DatabaseMonitorStatus | undefined): Partial<DatabaseMonitorStatus> {
  const kept: Partial<DatabaseMonitorStatus> = {};
  if (previous?.lastSuccessTime) kept.lastSuccessTime = previous.lastSuccessTime;
  if (previous?.availability) kept.availability = previous.availability as AvailabilityStatus;
  if (previous?.lastHandledReconcileAt) kept.lastHandledReconcileAt = previous.lastHandledReconcileAt;
  return kept;
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

/** True when the status claims no measured health (stalled, suspended, never checked). */
export const hasNoHealth = (status: DatabaseMonitorStatus | undefined) => status?.health === undefined;
