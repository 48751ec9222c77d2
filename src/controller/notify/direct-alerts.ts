import { AlertName, type DatabaseMonitorStatus, Severity, ConditionType as T } from '../../api/index.js';
import { monitorReason } from '../monitor/reason.js';
import { findCondition } from '../status/conditions.js';
import type { MonitorObject } from '../types.js';

/**
 * What one monitor's status says Alertmanager should hold, as a pure function of the status alone (not of
 * what this process sent before), so any replica that owns the monitor — after a restart, a leader change or a
 * shard move — computes the same alerts with the same label sets and timestamps.
 */
export interface DirectAlert {
  alertname: AlertName;
  namespace: string;
  name: string;
  engine?: string;
  /** When the monitor stopped being Ready (its Ready condition's lastTransitionTime). */
  startsAt: string;
  /** Set: resolved at that time. Unset: firing; the sender posts endsAt = now + resolve timeout. */
  endsAt?: string;
  reason: string;
  /** The Ready condition's message (status text: no secrets), for the description. */
  detail: string;
  failedMigrations: number;
}

/** The alerts the operator posts itself: the per-database alerts of the rules a status can decide alone. */
export const DIRECT_ALERTS = [AlertName.DatabaseDown, AlertName.MigrationsFailed, AlertName.DatabaseDegraded] as const;

const DETAIL_MAX = 512;

/**
 * How long a not-Ready state must last before its alert fires. Unhealthy is already debounced by the monitor's
 * thresholds.failureThreshold (its own `for`, per database); degraded is reported at once, so it waits as long
 * as the rule DbwatchDatabaseDegraded does (`for: 10m`).
 */
export const HOLD_MS: Record<(typeof DIRECT_ALERTS)[number], number> = {
  DbwatchDatabaseDown: 0,
  DbwatchMigrationsFailed: 0,
  DbwatchDatabaseDegraded: 10 * 60_000,
};

/**
 * The one alert a not-Ready, measured monitor calls for, when its state began (Ready's lastTransitionTime) and
 * when the alert fires (after its hold); none when Ready or not measured.
 */
export function activeAlert(
  status: DatabaseMonitorStatus | undefined,
): { alertname: (typeof DIRECT_ALERTS)[number]; since: string; firesAt: number } | undefined {
  const ready = findCondition(status?.conditions, T.Ready);
  // Stalled, suspended or never checked: nothing measured, nothing to page about (as in the rules).
  if (!status?.status || !status.health || status.status === 'healthy' || ready?.status !== 'False') return undefined;
  const since = ready.lastTransitionTime;
  const h = status.health;
  const failed = h.migrationStatus?.failedMigrations.length ?? 0;
  const alertname =
    status.status === 'degraded'
      ? AlertName.DatabaseDegraded
      : // Reached and ran the test query, but a migration failed: the rules call that DbwatchMigrationsFailed.
        h.connection && h.queryTest && failed > 0
        ? AlertName.MigrationsFailed
        : AlertName.DatabaseDown;
  return { alertname, since, firesAt: Date.parse(since) + HOLD_MS[alertname] };
}

/** The active alert if it fires at `now` (its hold is over). */
export function firingAlert(status: DatabaseMonitorStatus | undefined, now: Date) {
  const active = activeAlert(status);
  return active && active.firesAt <= now.getTime() ? active : undefined;
}

/** The latest transition of Ready or Stalled: when the monitor last stopped (or started) alerting. */
function lastTransition(status: DatabaseMonitorStatus | undefined): string | undefined {
  const times = [T.Ready, T.Stalled]
    .map((type) => findCondition(status?.conditions, type)?.lastTransitionTime)
    .filter((t): t is string => t !== undefined);
  return times.sort().at(-1);
}

/**
 * The alerts to post for one monitor at `now`: its firing alert, and a resolve for every other direct alert
 * it may have fired — while another one fires (its kind changed), or for `resolveWindowMs` after its last
 * transition (a resolve a dead replica did not deliver is delivered by the next owner). A resolve for an alert
 * Alertmanager never had notifies nobody (its notification log has no firing entry for it).
 */
