import { performance as clock } from 'node:perf_hooks';
import type {
  DatabaseMonitorSpec,
  DiagnosticsResult,
  HealthResult,
  LoginResult,
  MigrationStatus,
  MigrationsCheck,
  PerformanceResult,
  PgbouncerResult,
  PoolResult,
} from '../api/index.js';
import type { ResolveResult } from './connection-config.js';
import { cleanupReserveMs, Deadline } from './deadline.js';
import { diagnoseConnectivity, diagnosticsBudgetMs } from './diagnostics.js';
import type { ClassifiedError, ConnectionConfig, DatabaseEngine } from './engine.js';
import { type ConnectionProbe, healthResult, probeConnection, probeLogin } from './health.js';
import { readMigrationStatus } from './migrations/read-migrations.js';
import { BUDGET_EXHAUSTED, measurePerformance } from './performance.js';
import { checkPgbouncer } from './pgbouncer-pools.js';
import { assessPool, checkPool } from './pool.js';
import { errorMessage, redact, redactDeep, secretsOf } from './redact.js';
import { round2 } from './timeout.js';

export interface MonitorReport {
  health: HealthResult;
  pool?: PoolResult;
  pgbouncer?: PgbouncerResult;
  performance?: PerformanceResult;
  diagnostics?: DiagnosticsResult;
  alerts: string[];
  /** Milliseconds each step took (rounded to 0.01 ms), for metrics and the CLI (never stored in status). */
  durations: Partial<Record<CheckName, number>>;
}

export type CheckName = 'health' | 'login' | 'migrations' | 'pool' | 'pgbouncer' | 'performance' | 'diagnostics';

export interface MonitorRunOptions {
  /** Performance has its own, longer interval; the caller decides whether it is due. */
  includePerformance: boolean;
  /** A fresh login in this pass (the caller's schedule); one also runs whenever the warm session fails. */
  freshLogin?: boolean;
  /** Fresh engines for diagnostics and for callers without a long-lived pool. */
  makeEngine: () => DatabaseEngine;
  now?: () => Date;
}

/**
 * One monitoring pass: connection + test query, migrations, pool, performance when due, and
 * diagnostics when the database is unreachable. Never throws. timeoutSeconds bounds the pass: each step
 * gets what is left, minus a small reserve for cleaning up a statement that overran; a connection attempt
 * gets at most connectTimeoutSeconds. Diagnostics, which only run after a failure, have a small budget of their
 * own (connectTimeoutSeconds + 2 s, see diagnostics.ts), so a host that never answers costs two connect
 * timeouts and a little more, not the rest of timeoutSeconds.
 */
