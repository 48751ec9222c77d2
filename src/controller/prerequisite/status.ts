import type {
  DatabaseMonitorStatus,
  DatabasePrerequisiteStatus,
  DatabaseValidation,
  PrerequisiteResult,
} from '../../api/index.js';
import { EventReason, ConditionReason as R, ConditionType as T } from '../../api/index.js';
import { unavailableDatabase, type ValidationOptions, validateDatabase } from '../../checks/index.js';
import { recomputeConditions } from '../status/conditions.js';
import type { EventIntent } from '../status/events.js';

/** A referenced monitor as the prerequisite sees it in the cache. */
export interface MonitorView {
  generation?: number;
  status?: DatabaseMonitorStatus;
}

/** Pure: judges a database from its monitor's last status — no second connection to the database. */
export function validateFromMonitor(
  name: string,
  monitorName: string,
  monitor: MonitorView | undefined,
  options: ValidationOptions,
): DatabaseValidation {
  if (!monitor) return unavailableDatabase(name, `DatabaseMonitor ${monitorName} not found in this namespace`);
  const status = monitor.status;
  const stalled = status?.conditions?.find((c) => c.type === T.Stalled && c.status === 'True');
  if (stalled) return unavailableDatabase(name, `DatabaseMonitor ${monitorName} cannot run: ${stalled.message}`);
  const ready = status?.conditions?.find((c) => c.type === T.Ready);
  if (ready?.reason === R.Suspended) return unavailableDatabase(name, `DatabaseMonitor ${monitorName} is suspended`);
  if (!status?.health || status.observedGeneration !== monitor.generation) {
    return unavailableDatabase(name, `DatabaseMonitor ${monitorName} has not checked its current spec yet`);
  }
  return validateDatabase(name, { health: status.health, ...(status.pool ? { pool: status.pool } : {}) }, options);
}

export function prerequisiteStatus(
  previous: DatabasePrerequisiteStatus | undefined,
  result: PrerequisiteResult,
  allowWarnings: boolean,
  generation: number,
  now: Date,
  requestedAt?: string,
): { status: DatabasePrerequisiteStatus; events: EventIntent[] } {
  const ready = result.overallStatus === 'passed' || (result.overallStatus === 'warning' && allowWarnings);
  const problems = result.databases
    .filter((d) => d.status !== 'passed')
    .map((d) => `${d.name}: ${d.issues.join('; ')}`);
  const reason = { passed: R.Passed, warning: R.Warning, failed: R.Failed }[result.overallStatus];
  const conditions = recomputeConditions(
    previous?.conditions,
    [
      {
        type: T.Ready,
        status: ready ? 'True' : 'False',
        reason,
        message: problems.length === 0 ? `all ${result.summary.total} database(s) passed` : problems.join(' | '),
      },
      { type: T.Reconciling, status: 'False', reason: R.Checked, message: `generation ${generation} checked` },
      { type: T.Stalled, status: 'False', reason: R.Checked, message: 'spec is valid' },
    ],
    generation,
    now,
  );
  const failures = result.overallStatus === 'failed' ? 1 : 0;
  const status: DatabasePrerequisiteStatus = {
    ...result,
    observedGeneration: generation,
    conditions,
    lastCheckTime: now.toISOString(),
    ...(ready
      ? { lastSuccessTime: now.toISOString() }
      : previous?.lastSuccessTime
        ? { lastSuccessTime: previous.lastSuccessTime }
        : {}),
    consecutiveFailures: failures ? (previous?.consecutiveFailures ?? 0) + 1 : 0,
    ...(requestedAt
      ? { lastHandledReconcileAt: requestedAt }
      : previous?.lastHandledReconcileAt
        ? { lastHandledReconcileAt: previous.lastHandledReconcileAt }
        : {}),
  };
  const wasReady = previous?.conditions?.find((c) => c.type === T.Ready)?.status;
  const events: EventIntent[] = [];
  if (ready && wasReady !== 'True') {
    events.push({
      type: 'Normal',
      reason: EventReason.PrerequisitePassed,
      message: `${result.summary.passed}/${result.summary.total} passed, ${result.summary.warning} warning`,
    });
  } else if (
    !ready &&
    (wasReady === 'True' || wasReady === undefined || previous?.overallStatus !== result.overallStatus)
  ) {
    events.push({
      type: 'Warning',
      reason: EventReason.PrerequisiteFailed,
      message: problems.join(' | ').slice(0, 1000),
    });
  }
  return { status, events };
}

/** Pure: a spec that fails validation → Stalled, and no results (nothing was evaluated for it). */
export function invalidPrerequisiteStatus(
  previous: DatabasePrerequisiteStatus | undefined,
  message: string,
  generation: number,
  now: Date,
): { status: DatabasePrerequisiteStatus; events: EventIntent[] } {
  const conditions = recomputeConditions(
    previous?.conditions,
    [
      { type: T.Ready, status: 'False', reason: R.InvalidSpec, message },
      { type: T.Stalled, status: 'True', reason: R.InvalidSpec, message },
      { type: T.Reconciling, status: 'False', reason: R.InvalidSpec, message: 'waiting for the spec to be fixed' },
    ],
    generation,
    now,
  );
  const wasStalled = previous?.conditions?.find((c) => c.type === T.Stalled && c.status === 'True');
  return {
    status: {
      observedGeneration: generation,
      conditions,
      ...(previous?.lastSuccessTime ? { lastSuccessTime: previous.lastSuccessTime } : {}),
      ...(previous?.lastHandledReconcileAt ? { lastHandledReconcileAt: previous.lastHandledReconcileAt } : {}),
    },
    events: wasStalled?.message === message ? [] : [{ type: 'Warning', reason: EventReason.InvalidSpec, message }],
  };
}
