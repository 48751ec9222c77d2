import {
  type CheckState,
  type Condition,
  ConditionReason,
  ConditionType,
  databaseMonitorSpecSchema,
  databasePrerequisiteSpecSchema,
  durationMs,
  type HealthStatus,
  type PrerequisiteStatus,
  type SummaryStatus,
} from '../api/index.js';
import { adviceOf, type DatabaseObservation, type PrerequisiteObservation, summarize } from '../checks/summary.js';
import { humanDuration } from './summary-cluster-age.js';

/**
 * Pure: DatabaseMonitor and DatabasePrerequisite objects as listed from the API → the multi-database health
 * summary. Nothing here measures anything: it reads what the operator wrote and says how current that is.
 */

/** An object as the API returns it; `status.status` is read as text so a value added later (e.g. unknown) is safe. */
export interface ListedObject {
  metadata?: { name?: string; namespace?: string; generation?: number; creationTimestamp?: string | Date };
  spec?: unknown;
  status?: {
    status?: string;
    overallStatus?: string;
    observedGeneration?: number;
    lastCheckTime?: string;
    shard?: string;
    conditions?: Condition[];
    alerts?: string[];
    health?: { responseTimeMs?: number };
    diagnostics?: { recommendations: string[] };
    pool?: { poolHealth?: 'optimal' | 'moderate' | 'high'; recommendation: string };
  };
}

/**
 * The operator writes an unchanged status only as a heartbeat that keeps lastCheckTime no older than
 * max(interval, 5 min) (controller/status/status-writes.ts): "2 × interval" is measured against that write period,
 * otherwise every healthy monitor with a short interval would read as stale between heartbeats.
 */
export const STATUS_HEARTBEAT_FLOOR_MS = 5 * 60_000;

export const staleAfterMs = (intervalMs: number) => 2 * Math.max(intervalMs, STATUS_HEARTBEAT_FLOOR_MS);

const condition = (status: ListedObject['status'], type: string) => status?.conditions?.find((c) => c.type === type);

/** The spec's interval, or the schema's default when absent or not a valid duration (an invalid spec). */
function intervalOf(spec: unknown, schema: { safeParse(v: unknown): { success: boolean; data?: unknown } }): number {
  const parsed = schema.safeParse((spec as { interval?: unknown } | undefined)?.interval);
  const fallback = schema.safeParse(undefined).data as string;
  return durationMs(parsed.success ? (parsed.data as string) : fallback) ?? 0;
}

/** What to call the state of a listed object, before its health is read. */
function checkStateOf(obj: ListedObject, intervalMs: number, now: Date, measured: string | undefined): CheckState {
  const status = obj.status;
  if (condition(status, ConditionType.Stalled)?.status === 'True') return 'stalled';
  if ((obj.spec as { suspend?: unknown } | undefined)?.suspend === true) return 'suspended';
  if (condition(status, ConditionType.Ready)?.reason === ConditionReason.Suspended) return 'suspended';
  const lastSeen = status?.lastCheckTime ?? String(obj.metadata?.creationTimestamp ?? '');
  const age = now.getTime() - Date.parse(lastSeen);
  if (Number.isFinite(age) && age > staleAfterMs(intervalMs)) return 'stale';
  return measured === undefined ? 'pending' : 'current';
}

/** Ready is the verdict itself; Reconciling and Stalled are False when all is well. */
const NOT_A_CAUSE: string[] = [ConditionType.Ready, ConditionType.Reconciling, ConditionType.Stalled];

/**
 * Ready's reason, or, while not Ready, the first condition that says what is wrong (WrongPassword,
 * MigrationsPending…). A Ready object keeps Ready's reason: a False condition beside it is not why it is healthy.
 */
function reasonOf(status: ListedObject['status'], ready: Condition | undefined): string {
  if (ready?.status === 'True') return ready.reason;
  const failing = status?.conditions?.find((c) => c.status === 'False' && !NOT_A_CAUSE.includes(c.type));
  return failing?.reason ?? ready?.reason ?? 'NotChecked';
}