export async function runMonitorChecks(
  engine: DatabaseEngine,
  spec: DatabaseMonitorSpec,
  resolved: Extract<ResolveResult, { ok: true }>,
  options: MonitorRunOptions,
): Promise<MonitorReport> {
  const now = options.now ?? (() => new Date());
  const budgetMs = spec.timeoutSeconds * 1000;
  const deadline = new Deadline(budgetMs - cleanupReserveMs(budgetMs));
  const secrets = secretsOf(resolved.config);
  // A session that dies under any step (not only the test query) is the pass's connection result.
  let lost: ClassifiedError | undefined;
  const describe = (e: unknown) => {
    const classified = engine.classifyError(e);
    if (classified.cause === 'ConnectionLost') lost ??= classified;
    return redact(errorMessage(e), secrets);
  };

  const durations: MonitorReport['durations'] = {};
  const step = async <T>(name: CheckName, work: () => Promise<T>): Promise<T> => {
    const started = clock.now();
    try {
      return await work();
    } finally {
      durations[name] = round2(clock.now() - started);
    }
  };
  const left = () => Math.max(1, deadline.remainingMs());

  // PgBouncer's admin console is a connection of its own, read before the probe: a paused or saturated
  // pool is often why the probe hangs, and a hung probe must not leave it no time. (Read beside the probe,
  // the probe itself would show up among the waiting clients.)
  const pgbouncerCheck = spec.checks.pgbouncer;
  const console = resolved.pgbouncerConsole;
  const pgbouncer =
    pgbouncerCheck && console
      ? await step('pgbouncer', () =>
          checkPgbouncer(
            console,
            pgbouncerCheck,
            resolved.config.database,
            spec.thresholds.poolUtilizationPercent,
            Math.min(left(), console.connectTimeoutMs),
            describe,
          ),
        )
      : undefined;
  // A pool without a session logs in for the probe: that login is the fresh one a new pool (the first check, a
  // taken-over monitor) would otherwise repeat (a second SCRAM exchange for nothing).
  const probeLogsIn = sessionsOf(engine) === 0;
  const probe = explainProbe(await step('health', () => probeConnection(engine, left())), resolved.config);
  const up = probe.connection && probe.queryTest;
  // After the warm session failed on a query or was lost, a login tells whether new connections work. A
  // probe that could not connect at all was itself a login (the pool connects afresh): no second attempt.
  const warmFailed = !up && (probe.connection || probe.failure?.cause === 'ConnectionLost');
  const login: LoginResult | undefined =
    options.freshLogin && probeLogsIn && up
      ? { succeeded: true, durationMs: probe.responseTimeMs ?? 0 }
      : (options.freshLogin || warmFailed) && !deadline.expired
        ? await step('login', () => probeLogin(engine, left()))
        : undefined;
  // Informational (version, read-only); a failure to read it is not a failure of the database.
  const database = up && !deadline.expired ? await engine.databaseInfo(left()).catch(() => undefined) : undefined;
  const migrations = spec.checks.migrations;
  const migrationStatus =
    up && migrations
      ? await step('migrations', () =>
          deadline.expired
            ? Promise.resolve(migrationsNotRead(migrations))
            : readMigrationStatus(engine, migrations, left(), describe),
        )
      : undefined;
  const pool =
    up && spec.checks.pool.enabled
      ? await step('pool', () =>
          deadline.expired
            ? Promise.resolve(
                assessPool(undefined, engine.poolStats(), spec.thresholds.poolUtilizationPercent, BUDGET_EXHAUSTED),
              )
            : checkPool(engine, spec.thresholds.poolUtilizationPercent, left(), describe),
        )
      : undefined;
  const reachable = up && lost === undefined;
  const rate = (measured: ConnectionProbe) =>
    healthResult(
      {
        probe: measured,
        ...(login ? { login } : {}),
        ...(database ? { database } : {}),
        ...(migrationStatus ? { migrationStatus } : {}),
        ...(pool ? { pool } : {}),
        ...(pgbouncer ? { pgbouncer } : {}),
      },
      spec.thresholds,
      now(),
    );
  let health = rate(pausedProbe(lost ? lostProbe(probe, lost) : probe, pgbouncer));
  const performance =
    reachable && options.includePerformance && spec.checks.performance
      ? await step('performance', () => measurePerformance(engine, spec.checks.performance!, deadline, describe, now))
      : undefined;
  const diagnostics =
    health.status === 'unhealthy' && !reachable
      ? await step('diagnostics', () => {
          // Diagnostics have a budget of their own: a pass that spent its time on a dead host still says why.
          const own = new Deadline(diagnosticsBudgetMs(resolved.config));
          return diagnoseConnectivity(resolved, options.makeEngine, own, describe, now);
        })
      : undefined;
  // The driver saw a closed or silent socket; diagnostics found out that another protocol answers there.
  const wrongProtocol = wrongProtocolOf(diagnostics);
  if (wrongProtocol) health = rate({ connection: false, queryTest: false, failure: wrongProtocol });
  const report: MonitorReport = {
    health,
    ...(pool ? { pool } : {}),
    ...(pgbouncer ? { pgbouncer } : {}),
    ...(performance ? { performance } : {}),
    ...(diagnostics ? { diagnostics } : {}),
    alerts: alertsFor(health, performance),
    durations,
  };
  // Whatever field the password also sits in (a username, a host, a query error), it is never shown.
  return redactDeep(report, secrets);
}

/** Sessions the engine's pool holds (checked out or idle): none means its next query logs in. */
function sessionsOf(engine: DatabaseEngine): number {
  const stats = engine.poolStats();
  return stats.checkedOut + stats.idle;
}

/** A connect timeout says how long it waited and for whom; the driver's words ("timeout expired") do not. */
function explainProbe(probe: ConnectionProbe, config: ConnectionConfig): ConnectionProbe {
  if (probe.failure?.cause !== 'ConnectTimeout') return probe;
  const message = `no answer from ${config.host}:${config.port} within ${config.connectTimeoutMs} ms (connectTimeoutSeconds)`;
  return { ...probe, failure: { ...probe.failure, message } };
}

function wrongProtocolOf(diagnostics: DiagnosticsResult | undefined): ClassifiedError | undefined {
  const { failureReason, failedStage, stages } = diagnostics?.connectivity ?? {};
  if (failureReason !== 'WrongProtocol') return undefined;
  const detail = stages?.find((s) => s.name === failedStage)?.detail ?? 'the port speaks another protocol';
  return { stage: 'tcp', cause: 'WrongProtocol', message: detail };
}

function lostProbe(probe: ConnectionProbe, lost: ClassifiedError): ConnectionProbe {
  if (!probe.connection || !probe.queryTest) return probe;
  return {
    connection: false,
    queryTest: false,
    failure: { ...lost, message: `session lost during the check: ${lost.message}` },
  };
}

/**
 * A probe that timed out behind a paused PgBouncer database failed because of the pause: say so. The login
 * to PgBouncer may have worked, but no server connection can be had, so the database is not reachable.
 */
function pausedProbe(probe: ConnectionProbe, pgbouncer: PgbouncerResult | undefined): ConnectionProbe {
  if (probe.queryTest || pgbouncer?.reason !== 'Paused' || probe.failure?.stage !== 'timeout') return probe;
  return {
    connection: false,
    queryTest: false,
    failure: { stage: 'database', cause: 'PoolerPaused', message: pgbouncer.recommendation },
  };
}

function migrationsNotRead(spec: MigrationsCheck): MigrationStatus {
  return {
    tool: spec.tool,
    table: spec.table ?? spec.tool,
    appliedCount: 0,
    pendingMigrations: [],
    failedMigrations: [],
    error: BUDGET_EXHAUSTED,
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
