import { performance as clock } from 'node:perf_hooks';
import type {
  DatabaseMonitorSpec,
  DiagnosticsResult,
  HealthResult,
  PerformanceResult,
  PoolResult,
} from '../api/index.js';
import type { ResolveResult } from './connection-config.js';
import { diagnoseConnectivity } from './diagnostics.js';
import type { DatabaseEngine } from './engine.js';
import { healthResult, probeConnection } from './health.js';
import { readMigrationStatus } from './migrations/read-migrations.js';
import { measurePerformance } from './performance.js';
import { checkPool } from './pool.js';
import { errorMessage, redact, secretsOf } from './redact.js';

export interface MonitorReport {
  health: HealthResult;
  pool?: PoolResult;
  performance?: PerformanceResult;
  diagnostics?: DiagnosticsResult;
  alerts: string[];
  /** Seconds each step took, for metrics (never stored in status). */
  durations: Partial<Record<CheckName, number>>;
}

export type CheckName = 'health' | 'migrations' | 'pool' | 'performance' | 'diagnostics';

export interface MonitorRunOptions {
  /** Performance has its own, longer interval; the caller decides whether it is due. */
  includePerformance: boolean;
  /** Fresh engines for diagnostics and for callers without a long-lived pool. */
  makeEngine: () => DatabaseEngine;
  now?: () => Date;
}

/**
 * One monitoring pass: connection + test query, migrations, pool, performance when due, and
 * diagnostics when the database is unhealthy. Never throws; every step is bounded by timeoutSeconds.
 */
export async function runMonitorChecks(
  engine: DatabaseEngine,
  spec: DatabaseMonitorSpec,
  resolved: Extract<ResolveResult, { ok: true }>,
  options: MonitorRunOptions,
): Promise<MonitorReport> {
  const now = options.now ?? (() => new Date());
  const timeoutMs = spec.timeoutSeconds * 1000;
  const secrets = secretsOf(resolved.config);
  const describe = (e: unknown) => redact(errorMessage(e), secrets);

  const durations: MonitorReport['durations'] = {};
  const step = async <T>(name: CheckName, work: () => Promise<T>): Promise<T> => {
    const started = clock.now();
    try {
      return await work();
    } finally {
      durations[name] = (clock.now() - started) / 1000;
    }
  };

  const probe = await step('health', () => probeConnection(engine, timeoutMs));
  if (probe.failure) probe.failure = { ...probe.failure, message: redact(probe.failure.message, secrets) };
  const up = probe.connection && probe.queryTest;
  // Informational (version, read-only); a failure to read it is not a failure of the database.
  const database = up ? await engine.databaseInfo(timeoutMs).catch(() => undefined) : undefined;
  const migrationStatus =
    up && spec.checks.migrations
      ? await step('migrations', () => readMigrationStatus(engine, spec.checks.migrations!, timeoutMs, describe))
      : undefined;
  const pool =
    up && spec.checks.pool.enabled
      ? await step('pool', () => checkPool(engine, spec.thresholds.poolUtilizationPercent, timeoutMs, describe))
      : undefined;
  const health = healthResult(
    {
      probe,
      ...(database ? { database } : {}),
      ...(migrationStatus ? { migrationStatus } : {}),
      ...(pool ? { pool } : {}),
    },
    spec.thresholds,
    now(),
  );
  const performance =
    up && options.includePerformance && spec.checks.performance
      ? await step('performance', () => measurePerformance(engine, spec.checks.performance!, timeoutMs, describe, now))
      : undefined;
  const diagnostics =
    health.status === 'unhealthy' && !up
      ? await step('diagnostics', () => diagnoseConnectivity(resolved, options.makeEngine, timeoutMs, describe, now))
      : undefined;
  return {
    health,
    ...(pool ? { pool } : {}),
    ...(performance ? { performance } : {}),
    ...(diagnostics ? { diagnostics } : {}),
    alerts: alertsFor(health, performance),
    durations,
  };
}

function alertsFor(health: HealthResult, performance?: PerformanceResult): string[] {
  const alerts = health.reasons.map((r) => `${health.status}: ${r}`);
  if (performance?.overallAssessment.performanceRating === 'poor') {
    alerts.push(
      `performance is poor (Apdex ${performance.overallAssessment.apdex} against ${performance.overallAssessment.targetMs} ms)`,
    );
  }
  return alerts;
}