function explain(
  obj: ListedObject,
  state: CheckState,
  measured: string | undefined,
  intervalMs: number,
  now: Date,
): { reason: string; message: string } {
  const status = obj.status;
  const ready = condition(status, ConditionType.Ready);
  const limit = `expected within ${humanDuration(staleAfterMs(intervalMs))}`;
  switch (state) {
    case 'stalled': {
      const stalled = condition(status, ConditionType.Stalled);
      return { reason: stalled?.reason ?? 'Stalled', message: `cannot be checked: ${stalled?.message ?? ''}` };
    }
    case 'suspended':
      return { reason: ConditionReason.Suspended, message: 'spec.suspend is true: checks are paused' };
    case 'stale': {
      const last = status?.lastCheckTime;
      const since = last
        ? `no check written for ${humanDuration(now.getTime() - Date.parse(last))} (${limit})`
        : `never checked since creation ${humanDuration(now.getTime() - Date.parse(String(obj.metadata?.creationTimestamp)))} ago (${limit})`;
      return { reason: 'Stale', message: `${since}${measured ? `; last status ${measured}` : ''}` };
    }
    case 'pending':
      return { reason: ready?.reason ?? ConditionReason.Progressing, message: ready?.message ?? 'not checked yet' };
    case 'current': {
      const generation = obj.metadata?.generation;
      const observed = status?.observedGeneration;
      const behind =
        generation !== undefined && observed !== undefined && observed !== generation
          ? ` (measured for generation ${observed}; generation ${generation} not checked yet)`
          : '';
      return { reason: reasonOf(status, ready), message: `${ready?.message ?? ''}${behind}` };
    }
  }
}

function common(obj: ListedObject, intervalMs: number, now: Date, measured: string | undefined) {
  const state = checkStateOf(obj, intervalMs, now, measured);
  const ready = condition(obj.status, ConditionType.Ready);
  return {
    namespace: obj.metadata?.namespace ?? '',
    name: obj.metadata?.name ?? '',
    state,
    ...explain(obj, state, measured, intervalMs, now),
    ...(ready?.lastTransitionTime ? { since: ready.lastTransitionTime } : {}),
    ...(obj.status?.lastCheckTime ? { lastCheckTime: obj.status.lastCheckTime } : {}),
    ...(obj.status?.shard ? { shard: obj.status.shard } : {}),
  };
}

/** A health value the summary understands; anything else (absent, `unknown`, a future value) is no health. */
const known = (value: string | undefined, values: string[]) => (value && values.includes(value) ? value : undefined);

export function summarizeMonitor(obj: ListedObject, now: Date): DatabaseObservation {
  const measured = known(obj.status?.status, ['healthy', 'degraded', 'unhealthy']);
  const { state, ...rest } = common(obj, intervalOf(obj.spec, databaseMonitorSpecSchema.shape.interval), now, measured);
  const current = state === 'current';
  const status = obj.status;
  const engine = (obj.spec as { engine?: unknown } | undefined)?.engine;
  const responseTimeMs = status?.health?.responseTimeMs;
  return {
    ...rest,
    ...(engine === 'postgres' || engine === 'mssql' ? { engine } : {}),
    status: current ? (measured as SummaryStatus) : 'unknown',
    checkState: state,
    ...(!current && measured ? { lastStatus: measured as HealthStatus } : {}),
    ...(current && typeof responseTimeMs === 'number' ? { responseTimeMs } : {}),
    // What the operator wrote with that check: the same alerts and advice `dbwatch check` shows.
    alerts: current ? (status?.alerts ?? []) : [],
    recommendations: current ? adviceOf({ diagnostics: status?.diagnostics, pool: status?.pool }) : [],
  };
}

export function summarizePrerequisite(obj: ListedObject, now: Date): PrerequisiteObservation {
  const measured = known(obj.status?.overallStatus, ['passed', 'warning', 'failed']);
  const interval = intervalOf(obj.spec, databasePrerequisiteSpecSchema.shape.interval);
  const { state, ...rest } = common(obj, interval, now, measured);
  const current = state === 'current';
  return {
    ...rest,
    status: current ? (measured as PrerequisiteObservation['status']) : 'unknown',
    checkState: state,
    ...(!current && measured ? { lastStatus: measured as PrerequisiteStatus } : {}),
  };
}

/** The summary of what was listed: the same function `dbwatch check` and `summary -f` use. */
export function summarizeCluster(input: { monitors: ListedObject[]; prerequisites: ListedObject[]; now: Date }) {
  return summarize({
    databases: input.monitors.map((m) => summarizeMonitor(m, input.now)),
    prerequisites: input.prerequisites.map((p) => summarizePrerequisite(p, input.now)),
  });
}
