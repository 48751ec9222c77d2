import { getHeapStatistics } from 'node:v8';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { DatabaseMonitorStatus, HealthStatus, PrerequisiteStatus } from '../../api/index.js';
import type { CheckName } from '../../checks/index.js';
import { targetRatio } from '../monitor/availability.js';
import { monitorReason } from '../monitor/reason.js';
import type { SenderMetrics } from '../notify/sender-metrics.js';
import { PgbouncerMetrics } from './pgbouncer-metrics.js';

const MONITOR_LABELS = ['namespace', 'name', 'engine'] as const;
const LAG_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * Prometheus metrics named dbwatch_<thing>_<unit>. Labels identify objects only: error text and
 * secrets never become label values (they would also explode series counts).
 */
export class OperatorMetrics {
  readonly registry = new Registry();
  private readonly up = this.gauge(
    'dbwatch_database_up',
    '1 when the last check connected and ran the test query',
    MONITOR_LABELS,
  );
  private readonly health = this.gauge('dbwatch_database_health', '1 for the current (debounced) health status', [
    ...MONITOR_LABELS,
    'status',
  ]);
  /** One series per monitor: the rules read it for their `reason` annotation (never a label of an alert). */
  private readonly reason = this.gauge(
    'dbwatch_database_status_reason',
    '1 for the CamelCase reason of the monitor state (ConnectionRefused, MigrationFailed, Healthy, InvalidSpec...)',
    [...MONITOR_LABELS, 'reason'],
  );
  /** namespace/name → the reason series set, so a new reason replaces the old series. */
  private readonly reasons = new Map<string, { engine: string; reason: string }>();
  private readonly response = this.gauge(
    'dbwatch_database_response_time_seconds',
    'Connect + test query time of the last check',
    MONITOR_LABELS,
  );
  private readonly utilization = this.gauge(
    'dbwatch_database_connection_utilization_ratio',
    'Server connections in use / usable maximum',
    MONITOR_LABELS,
  );
  private readonly pending = this.gauge(
    'dbwatch_database_pending_migrations',
    'Pending migrations against the expectation',
    MONITOR_LABELS,
  );
  private readonly failedMigrations = this.gauge(
    'dbwatch_database_failed_migrations',
    'Failed migrations recorded by the tool',
    MONITOR_LABELS,
  );
  private readonly failures = this.gauge(
    'dbwatch_database_consecutive_failures',
    'Unhealthy checks in a row',
    MONITOR_LABELS,
  );
  private readonly lastSuccess = this.gauge(
    'dbwatch_database_last_success_timestamp_seconds',
    'Unix time of the last healthy check',
    MONITOR_LABELS,
  );
  private readonly lastCheckAt = this.gauge(
    'dbwatch_database_last_check_timestamp_seconds',
    'Unix time the last check started (every check; status.lastCheckTime is rewritten only on a change or the heartbeat)',
    MONITOR_LABELS,
  );
  readonly skippedChecks = new Counter({
    name: 'dbwatch_checks_skipped_total',
    help: 'Schedule slots passed without a check because the previous check of the object overran them',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  private readonly availability = this.gauge(
    'dbwatch_database_availability_ratio',
    'Share of checks in which the database was reachable and healthy, over the window (24h or 7d)',
    [...MONITOR_LABELS, 'window'],
  );
  private readonly sloTarget = this.gauge(
    'dbwatch_database_slo_target_ratio',
    'spec.slo.target as a ratio (0.999 for "99.9"), when set',
    MONITOR_LABELS,
  );
  /** Not per monitor: monitors × checks × buckets would dwarf everything else (per-monitor figures are gauges). */
  readonly checkDuration = new Histogram({
    name: 'dbwatch_check_duration_seconds',
    help: 'Duration of each check, over all monitors',
    labelNames: ['engine', 'check'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly scheduleLag = new Histogram({
    name: 'dbwatch_schedule_lag_seconds',
    help: 'Database check start minus the time it was due; host_limited: its host was at CHECKS_PER_HOST',
    labelNames: ['host_limited'],
    buckets: LAG_BUCKETS,
    registers: [this.registry],
  });
  readonly checkQueueWait = new Histogram({
    name: 'dbwatch_check_queue_wait_seconds',
    help: 'Time a due check waited for a free slot (overall or for its host)',
    buckets: LAG_BUCKETS,
    registers: [this.registry],
  });
  readonly workqueueWait = new Histogram({
    name: 'dbwatch_workqueue_wait_seconds',
    help: 'Time a key waited in the work queue for a worker',
    buckets: LAG_BUCKETS,
    registers: [this.registry],
  });
  readonly checksRunning = this.gauge('dbwatch_checks_running', 'Database checks running now', []);
  readonly checksWaiting = this.gauge('dbwatch_checks_waiting', 'Due database checks waiting for a slot', []);
  readonly apiThrottled = new Counter({
    name: 'dbwatch_api_requests_throttled_total',
    help: 'Kubernetes API requests delayed by the client-side rate limit',
    registers: [this.registry],
  });
  readonly apiThrottleWait = new Counter({
    name: 'dbwatch_api_throttle_wait_seconds_total',
    help: 'Time Kubernetes API requests spent waiting for the client-side rate limit',
    registers: [this.registry],
  });
  readonly apiRetries = new Counter({
    name: 'dbwatch_api_request_retries_total',
    help: 'Kubernetes API requests retried: a 429 or 5xx with Retry-After (code is the HTTP status), or a reset GET',
    labelNames: ['code'],
    registers: [this.registry],
  });
  private readonly prerequisite = this.gauge('dbwatch_prerequisite_status', '1 for the current prerequisite status', [
    'namespace',
    'name',
    'status',
  ]);
  readonly reconciles = new Counter({
    name: 'dbwatch_reconcile_total',
    help: 'Reconciles by kind and result',
    labelNames: ['kind', 'result'],
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'dbwatch_reconcile_errors_total',
    help: 'Reconciles that failed and were retried with backoff',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly statusWrites = new Counter({
    name: 'dbwatch_status_writes_total',
    help: 'Status subresource writes by kind and why',
    labelNames: ['kind', 'why'],
    registers: [this.registry],
  });
  readonly queueDepth = this.gauge('dbwatch_workqueue_depth', 'Keys waiting in the work queue', []);
  readonly leader = this.gauge(
    'dbwatch_leader',
    '1 while this instance holds the leader Lease (sharded: always 1)',
    [],
  );
  readonly shardObjects = this.gauge(
    'dbwatch_shard_objects',
    'Objects (monitors, prerequisites, discoveries) this replica owns when sharded',
    [],
  );
  readonly shardMembers = this.gauge('dbwatch_shard_members', 'Live members of the shard group this replica sees', []);
  readonly watchErrors = new Counter({
    name: 'dbwatch_watch_errors_total',
    help: 'Watch failures that were restarted',
    labelNames: ['resource'],
    registers: [this.registry],
  });

  private readonly alertsSent = new Counter({
    name: 'dbwatch_alertmanager_alerts_sent_total',
    help: 'Alerts (firing and resolved) Alertmanager accepted, per Alertmanager URL',
    labelNames: ['alertmanager'],
    registers: [this.registry],
  });
  private readonly postFailures = new Counter({
    name: 'dbwatch_alertmanager_post_failures_total',
    help: 'POSTs to Alertmanager that failed (no answer in time, refused, HTTP error); retried with backoff',
    labelNames: ['alertmanager'],
    registers: [this.registry],
  });
  private readonly alertsDropped = new Counter({
    name: 'dbwatch_alertmanager_alerts_dropped_total',
    help: 'Alerts dropped: queue_full (sent again at the next resend) or rejected by Alertmanager (HTTP 4xx)',
    labelNames: ['alertmanager', 'reason'],
    registers: [this.registry],
  });
  private readonly alertQueue = this.gauge(
    'dbwatch_alertmanager_queue_length',
    'Alerts waiting to be posted, per Alertmanager URL',
    ['alertmanager'],
  );
  /** The direct notifier's figures (src/controller/notify). */
  readonly alertmanager: SenderMetrics = {
    sent: (alertmanager, count) => this.alertsSent.inc({ alertmanager }, count),
    postFailed: (alertmanager) => this.postFailures.inc({ alertmanager }),
    dropped: (alertmanager, reason, count) => this.alertsDropped.inc({ alertmanager, reason }, count),
    queueLength: (alertmanager, length) => this.alertQueue.set({ alertmanager }, length),
  };

  /** V8's heap limit (the chart sets it with heapLimitMiB): beside the used heap, how close the operator is to it. */
  readonly heapLimit = new Gauge({
    name: 'dbwatch_process_heap_size_limit_bytes',
    help: "V8's heap size limit (--max-old-space-size plus the young generation)",
    registers: [this.registry],
    collect() {
      this.set(getHeapStatistics().heap_size_limit);
    },
  });

  private readonly pgbouncer = new PgbouncerMetrics(this.registry);

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'dbwatch_process_' });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: readonly L[]) {
    return new Gauge<L>({ name, help, labelNames: [...labelNames], registers: [this.registry] });
  }

  /**
   * Follows the status exactly: a value the status does not carry (not measured, check not configured,
   * monitor stalled or suspended) has no series, and up is 0 unless the last check reached the database.
   */
  recordMonitor(namespace: string, name: string, engine: string, status: DatabaseMonitorStatus): void {
    const labels = { namespace, name, engine };
    const h = status.health;
    const setOrRemove = (gauge: Gauge<(typeof MONITOR_LABELS)[number]>, value: number | undefined) =>
      value === undefined ? gauge.remove(labels) : gauge.set(labels, value);
    this.up.set(labels, h?.connection && h.queryTest ? 1 : 0);
    for (const s of ['healthy', 'degraded', 'unhealthy'] satisfies HealthStatus[]) {
      this.health.set({ namespace, name, engine, status: s }, status.status === s ? 1 : 0);
    }
    setOrRemove(this.response, h?.responseTimeMs === undefined ? undefined : h.responseTimeMs / 1000);
    const utilization = status.pool?.utilizationPercent;
    setOrRemove(this.utilization, utilization === undefined ? undefined : utilization / 100);
    setOrRemove(this.pending, h?.migrationStatus?.pendingMigrations.length);
    setOrRemove(this.failedMigrations, h?.migrationStatus?.failedMigrations.length);
    setOrRemove(this.failures, status.consecutiveFailures);
    if (status.lastSuccessTime) this.lastSuccess.set(labels, Date.parse(status.lastSuccessTime) / 1000);
    const a = status.availability;
    for (const [window, value] of [
      ['24h', a?.last24h],
      ['7d', a?.last7d],
    ] as const) {
      // Label objects spelled out, not spread: see conditions.ts.
      if (value === undefined) this.availability.remove({ namespace, name, engine, window });
      else this.availability.set({ namespace, name, engine, window }, value);
    }
    setOrRemove(this.sloTarget, a?.target === undefined ? undefined : targetRatio(a.target));
    this.pgbouncer.record(namespace, name, status.pgbouncer);
    this.setReason(namespace, name, engine, monitorReason(status));
  }

  private setReason(namespace: string, name: string, engine: string, reason: string | undefined): void {
    const key = `${namespace}/${name}`;
    const previous = this.reasons.get(key);
    if (previous?.reason === reason && previous?.engine === engine) return;
    if (previous) this.reason.remove({ namespace, name, engine: previous.engine, reason: previous.reason });
    if (reason === undefined) this.reasons.delete(key);
    else {
      this.reasons.set(key, { engine, reason });
      this.reason.set({ namespace, name, engine, reason }, 1);
    }
  }

  lastCheck(namespace: string, name: string, engine: string, startedMs: number): void {
    this.lastCheckAt.set({ namespace, name, engine }, startedMs / 1000);
  }

  /** Check durations arrive in milliseconds (MonitorReport.durations); the histogram is in seconds. */
  observeCheckDurations(engine: string, durations: Partial<Record<CheckName, number>>): void {
    // The report has milliseconds; Prometheus convention is seconds.
    for (const [check, ms] of Object.entries(durations)) this.checkDuration.observe({ engine, check }, ms / 1000);
  }

  recordPrerequisite(namespace: string, name: string, status: PrerequisiteStatus): void {
    for (const s of ['passed', 'warning', 'failed'] satisfies PrerequisiteStatus[]) {
      this.prerequisite.set({ namespace, name, status: s }, status === s ? 1 : 0);
    }
  }

  /** Drops every series of a deleted monitor (prom-client removes by exact label set). */
  forgetMonitor(namespace: string, name: string, engine: string): void {
    const labels = { namespace, name, engine };
    for (const metric of [
      this.up,
      this.response,
      this.utilization,
      this.pending,
      this.failedMigrations,
      this.failures,
      this.lastSuccess,
      this.lastCheckAt,
    ]) {
      metric.remove(labels);
    }
    for (const status of ['healthy', 'degraded', 'unhealthy']) this.health.remove({ ...labels, status });
    for (const window of ['24h', '7d']) this.availability.remove({ ...labels, window });
    this.sloTarget.remove(labels);
    this.pgbouncer.forget(namespace, name);
    this.setReason(namespace, name, engine, undefined);
  }

  forgetPrerequisite(namespace: string, name: string): void {
    for (const status of ['passed', 'warning', 'failed']) this.prerequisite.remove({ namespace, name, status });
  }
}

export const CHECKS: CheckName[] = ['health', 'login', 'migrations', 'pool', 'pgbouncer', 'performance', 'diagnostics'];
