import {
  type Condition,
  ConditionReason,
  ConditionType,
  databaseMonitorSpecSchema,
  databasePrerequisiteSpecSchema,
  durationMs,
} from '../api/index.js';
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
    conditions?: Condition[];
    alerts?: string[];
    diagnostics?: { recommendations?: string[] };
    pool?: { poolHealth?: string; recommendation?: string };
  };
}

/** Health the summary can vouch for; `unknown` when no current measurement exists. */
export type SummaryStatus = 'healthy' | 'degraded' | 'unhealthy' | 'unknown';

/**
 * Whether the object's status is a current measurement: `current`, or why not — `stale` (no check written
 * within the staleness limit), `stalled` (Stalled=True: it cannot run until its spec or Secret is fixed),
 * `suspended` (spec.suspend), `pending` (created recently, first check not written yet).
 */
export type CheckState = 'current' | 'stale' | 'stalled' | 'suspended' | 'pending';

export interface DatabaseSummary {
  namespace: string;
  name: string;
  status: SummaryStatus;
  checkState: CheckState;
  /** The last measured health, kept apart when it is no longer current (stale). */
  lastStatus?: string;
  /** CamelCase: the first failing condition's reason (WrongPassword, MigrationsPending…), or Ready's. */
  reason: string;
  message: string;
  /** When Ready took its current value: how long the database has been in this state. */
  since?: string;
  lastCheckTime?: string;
}

export interface PrerequisiteSummary extends Omit<DatabaseSummary, 'status' | 'lastStatus'> {
  status: 'passed' | 'warning' | 'failed' | 'unknown';
  lastStatus?: string;
}

export interface ClusterSummary {
  overallStatus: SummaryStatus;
  statusBreakdown: { healthy: number; degraded: number; unhealthy: number; unknown: number };
  /** Monitors with no current health, by cause (stale, stalled, suspended, pending). */
  unknownBreakdown: Partial<Record<Exclude<CheckState, 'current'>, number>>;
  databases: DatabaseSummary[];
  prerequisites: PrerequisiteSummary[];
  alerts: string[];
  recommendations: string[];
}

/**
 * The operator writes an unchanged status only as a heartbeat that keeps lastCheckTime no older than
 * max(interval, 5 min) (controller/status/status-writes.ts): "2 × interval" is measured against that write period,
 * otherwise every healthy monitor with a short interval would read as stale between heartbeats.
 */
export const STATUS_HEARTBEAT_FLOOR_MS = 5 * 60_000;

export const staleAfterMs = (intervalMs: number) => 2 * Math.max(intervalMs, STATUS_HEARTBEAT_FLOOR_MS);

const SEVERITY: Record<string, number> = { healthy: 0, passed: 0, degraded: 1, warning: 1, unhealthy: 2, failed: 2 };
const BY_SEVERITY: SummaryStatus[] = ['healthy', 'degraded', 'unhealthy'];
const ORDER: Record<string, number> = { unhealthy: 0, failed: 0, degraded: 1, warning: 1, unknown: 2 };

/** Problems a retry cannot fix, or a summary that cannot vouch for the database: attention, like degraded. */
const NEEDS_ATTENTION: CheckState[] = ['stale', 'stalled'];

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
  };
}

/** A health value the summary understands; anything else (absent, `unknown`, a future value) is no health. */
const known = (value: string | undefined, values: string[]) => (value && values.includes(value) ? value : undefined);

export function summarizeMonitor(obj: ListedObject, now: Date): DatabaseSummary {
  const measured = known(obj.status?.status, ['healthy', 'degraded', 'unhealthy']);
  const { state, ...rest } = common(obj, intervalOf(obj.spec, databaseMonitorSpecSchema.shape.interval), now, measured);
  const current = state === 'current';
  return {
    ...rest,
    status: current ? (measured as SummaryStatus) : 'unknown',
    checkState: state,
    ...(!current && measured ? { lastStatus: measured } : {}),
  };
}

export function summarizePrerequisite(obj: ListedObject, now: Date): PrerequisiteSummary {
  const measured = known(obj.status?.overallStatus, ['passed', 'warning', 'failed']);
  const interval = intervalOf(obj.spec, databasePrerequisiteSpecSchema.shape.interval);
  const { state, ...rest } = common(obj, interval, now, measured);
  const current = state === 'current';
  return {
    ...rest,
    status: current ? (measured as PrerequisiteSummary['status']) : 'unknown',
    checkState: state,
    ...(!current && measured ? { lastStatus: measured } : {}),
  };
}

