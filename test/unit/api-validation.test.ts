import { describe, expect, test } from '@jest/globals';
import { databaseMonitorSpecSchema, databasePrerequisiteSpecSchema, parseDuration } from '../../src/api/index.js';

const base = { engine: 'postgres', connection: { secretRef: { name: 'db' } } };

describe('DatabaseMonitor spec', () => {
  test('defaults fill in interval, timeouts, pool check and thresholds', () => {
    expect(databaseMonitorSpecSchema.parse(base)).toMatchObject({
      interval: '5m',
      timeoutSeconds: 30,
      suspend: false,
      connection: { connectTimeoutSeconds: 10 },
      checks: { pool: { enabled: true } },
      thresholds: { responseTimeMs: 2000, poolUtilizationPercent: 80, failureThreshold: 1, successThreshold: 1 },
    });
  });

  test('performance defaults to SELECT 1, five iterations, hourly', () => {
    const spec = databaseMonitorSpecSchema.parse({ ...base, checks: { performance: {} } });
    expect(spec.checks.performance).toEqual({
      queries: [{ name: 'select-1', sql: 'SELECT 1' }],
      iterations: 5,
      targetMs: 100,
      interval: '1h',
    });
  });

  test.each([
    [{ engine: 'mysql' }, 'engine'],
    [{ interval: '5 minutes' }, 'interval'],
    [{ thresholds: { poolUtilizationPercent: 0 } }, 'thresholds.poolUtilizationPercent'],
    [{ checks: { migrations: { tool: 'custom' } } }, 'checks.migrations'],
    [
      { checks: { migrations: { tool: 'flyway', expectedVersion: '1', expectedMigrations: ['1'] } } },
      'checks.migrations',
    ],
    [{ connection: { secretRef: { name: 'Bad_Name' } } }, 'connection.secretRef.name'],
  ])('rejects %j at %s', (override, path) => {
    const result = databaseMonitorSpecSchema.safeParse({ ...base, ...override });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});

describe('DatabasePrerequisite spec', () => {
  test('a database needs exactly one of monitorRef and connection', () => {
    const both = databasePrerequisiteSpecSchema.safeParse({
      databases: [{ name: 'a', monitorRef: { name: 'm' }, ...base }],
    });
    expect(both.error?.issues[0]?.message).toBe('set either monitorRef or connection');
    const inline = databasePrerequisiteSpecSchema.parse({ databases: [{ name: 'a', ...base }] });
    expect(inline).toMatchObject({
      checkMigrations: true,
      performanceThresholdMs: 1000,
      allowWarnings: false,
      interval: '1m',
    });
  });
});

describe('parseDuration', () => {
  test.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1.5s', 1500],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  test('rejects text that is not a duration', () => {
    expect(() => parseDuration('5 m')).toThrow(/invalid duration "5 m"/);
  });
});
