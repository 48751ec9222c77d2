import type {
  CheckState,
  DatabaseEntry,
  PrerequisiteEntry,
  PrerequisiteResult,
  Summary,
  SummaryStatus,
} from '../api/index.js';
import type { MonitorReport } from './monitor.js';
import { prerequisiteMessage } from './prerequisite.js';

/*
 * The multi-database summary, one function over one shape: `dbwatch check` and `summary -f` feed it the results
 * they just measured, `summary --cluster` the status the operator wrote. Same objects, same answer.
 */

/** A database as the summary sees it, with the alerts and advice of its last check (empty unless current). */
export interface DatabaseObservation extends DatabaseEntry {
  alerts: string[];
  recommendations: string[];
}
export type PrerequisiteObservation = PrerequisiteEntry;

/** 0 healthy, 1 degraded, 2 unhealthy; unknown (nothing current to vouch for) is 1, so a typo cannot pass a gate. */
export const EXIT_CODE: Record<SummaryStatus, number> = { healthy: 0, degraded: 1, unhealthy: 2, unknown: 1 };

const SEVERITY: Record<string, number> = { healthy: 0, passed: 0, degraded: 1, warning: 1, unhealthy: 2, failed: 2 };
const BY_SEVERITY: SummaryStatus[] = ['healthy', 'degraded', 'unhealthy'];
const ORDER: Record<string, number> = { unhealthy: 0, failed: 0, degraded: 1, warning: 1, unknown: 2 };
/** A retry cannot fix it, or nobody checked it for too long: attention, like degraded. */
const NEEDS_ATTENTION: CheckState[] = ['stale', 'stalled'];

const key = (s: { namespace: string; name: string }) => `${s.namespace}/${s.name}`;

/** Problems first (unhealthy, degraded, no current result), then healthy; by namespace/name within each. */
const byAttention = <T extends { status: string; namespace: string; name: string }>(a: T, b: T) =>
  (ORDER[a.status] ?? 3) - (ORDER[b.status] ?? 3) || key(a).localeCompare(key(b));

/** Worst case over everything with a current result; stale or stalled objects count as needing attention. */
function overallOf(entries: { status: string; checkState: CheckState }[]): SummaryStatus {
  const levels = entries.flatMap((e) => {
    if (NEEDS_ATTENTION.includes(e.checkState)) return [SEVERITY.degraded!];
    return e.checkState === 'current' && SEVERITY[e.status] !== undefined ? [SEVERITY[e.status]!] : [];
  });
  return levels.length === 0 ? 'unknown' : BY_SEVERITY[Math.max(...levels)]!;
}

function alertsAndRecommendations(databases: DatabaseObservation[], prerequisites: PrerequisiteObservation[]) {
  const alerts: string[] = [];
  const recommendations: string[] = [];
  for (const db of databases) {
    if (db.checkState === 'current') {
      alerts.push(...db.alerts.map((a) => `${key(db)}: ${a}`));
      recommendations.push(...db.recommendations.map((r) => `${key(db)}: ${r}`));
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
  const anyCurrent = [...databases, ...prerequisites].some((d) => d.checkState === 'current');
  if (alerts.length === 0 && anyCurrent) recommendations.push('All databases are healthy');
  return { alerts, recommendations };
}

/** The summary and the entries it is about, sorted for attention; observation-only fields are dropped. */
export function summarize(input: { databases: DatabaseObservation[]; prerequisites: PrerequisiteObservation[] }): {
  summary: Summary;
  databases: DatabaseEntry[];
  prerequisites: PrerequisiteEntry[];
} {
  const databases = [...input.databases].sort(byAttention);
  const prerequisites = [...input.prerequisites].sort(byAttention);
  const statusBreakdown = { healthy: 0, degraded: 0, unhealthy: 0, unknown: 0 };
  const unknownBreakdown: Summary['unknownBreakdown'] = {};
  for (const db of databases) {
    statusBreakdown[db.status]++;
    if (db.checkState !== 'current') unknownBreakdown[db.checkState] = (unknownBreakdown[db.checkState] ?? 0) + 1;
  }
  const prerequisiteBreakdown = { passed: 0, warning: 0, failed: 0, unknown: 0 };
  for (const p of prerequisites) prerequisiteBreakdown[p.status]++;
  const overallStatus = overallOf([...databases, ...prerequisites]);
  return {
    summary: {
      overallStatus,
      exitCode: EXIT_CODE[overallStatus],
      statusBreakdown,
      unknownBreakdown,
      prerequisiteBreakdown,
      ...alertsAndRecommendations(databases, prerequisites),
    },
    databases: databases.map(({ alerts: _a, recommendations: _r, ...entry }) => entry),
    prerequisites,
  };
}

const READY_REASON = { healthy: 'Healthy', degraded: 'Degraded', unhealthy: 'Unhealthy' } as const;

/**
 * What is wrong first, in the order of the operator's conditions (Connected, MigrationsApplied, connection
 * utilization, performance), as the cluster summary reads it from them; else the verdict itself.
 */
function reasonOf(report: MonitorReport): string {
  const { health, pool, performance } = report;
  const m = health.migrationStatus;
  if (!health.connection || !health.queryTest) return health.errorReason ?? 'ConnectionFailed';
  if (m && m.failedMigrations.length > 0) return 'MigrationFailed';
  if (m && m.pendingMigrations.length > 0) return 'MigrationsPending';
  if (pool?.poolHealth === 'high') return 'UtilizationHigh';
  const rating = performance?.overallAssessment.performanceRating;
  if (rating === 'fair' || rating === 'poor') return 'SlowerThanTarget';
  return READY_REASON[health.status];
}

/** A monitor just checked (check, summary -f): current by definition. */
export function observeReport(
  monitor: { namespace: string; name: string; engine: DatabaseEntry['engine'] },
  report: MonitorReport,
): DatabaseObservation {
  const { health } = report;
  return {
    namespace: monitor.namespace,
    name: monitor.name,
    engine: monitor.engine,
    status: health.status,
    checkState: 'current',
    reason: reasonOf(report),
    message: health.status === 'healthy' ? 'Database is healthy' : health.reasons.join('; '),
    ...(health.responseTimeMs !== undefined ? { responseTimeMs: health.responseTimeMs } : {}),
    alerts: report.alerts,
    recommendations: adviceOf(report),
  };
}

/** Diagnostics' advice and the pool's when utilization is high: what the cluster summary reads from status too. */
export function adviceOf(report: {
  diagnostics?: { recommendations: string[] } | undefined;
  pool?: { poolHealth?: string; recommendation: string } | undefined;
}): string[] {
  return [
    ...(report.diagnostics?.recommendations ?? []),
    ...(report.pool?.poolHealth === 'high' && report.pool.recommendation ? [report.pool.recommendation] : []),
  ];
}

const PREREQUISITE_REASON = { passed: 'Passed', warning: 'Warning', failed: 'Failed' } as const;

/** A prerequisite just evaluated (check, summary -f). */
export function observePrerequisite(
  prerequisite: { namespace: string; name: string },
  result: PrerequisiteResult,
): PrerequisiteObservation {
  return {
    namespace: prerequisite.namespace,
    name: prerequisite.name,
    status: result.overallStatus,
    checkState: 'current',
    reason: PREREQUISITE_REASON[result.overallStatus],
    message: prerequisiteMessage(result),
  };
}
