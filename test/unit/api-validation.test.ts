import { describe, expect, test } from '@jest/globals';
import {
  databaseMonitorSpecSchema,
  databasePrerequisiteSpecSchema,
  durationMs,
  parseDuration,
} from '../../src/api/index.js';

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

describe('strict specs', () => {
  test.each([
    [{ tls: { mod: 'verify-full' } }, 'connection.tls', 'mod'],
    [{ secretRef: { name: 'db', key: { host: 'h' } } }, 'connection.secretRef', 'key'],
  ])('an unknown connection field %j is refused at %s', (connection, path, key) => {
    const result = databaseMonitorSpecSchema.safeParse({
      ...base,
      connection: { secretRef: { name: 'db' }, ...connection },
    });
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ code: 'unrecognized_keys', keys: [key], path: path.split('.') }),
    ]);
  });

  test('unknown fields are refused in checks, thresholds and prerequisite databases too', () => {
    const monitor = databaseMonitorSpecSchema.safeParse({
      ...base,
      checks: { pool: { enable: false }, performance: { iteration: 3 } },
      threshold: {},
    });
    expect(monitor.error?.issues.map((i) => [i.path.join('.'), (i as { keys?: string[] }).keys])).toEqual([
      ['checks.pool', ['enable']],
      ['checks.performance', ['iteration']],
      ['', ['threshold']],
    ]);
    const prerequisite = databasePrerequisiteSpecSchema.safeParse({
      databases: [{ name: 'a', monitorRef: { name: 'm', namespace: 'x' } }],
    });
    expect(prerequisite.error?.issues[0]).toMatchObject({ path: ['databases', 0, 'monitorRef'], keys: ['namespace'] });
  });

  test.each([
    ['interval', { interval: '0s' }],
    ['interval', { interval: '999ms' }],
    ['interval', { interval: '24h1s' }],
    ['interval', { interval: '99999999h' }],
    ['checks.performance.interval', { checks: { performance: { interval: '0.5s' } } }],
  ])('%s out of bounds (%j) is refused', (path, override) => {
    const result = databaseMonitorSpecSchema.safeParse({ ...base, ...override });
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ path: path.split('.'), message: 'must be between 1s and 24h' }),
    ]);
  });

  test('a prerequisite interval is bounded the same way', () => {
    const result = databasePrerequisiteSpecSchema.safeParse({
      databases: [{ name: 'a', monitorRef: { name: 'm' } }],
      interval: '0s',
    });
    expect(result.error?.issues[0]).toMatchObject({ path: ['interval'], message: 'must be between 1s and 24h' });
  });

  test('Secret key names follow the Kubernetes rule', () => {
    const result = databaseMonitorSpecSchema.safeParse({
      ...base,
      connection: { secretRef: { name: 'db', keys: { password: 'pass word' } } },
    });
    expect(result.error?.issues[0]?.path).toEqual(['connection', 'secretRef', 'keys', 'password']);
  });
});

describe('durationMs', () => {
  test('never throws; undefined for anything that is not a duration', () => {
    expect(durationMs('1h30m')).toBe(5_400_000);
    for (const text of ['', '5', '5 m', '-1s', '1d', 'h']) expect(durationMs(text)).toBeUndefined();
  });
});
