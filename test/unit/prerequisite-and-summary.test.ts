import { describe, expect, test } from '@jest/globals';
import type { HealthResult } from '../../src/api/index.js';
import type { MonitorReport } from '../../src/checks/monitor.js';
import { summarizeValidation, unavailableDatabase, validateDatabase } from '../../src/checks/prerequisite.js';
import { observePrerequisite, observeReport, summarize } from '../../src/checks/summary.js';

const health = (over: Partial<HealthResult> = {}): HealthResult => ({
  status: 'healthy',
  connection: true,
  queryTest: true,
  responseTimeMs: 4,
  reasons: [],
  timestamp: '2026-01-01T00:00:00Z',
  migrationStatus: {
    tool: 'flyway',
    table: 't',
    currentVersion: '3',
    appliedCount: 3,
    pendingMigrations: [],
    failedMigrations: [],
  },
  ...over,
});
const options = { checkMigrations: true, performanceThresholdMs: 1000 };
const migrations = (pendingMigrations: string[]) => ({
  tool: 'flyway',
  table: 't',
  currentVersion: '1',
  appliedCount: 1,
  pendingMigrations,
  failedMigrations: [],
});

describe('prerequisite validation', () => {
  test('passed when reachable, fast and migrated', () => {
    expect(validateDatabase('orders', { health: health() }, options)).toEqual({
      name: 'orders',
      status: 'passed',
      issues: [],
      health: 'healthy',
      responseTimeMs: 4,
    });
  });

  test('failed on pending migrations, warning on slowness', () => {
    const pending = health({
      migrationStatus: { tool: 'flyway', table: 't', appliedCount: 1, pendingMigrations: ['4'], failedMigrations: [] },
    });
    expect(validateDatabase('a', { health: pending }, options)).toMatchObject({
      status: 'failed',
      issues: ['pending migrations: 4'],
    });
    expect(validateDatabase('b', { health: health({ responseTimeMs: 1500 }) }, options)).toMatchObject({
      status: 'warning',
      issues: ['response time 1500 ms is over the 1000 ms threshold'],
    });
  });

  test('a database without migration configuration passes: checkMigrations judges configured migrations only', () => {
    const { migrationStatus: _none, ...noMigrations } = health();
    expect(validateDatabase('c', { health: noMigrations }, options)).toMatchObject({ status: 'passed', issues: [] });
    const unreadable = health({
      migrationStatus: {
        tool: 'flyway',
        table: 'flyway_schema_history',
        appliedCount: 0,
        pendingMigrations: [],
        failedMigrations: [],
        error: 'table flyway_schema_history not found',
      },
    });
    expect(validateDatabase('c', { health: unreadable }, options).status).toBe('warning');
    expect(validateDatabase('c', { health: unreadable }, { ...options, checkMigrations: false }).status).toBe('passed');
  });

  test('the summary counts each status and the worst wins', () => {
    const result = summarizeValidation([
      validateDatabase('a', { health: health() }, options),
      validateDatabase('b', { health: health({ responseTimeMs: 1500 }) }, options),
      unavailableDatabase('c', 'Secret c not found in this namespace'),
    ]);
    expect(result.overallStatus).toBe('failed');
    expect(result.summary).toEqual({ passed: 1, warning: 1, failed: 1, total: 3 });
  });
});

describe('multi-database summary', () => {
  const report = (h: HealthResult): MonitorReport => ({
    health: h,
    alerts: h.reasons.map((r) => `${h.status}: ${r}`),
    durations: {},
  });
  const at = (name: string) => ({ namespace: 'shop', name, engine: 'postgres' as const });

  test('worst case over databases and prerequisites, breakdowns for both, alerts by namespace/name', () => {
    const pending = health({
      status: 'degraded',
      reasons: ['1 pending migration(s): 2'],
      migrationStatus: migrations(['2']),
    });
    const failed = summarizeValidation([validateDatabase('ledger', { health: pending }, options)]);
    const { summary, databases } = summarize({
      databases: [observeReport(at('orders'), report(health())), observeReport(at('ledger'), report(pending))],
      prerequisites: [observePrerequisite(at('ledger-ready'), failed)],
    });
    // The degraded monitor alone would be exit 1: the failed prerequisite makes it 2, as `check` always said.
    expect(summary).toMatchObject({
      overallStatus: 'unhealthy',
      exitCode: 2,
      statusBreakdown: { healthy: 1, degraded: 1, unhealthy: 0, unknown: 0 },
      prerequisiteBreakdown: { passed: 0, warning: 0, failed: 1, unknown: 0 },
    });
    expect(summary.alerts).toEqual([
      'shop/ledger: degraded: 1 pending migration(s): 2',
      'shop/ledger-ready: prerequisite failed: ledger: pending migrations: 2',
    ]);
    expect(databases.map((d) => [d.name, d.status, d.reason])).toEqual([
      ['ledger', 'degraded', 'MigrationsPending'],
      ['orders', 'healthy', 'Healthy'],
    ]);
  });

  test('nothing wrong: one recommendation saying so, never an empty list', () => {
    const { summary } = summarize({ databases: [observeReport(at('orders'), report(health()))], prerequisites: [] });
    expect(summary.recommendations).toEqual(['All databases are healthy']);
    expect(summary.exitCode).toBe(0);
  });
});

describe('a migration state the table cannot decide', () => {
  test('is a warning for a prerequisite, with the reason, not a silent pass', async () => {
    const { validateDatabase } = await import('../../src/checks/prerequisite.js');
    const result = validateDatabase(
      'orders',
      {
        health: {
          status: 'healthy',
          connection: true,
          queryTest: true,
          reasons: [],
          timestamp: '2026-11-27T00:00:00Z',
          migrationStatus: {
            tool: 'alembic',
            table: 'alembic_version',
            pendingMigrations: [],
            failedMigrations: [],
            unknownReason: 'alembic keeps only heads: whether abc123 is an ancestor of them is not in the database',
          },
        },
      },
      { checkMigrations: true, performanceThresholdMs: 1000 },
    );
    expect(result.status).toBe('warning');
    expect(result.issues).toEqual([expect.stringMatching(/^migration status unknown: alembic keeps only heads/)]);
  });
});
