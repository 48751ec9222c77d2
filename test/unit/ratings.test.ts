import { describe, expect, test } from '@jest/globals';
import { thresholdsSchema } from '../../src/api/index.js';
import { apdex, ratingFor } from '../../src/checks/apdex.js';
import { rateHealth } from '../../src/checks/health.js';
import { compareVersions, highestVersion } from '../../src/checks/migrations/version-order.js';
import { assessPool, poolHealthFor } from '../../src/checks/pool.js';
import { redact } from '../../src/checks/redact.js';
import { percentile, summarizeTimings } from '../../src/checks/stats.js';

const thresholds = thresholdsSchema.parse({});
const up = { connection: true, queryTest: true, responseTimeMs: 5 };
const migrations = (pending: string[], failed: string[] = []) => ({
  tool: 'flyway',
  table: 't',
  appliedCount: 1,
  pendingMigrations: pending,
  failedMigrations: failed,
});

describe('rateHealth', () => {
  test('healthy when connected, fast, no pending or failed migrations', () => {
    expect(rateHealth({ probe: up, migrationStatus: migrations([]) }, thresholds)).toEqual({
      status: 'healthy',
      reasons: [],
    });
  });

  test('degraded when slower than the threshold, with the figures', () => {
    expect(rateHealth({ probe: { ...up, responseTimeMs: 2500 } }, thresholds)).toEqual({
      status: 'degraded',
      reasons: ['response time 2500 ms is over the 2000 ms threshold'],
    });
  });

  test('unhealthy when a migration failed, listing degraded reasons too', () => {
    const r = rateHealth({ probe: up, migrationStatus: migrations(['3'], ['2']) }, thresholds);
    expect(r).toEqual({ status: 'unhealthy', reasons: ['failed migrations: 2', '1 pending migration(s): 3'] });
  });

  test('unhealthy when the connection fails', () => {
    const probe = {
      connection: false,
      queryTest: false,
      failure: { stage: 'tcp' as const, cause: 'ConnectionRefused', message: 'connect ECONNREFUSED' },
    };
    expect(rateHealth({ probe }, thresholds).reasons).toEqual(['cannot connect: connect ECONNREFUSED']);
  });
});

describe('pool assessment', () => {
  test.each([
    [10, 'optimal'],
    [50, 'moderate'],
    [79.99, 'moderate'],
    [80, 'high'],
  ])('%d%% against 80%% is %s', (percent, health) => expect(poolHealthFor(percent, 80)).toBe(health));

  test('partial visibility is stated and the client pool is reported', () => {
    const server = {
      active: 1,
      idle: 2,
      idleInTransaction: 0,
      other: 3,
      total: 6,
      maxUsable: 97,
      utilizationPercent: 6.19,
      visibility: 'partial' as const,
    };
    const r = assessPool(server, { size: 2, checkedOut: 1, idle: 1, waiting: 0 }, 80);
    expect(r).toMatchObject({ poolSize: 2, checkedOut: 1, utilizationPercent: 6.19, poolHealth: 'optimal' });
    expect(r.recommendation).toMatch(/cannot see other sessions' state: grant it pg_monitor/);
    expect(r.overflowAnalysis).toMatch(/6 of 97 usable server connections in use .*3 not visible to this login/);
  });
});

describe('Apdex and percentiles', () => {
  test('satisfied count fully, tolerating half, failures count as frustrated', () => {
    expect(apdex([10, 20, 150, 500], 0, 100)).toBe(0.625);
    expect(apdex([10], 1, 100)).toBe(0.5);
    expect(apdex([], 0, 100)).toBe(0);
  });

  test.each([
    [0.94, 'excellent'],
    [0.85, 'good'],
    [0.7, 'fair'],
    [0.69, 'poor'],
  ])('score %d rates %s', (score, rating) => expect(ratingFor(score)).toBe(rating));

  test('nearest-rank percentiles', () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect([percentile(sorted, 50), percentile(sorted, 95), percentile([7], 95)]).toEqual([5, 10, 7]);
    expect(summarizeTimings([3, 1, 2])).toEqual({ avgMs: 2, p50Ms: 2, p95Ms: 3, minMs: 1, maxMs: 3 });
  });
});

describe('version order', () => {
  test.each([
    ['1.10', '1.9', 1],
    ['003', '3', 0],
    ['2', '10', -1],
    ['20240101120000', '20231231000000', 1],
    ['1.2', '1.2.1', -1],
  ])('%s vs %s', (a, b, sign) => expect(Math.sign(compareVersions(a, b))).toBe(sign));

  test('highest of a list', () => expect(highestVersion(['1.2', '1.10', '1.9'])).toBe('1.10'));
});

describe('redact', () => {
  test('removes raw and URL-encoded secrets', () => {
    expect(redact('failed for p@ss and p%40ss', ['p@ss'])).toBe('failed for *** and ***');
  });
});
