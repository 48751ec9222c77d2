import type {
  DatabaseMonitorStatus,
  DatabasePrerequisiteSpec,
  DatabasePrerequisiteStatus,
  DatabaseValidation,
  PrerequisiteResult,
} from '../../api/index.js';
import { EventReason, ConditionReason as R, ConditionType as T } from '../../api/index.js';
import { unavailableDatabase, type ValidationOptions, validateDatabase } from '../../checks/index.js';
import { type ConditionInput, findCondition, recomputeConditions } from '../status/conditions.js';
import { type EventIntent, withTransitionEvents } from '../status/events.js';

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
  const stalled = findCondition(status?.conditions, T.Stalled);
  if (stalled?.status === 'True')
    return unavailableDatabase(name, `DatabaseMonitor ${monitorName} cannot run: ${stalled.message}`);
  if (findCondition(status?.conditions, T.Ready)?.reason === R.Suspended)
    return unavailableDatabase(name, `DatabaseMonitor ${monitorName} is suspended`);
  if (!status?.health || status.observedGeneration !== monitor.generation) {
    // A creation or spec-change race, not a fault: the gate waits, and no Warning is raised for it.
    return {
      ...unavailableDatabase(name, `waiting for DatabaseMonitor ${monitorName} to check its current spec`),
      waiting: true,
    };
  }
  return validateDatabase(name, { health: status.health, ...(status.pool ? { pool: status.pool } : {}) }, options);
}

/** What one pass found out about a prerequisite. */
export type PrerequisiteObservation =
  | { kind: 'InvalidSpec'; message: string }
  | { kind: 'Evaluated'; spec: DatabasePrerequisiteSpec; result: PrerequisiteResult; at: Date };

export interface PrerequisiteStatusInput {
  observation: PrerequisiteObservation;
  previous: DatabasePrerequisiteStatus | undefined;
  generation: number;
  now: Date;
  requestedAt?: string;
  /** Sharded: the replica writing (status.shard). */
  shard?: string;
}

/** Pure: the whole next status of a prerequisite and the Events of its transition. */
export function nextPrerequisiteStatus(input: PrerequisiteStatusInput): {
  status: DatabasePrerequisiteStatus;
  events: EventIntent[];
} {
  const { status, events } =
    input.observation.kind === 'InvalidSpec'
      ? invalid(input, input.observation.message)
      : evaluated(input, input.observation);
  return { status: withTransitionEvents(status, events, input.now), events };
}

function evaluated(
  input: PrerequisiteStatusInput,
  o: Extract<PrerequisiteObservation, { kind: 'Evaluated' }>,
): { status: DatabasePrerequisiteStatus; events: EventIntent[] } {
  const { previous, generation, now } = input;
  const { result, spec, at } = o;
  const ready = result.overallStatus === 'passed' || (result.overallStatus === 'warning' && spec.allowWarnings);
  const blockers = blockersOf(result.databases);
  const waitingOnly = !ready && blockers.length === 0;
  const problems = result.databases
    .filter((d) => d.status !== 'passed')
    .map((d) => `${d.name}: ${d.issues.join('; ')}`);
  const readyCondition: ConditionInput = {
    type: T.Ready,
    status: ready ? 'True' : 'False',
    reason: waitingOnly
      ? R.WaitingForMonitor
      : { passed: R.Passed, warning: R.Warning, failed: R.Failed }[result.overallStatus],
    message: problems.length === 0 ? `all ${result.summary.total} database(s) passed` : problems.join(' | '),
  };
  const conditions = recomputeConditions(
    previous?.conditions,
    [
      readyCondition,
      { type: T.Reconciling, status: 'False', reason: R.Checked, message: `generation ${generation} checked` },
      { type: T.Stalled, status: 'False', reason: R.Checked, message: 'spec is valid' },
    ],
    generation,
    now,
  );
  const lastSuccessTime = ready ? at.toISOString() : previous?.lastSuccessTime;
  const lastHandledReconcileAt = input.requestedAt ?? previous?.lastHandledReconcileAt;
  const status: DatabasePrerequisiteStatus = {
    ...result,
    observedGeneration: generation,
    conditions,
    ...(input.shard ? { shard: input.shard } : {}),
    lastCheckTime: at.toISOString(),
    ...(lastSuccessTime ? { lastSuccessTime } : {}),
    consecutiveFailures: result.overallStatus === 'failed' ? (previous?.consecutiveFailures ?? 0) + 1 : 0,
    ...(lastHandledReconcileAt ? { lastHandledReconcileAt } : {}),
  };
  const events: EventIntent[] = [];
  const wasReady = findCondition(previous?.conditions, T.Ready)?.status === 'True';
  if (ready && !wasReady) {
    events.push({
      type: 'Normal',
      reason: EventReason.PrerequisitePassed,
      message: `${result.summary.passed}/${result.summary.total} passed, ${result.summary.warning} warning`,
    });
  } else if (
    !ready &&
    blockers.length > 0 &&
    signature(blockers) !== signature(blockersOf(previous?.databases ?? []))
  ) {
    // Named for what blocks the workload, and raised again when the blocker changes (not only the verdict).
    events.push({
      type: 'Warning',
      reason: EventReason.PrerequisiteFailed,
      message: blockers
        .map((d) => `${d.name}: ${d.issues.join('; ')}`)
        .join(' | ')
        .slice(0, 1000),
    });
  }
  return { status, events };
}

/** The databases that keep the prerequisite from passing for a reason other than a monitor not checked yet. */
const blockersOf = (databases: DatabaseValidation[]) => databases.filter((d) => d.status !== 'passed' && !d.waiting);

/** What a blocker is, without the figures that change on every check (response times, counts). */
const signature = (blockers: DatabaseValidation[]) =>
  JSON.stringify(blockers.map((d) => [d.name, d.status, d.issues.map((i) => i.replace(/[0-9.]+/g, '#'))]));

/** A spec that fails validation → Stalled, and no results (nothing was evaluated for it). */
function invalid(
  input: PrerequisiteStatusInput,
  message: string,
): { status: DatabasePrerequisiteStatus; events: EventIntent[] } {
  const { previous, generation, now } = input;
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
  const was = findCondition(previous?.conditions, T.Stalled);
  return {
    status: {
      observedGeneration: generation,
      conditions,
      ...(input.shard ? { shard: input.shard } : {}),
      ...(previous?.lastSuccessTime ? { lastSuccessTime: previous.lastSuccessTime } : {}),
      ...(previous?.lastHandledReconcileAt ? { lastHandledReconcileAt: previous.lastHandledReconcileAt } : {}),
    },
    events:
      was?.status === 'True' && was.message === message
        ? []
        : [{ type: 'Warning', reason: EventReason.InvalidSpec, message }],
  };
}
