import {
  type DatabaseMonitorSpec,
  type DatabaseValidation,
  databaseMonitorSpecSchema,
  type PrerequisiteDatabase,
  type PrerequisiteResult,
  type PrerequisiteStatus,
} from '../api/index.js';
import type { MonitorReport } from './monitor.js';

export interface ValidationOptions {
  checkMigrations: boolean;
  performanceThresholdMs: number;
}

/**
 * Failed: unreachable, test query failing, failed or pending migrations. Warning: slower than the
 * threshold, high connection utilization, or configured migrations whose table cannot be read or whose
 * state the table alone cannot decide (`unknownReason`). A
 * database without migration configuration is judged on the rest: checkMigrations judges migrations
 * where they are configured (monitor's or inline checks.migrations), it does not demand them.
 */
export function validateDatabase(
  name: string,
  { health, pool }: Pick<MonitorReport, 'health' | 'pool'>,
  options: ValidationOptions,
): DatabaseValidation {
  const failed: string[] = [];
  const warnings: string[] = [];
  const m = health.migrationStatus;
  if (!health.connection) failed.push(`cannot connect: ${health.error ?? 'unknown error'}`);
  else if (!health.queryTest) failed.push(`test query failed: ${health.error ?? 'unknown error'}`);
  if (options.checkMigrations && health.connection) {
    if (m?.error) warnings.push(`migration status unknown: ${m.error}`);
    // The table alone cannot tell (Alembic ancestry, tools that run missing older migrations): not proven ready.
    else if (m?.unknownReason) warnings.push(`migration status unknown: ${m.unknownReason}`);
    if (m && m.failedMigrations.length > 0) failed.push(`failed migrations: ${m.failedMigrations.join(', ')}`);
    if (m && m.pendingMigrations.length > 0) failed.push(`pending migrations: ${m.pendingMigrations.join(', ')}`);
  }
  if (health.responseTimeMs !== undefined && health.responseTimeMs > options.performanceThresholdMs) {
    warnings.push(
      `response time ${health.responseTimeMs} ms is over the ${options.performanceThresholdMs} ms threshold`,
    );
  }
  if (pool?.poolHealth === 'high') warnings.push(`connection utilization is high: ${pool.overflowAnalysis}`);
  const status: PrerequisiteStatus = failed.length > 0 ? 'failed' : warnings.length > 0 ? 'warning' : 'passed';
  return {
    name,
    status,
    issues: [...failed, ...warnings],
    health: health.status,
    ...(health.responseTimeMs !== undefined ? { responseTimeMs: health.responseTimeMs } : {}),
  };
}

/** A database that could not be checked at all (bad reference, missing Secret). */
export function unavailableDatabase(name: string, issue: string): DatabaseValidation {
  return { name, status: 'failed', issues: [issue] };
}

export function summarizeValidation(databases: DatabaseValidation[]): PrerequisiteResult {
  const count = (s: PrerequisiteStatus) => databases.filter((d) => d.status === s).length;
  const summary = {
    passed: count('passed'),
    warning: count('warning'),
    failed: count('failed'),
    total: databases.length,
  };
  const overallStatus: PrerequisiteStatus = summary.failed > 0 ? 'failed' : summary.warning > 0 ? 'warning' : 'passed';
  return { overallStatus, databases, summary };
}

/** The monitor spec an inline prerequisite database is checked with (performance never runs for a gate). */
export function inlineMonitorSpec(db: PrerequisiteDatabase): DatabaseMonitorSpec {
  return databaseMonitorSpecSchema.parse({
    engine: db.engine,
    connection: db.connection,
    ...(db.checks?.migrations ? { checks: { migrations: db.checks.migrations } } : {}),
  });
}

/** One line for a result: each database that did not pass with its issues, or how many passed (as Ready says). */
export function prerequisiteMessage(result: PrerequisiteResult): string {
  const problems = result.databases
    .filter((d) => d.status !== 'passed')
    .map((d) => `${d.name}: ${d.issues.join('; ')}`);
  return problems.length === 0 ? `all ${result.summary.total} database(s) passed` : problems.join(' | ');
}