const key = (s: { namespace: string; name: string }) => `${s.namespace}/${s.name}`;

/** Problems first (unhealthy, degraded, no current health), then healthy; by namespace/name within each. */
const byAttention = <T extends { status: string; namespace: string; name: string }>(a: T, b: T) =>
  (ORDER[a.status] ?? 3) - (ORDER[b.status] ?? 3) || key(a).localeCompare(key(b));

function alertsAndRecommendations(
  monitors: ListedObject[],
  databases: DatabaseSummary[],
  prerequisites: PrerequisiteSummary[],
): { alerts: string[]; recommendations: string[] } {
  const alerts: string[] = [];
  const recommendations: string[] = [];
  const objects = new Map(monitors.map((m) => [`${m.metadata?.namespace ?? ''}/${m.metadata?.name ?? ''}`, m]));
  for (const db of databases) {
    const status = objects.get(key(db))?.status;
    if (db.checkState === 'current') {
      alerts.push(...(status?.alerts ?? []).map((a) => `${key(db)}: ${a}`));
      recommendations.push(...(status?.diagnostics?.recommendations ?? []).map((r) => `${key(db)}: ${r}`));
      if (status?.pool?.poolHealth === 'high' && status.pool.recommendation)
        recommendations.push(`${key(db)}: ${status.pool.recommendation}`);
    } else if (db.checkState === 'stale') {
      alerts.push(`${key(db)}: stale: ${db.message}`);
    } else if (db.checkState === 'stalled') {
      alerts.push(`${key(db)}: stalled (${db.reason}): ${db.message}`);
      recommendations.push(`${key(db)}: fix the spec or Secret the alert names; the monitor resumes without a restart`);
    }
  }
  for (const p of prerequisites) {
    if (p.status === 'failed' || p.status === 'warning')
      alerts.push(`${key(p)}: prerequisite ${p.status}: ${p.message}`);
    if (p.checkState === 'stale' || p.checkState === 'stalled')
      alerts.push(`${key(p)}: prerequisite ${p.checkState} (${p.reason}): ${p.message}`);
  }
  if ([...databases, ...prerequisites].some((d) => d.checkState === 'stale')) {
    recommendations.push(
      'Stale: check that the dbwatch operator is running and leading (its Lease dbwatch-operator) and that it ' +
        'watches these namespaces (WATCH_NAMESPACES)',
    );
  }
  if (alerts.length === 0 && databases.some((d) => d.status === 'healthy'))
    recommendations.push('All databases are healthy');
  return { alerts, recommendations };
}

/** Worst case over everything with a current result; stale or stalled objects count as needing attention. */
function overallOf(entries: { status: string; checkState: CheckState }[]): SummaryStatus {
  const levels = entries.flatMap((e) => {
    if (NEEDS_ATTENTION.includes(e.checkState)) return [SEVERITY.degraded!];
    return e.checkState === 'current' && SEVERITY[e.status] !== undefined ? [SEVERITY[e.status]!] : [];
  });
  return levels.length === 0 ? 'unknown' : BY_SEVERITY[Math.max(...levels)]!;
}

export function summarizeCluster(input: {
  monitors: ListedObject[];
  prerequisites: ListedObject[];
  now: Date;
}): ClusterSummary {
  const databases = input.monitors.map((m) => summarizeMonitor(m, input.now)).sort(byAttention);
  const prerequisites = input.prerequisites.map((p) => summarizePrerequisite(p, input.now)).sort(byAttention);
  const statusBreakdown = { healthy: 0, degraded: 0, unhealthy: 0, unknown: 0 };
  const unknownBreakdown: ClusterSummary['unknownBreakdown'] = {};
  for (const db of databases) {
    statusBreakdown[db.status]++;
    if (db.checkState !== 'current') unknownBreakdown[db.checkState] = (unknownBreakdown[db.checkState] ?? 0) + 1;
  }
  return {
    overallStatus: overallOf([...databases, ...prerequisites]),
    statusBreakdown,
    unknownBreakdown,
    databases,
    prerequisites,
    ...alertsAndRecommendations(input.monitors, databases, prerequisites),
  };
}