export function monitorAlerts(monitor: MonitorObject, now: Date, resolveWindowMs: number): DirectAlert[] {
  const namespace = monitor.metadata?.namespace;
  const name = monitor.metadata?.name;
  const status = monitor.status;
  if (!namespace || !name || !status) return [];
  const engine = (monitor.spec as { engine?: unknown } | undefined)?.engine;
  const firing = firingAlert(status, now);
  const quietSince = firing ? undefined : lastTransition(status);
  if (!firing && (quietSince === undefined || now.getTime() - Date.parse(quietSince) >= resolveWindowMs)) return [];
  const reason = monitorReason(status);
  const detail = (findCondition(status.conditions, T.Ready)?.message ?? '').slice(0, DETAIL_MAX);
  const failedMigrations = status.health?.migrationStatus?.failedMigrations.length ?? 0;
  return DIRECT_ALERTS.map((alertname): DirectAlert => {
    const base = {
      alertname,
      namespace,
      name,
      ...(typeof engine === 'string' ? { engine } : {}),
      reason,
      detail,
      failedMigrations,
    };
    if (firing?.alertname === alertname) return { ...base, startsAt: firing.since };
    // Resolved no later than when the current episode (or the quiet period) began. startsAt = endsAt: a
    // resolve must not start after an earlier firing post of the same alert, and must never look active.
    const endsAt = firing?.since ?? (quietSince as string);
    return { ...base, startsAt: endsAt, endsAt };
  });
}

/** Identity of an alert in the queue and in Alertmanager (its label set minus the constant extra labels). */
export const alertKey = (a: Pick<DirectAlert, 'alertname' | 'namespace' | 'name'>) =>
  `${a.alertname}/${a.namespace}/${a.name}`;

const RUNBOOK = 'https://github.com/dbwatch/dbwatch/blob/main/docs/observability.md#';

/** Severity, summary and runbook exactly as in deploy/prometheus/dbwatch-rules.yaml (a unit test compares). */
export const ALERT_TEXT: Record<
  (typeof DIRECT_ALERTS)[number],
  { severity: Severity; summary: (a: DirectAlert) => string; description: (a: DirectAlert) => string }
> = {
  DbwatchDatabaseDown: {
    severity: Severity.Critical,
    summary: (a) => `Database ${a.namespace}/${a.name} is down`,
    description: (a) =>
      `dbwatch has not reached ${a.engine ?? 'the'} database ${a.namespace}/${a.name} since ${a.startsAt}: ${a.detail}. ` +
      `\`kubectl describe dbmon ${a.name} -n ${a.namespace}\` shows the cause (Connected condition, status.diagnostics).`,
  },
  DbwatchMigrationsFailed: {
    severity: Severity.Critical,
    summary: (a) => `Database ${a.namespace}/${a.name} has ${a.failedMigrations} failed migrations`,
    description: (a) => `The migration tool recorded a failed migration; the schema may be half-applied (${a.detail}).`,
  },
  DbwatchDatabaseDegraded: {
    severity: Severity.Warning,
    summary: (a) => `Database ${a.namespace}/${a.name} is degraded`,
    description: (a) =>
      `${a.namespace}/${a.name} has been degraded since ${a.startsAt} (${a.detail}): see status.alerts and the Ready condition.`,
  },
};

export const runbookUrl = (alertname: AlertName) => `${RUNBOOK}${alertname.toLowerCase()}`;

/** Alertmanager's v2 PostableAlert. */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
}

/**
 * The label set is the alert's identity in Alertmanager: only names that never change while the alert is
 * active (no error text, no reason — that is an annotation), the same as the rules give theirs.
 */
export function toPostable(
  a: DirectAlert,
  extraLabels: Readonly<Record<string, string>>,
  firingEndsAt: string,
): PostableAlert {
  const text = ALERT_TEXT[a.alertname as (typeof DIRECT_ALERTS)[number]];
  return {
    labels: {
      ...extraLabels,
      alertname: a.alertname,
      severity: text.severity,
      namespace: a.namespace,
      name: a.name,
      monitor: a.name,
      ...(a.engine ? { engine: a.engine } : {}),
    },
    annotations: {
      summary: text.summary(a),
      description: text.description(a),
      reason: a.reason,
      runbook_url: runbookUrl(a.alertname),
    },
    startsAt: a.startsAt,
    endsAt: a.endsAt ?? firingEndsAt,
  };
}
