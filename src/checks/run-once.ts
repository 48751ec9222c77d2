import type {
  DatabaseMonitorSpec,
  DatabasePrerequisiteSpec,
  DatabaseValidation,
  PrerequisiteResult,
} from '../api/index.js';
import {
  type ResolveResult,
  resolveConnection,
  type SecretLookup,
  withCa,
  withPgbouncerConsole,
} from './connection-config.js';
import { createEngine } from './engines/index.js';
import { type MonitorReport, runMonitorChecks } from './monitor.js';
import { inlineMonitorSpec, summarizeValidation, unavailableDatabase, validateDatabase } from './prerequisite.js';

/**
 * The connection a monitor's checks use: its Secret resolved, its CA added and, with checks.pgbouncer,
 * PgBouncer's admin console. (Server-side limits travel with each statement: postgres-statements.ts.)
 */
export function resolveMonitorConnection(
  spec: Pick<DatabaseMonitorSpec, 'engine' | 'connection'> & Partial<Pick<DatabaseMonitorSpec, 'checks'>>,
  lookup: SecretLookup,
): ResolveResult {
  return withPgbouncerConsole(
    withCa(resolveConnection(spec.engine, spec.connection, lookup), spec.connection, lookup),
    spec.checks?.pgbouncer,
    lookup,
  );
}

/** Resolves, connects with a fresh pool, runs every configured check once, and closes. */
export async function checkMonitorOnce(
  spec: DatabaseMonitorSpec,
  resolved: Extract<ResolveResult, { ok: true }>,
): Promise<MonitorReport> {
  const engine = createEngine(resolved.config);
  try {
    return await runMonitorChecks(engine, spec, resolved, {
      includePerformance: true,
      makeEngine: () => createEngine(resolved.config, { poolSize: 1 }),
    });
  } finally {
    await engine.close();
  }
}

/** The monitor spec a prerequisite uses for a database: its monitor's, or one built from the inline connection. */
export function prerequisiteTargetSpec(
  db: DatabasePrerequisiteSpec['databases'][number],
  monitors: (name: string) => DatabaseMonitorSpec | undefined,
): DatabaseMonitorSpec | string {
  if (db.monitorRef) {
    return monitors(db.monitorRef.name) ?? `DatabaseMonitor ${db.monitorRef.name} not found in this namespace`;
  }
  return inlineMonitorSpec(db);
}

/** Checks every database (one failing never stops the others) and summarizes. */
export async function checkPrerequisiteOnce(
  spec: DatabasePrerequisiteSpec,
  monitors: (name: string) => DatabaseMonitorSpec | undefined,
  lookup: SecretLookup,
): Promise<PrerequisiteResult> {
  const options = { checkMigrations: spec.checkMigrations, performanceThresholdMs: spec.performanceThresholdMs };
  const results = await Promise.all(
    spec.databases.map(async (db): Promise<DatabaseValidation> => {
      const target = prerequisiteTargetSpec(db, monitors);
      if (typeof target === 'string') return unavailableDatabase(db.name, target);
      const resolved = resolveMonitorConnection(target, lookup);
      if (!resolved.ok) return unavailableDatabase(db.name, resolved.message);
      const checks = { ...target.checks, performance: undefined };
      const report = await checkMonitorOnce({ ...target, checks }, resolved);
      return validateDatabase(db.name, report, options);
    }),
  );
  return summarizeValidation(results);
}
