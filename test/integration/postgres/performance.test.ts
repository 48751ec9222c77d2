import { beforeAll, describe, expect, test } from '@jest/globals';
import { asOwner, createDatabase, secretData, withAdmin } from '../../support/pg-fixtures.js';
import { runMonitor } from '../../support/run-monitor.js';

let db: Awaited<ReturnType<typeof createDatabase>>;
beforeAll(async () => {
  db = await createDatabase();
  await asOwner(
    db,
    'CREATE TABLE customers (id int PRIMARY KEY, active boolean); INSERT INTO customers VALUES (1, true), (2, false);',
  );
});

const countCustomers = () =>
  withAdmin(async (c) => (await c.query('SELECT count(*)::int AS n FROM customers')).rows[0].n as number, db.database);

const performanceOf = (queries: { name: string; sql: string }[], extra: Record<string, unknown> = {}) =>
  runMonitor(secretData(db), { checks: { performance: { queries, iterations: 3, ...extra } } });

describe('query performance', () => {
  test('fast queries rate excellent with percentiles per query', async () => {
    const report = await performanceOf([
      { name: 'select-1', sql: 'SELECT 1' },
      { name: 'active', sql: 'SELECT count(*) FROM customers WHERE active' },
    ]);
    const perf = report.performance!;
    expect(perf.queryPerformance.map((q) => [q.name, q.successRate])).toEqual([
      ['select-1', 100],
      ['active', 100],
    ]);
    expect(perf.queryPerformance[0]!.timing!.p95Ms).toBeGreaterThanOrEqual(perf.queryPerformance[0]!.timing!.p50Ms);
    expect(perf.connectionMetrics.successfulConnections).toBe(3);
    expect(perf.overallAssessment.performanceRating).toBe('excellent');
    expect(perf.percentileMethod).toMatch(/nearest-rank/);
  });

  test('a query slower than the target rates poor', async () => {
    const report = await performanceOf([{ name: 'slow', sql: 'SELECT pg_sleep(0.25)' }], { targetMs: 50 });
    const perf = report.performance!;
    expect(perf.queryPerformance[0]!.timing!.minMs).toBeGreaterThanOrEqual(250);
    expect(perf.overallAssessment.apdex).toBe(0);
    expect(perf.overallAssessment.performanceRating).toBe('poor');
    expect(report.alerts.join()).toMatch(/performance is poor/);
  });

  test('a query over the timeout is cancelled by the statement timeout and reported', async () => {
    const started = Date.now();
    const report = await runMonitor(secretData(db), {
      timeoutSeconds: 1,
      checks: { performance: { queries: [{ name: 'sleepy', sql: 'SELECT pg_sleep(5)' }], iterations: 1 } },
    });
    expect(Date.now() - started).toBeLessThan(4000);
    expect(report.performance!.queryPerformance[0]).toMatchObject({
      successRate: 0,
      error: expect.stringMatching(/statement timeout/),
    });
  });

  test.each([
    ['an INSERT', 'INSERT INTO customers VALUES (3, true)'],
    ['a DELETE hidden after a COMMIT', 'SELECT 1; COMMIT; DELETE FROM customers'],
    ['a data-modifying CTE', 'WITH gone AS (DELETE FROM customers RETURNING id) SELECT count(*) FROM gone'],
    ['switching the session back to read-write', 'SET default_transaction_read_only = off; DELETE FROM customers'],
  ])('%s in the test queries is reported as failed and never performed', async (_label, sql) => {
    const report = await performanceOf([{ name: 'write', sql }]);
    const q = report.performance!.queryPerformance[0]!;
    expect(q.successRate).toBe(0);
    expect(q.error).toMatch(/read-only transaction|must be exactly one statement/);
    expect(await countCustomers()).toBe(2);
  });
});
