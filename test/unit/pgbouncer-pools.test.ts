import { describe, expect, test } from '@jest/globals';
import type { PgbouncerConsoleData } from '../../src/checks/engines/pgbouncer-console.js';
import { assessPgbouncer } from '../../src/checks/pgbouncer-pools.js';
import { OperatorMetrics } from '../../src/controller/runtime/metrics.js';

/** Rows as PgBouncer 1.18's admin console returns them (SHOW POOLS / DATABASES / CONFIG / LISTS). */
function consoleData(
  pools: Record<string, unknown>[],
  options: { databases?: Record<string, unknown>[]; usedClients?: number; maxClientConn?: number } = {},
): PgbouncerConsoleData {
  return {
    version: '1.18.0',
    pools: [
      { database: 'pgbouncer', user: 'pgbouncer', cl_active: 1, cl_waiting: 0, sv_active: 0, pool_mode: 'statement' },
      ...pools.map((p) => ({
        cl_active: 0,
        cl_waiting: 0,
        sv_active: 0,
        sv_idle: 0,
        sv_used: 0,
        sv_tested: 0,
        sv_login: 0,
        maxwait: 0,
        maxwait_us: 0,
        pool_mode: 'transaction',
        ...p,
      })),
    ],
    databases: options.databases ?? [],
    config: new Map([
      ['default_pool_size', '20'],
      ['max_client_conn', String(options.maxClientConn ?? 100)],
    ]),
    lists: new Map([['used_clients', options.usedClients ?? 10]]),
  };
}

describe('PgBouncer pools', () => {
  test('waiting clients make the pool high, with the count, the longest wait and the pool size', () => {
    const result = assessPgbouncer(
      consoleData(
        [
          {
            database: 'orders',
            user: 'app',
            cl_active: 2,
            cl_waiting: 3,
            sv_active: 2,
            maxwait: 1,
            maxwait_us: 250_000,
          },
        ],
        {
          databases: [{ name: 'orders', pool_size: 2, paused: 0 }],
        },
      ),
      ['orders'],
      80,
    );
    expect(result).toMatchObject({
      poolHealth: 'high',
      reason: 'ClientsWaiting',
      clientsWaiting: 3,
      utilizationPercent: 100,
    });
    expect(result.pools).toEqual([
      expect.objectContaining({ database: 'orders', user: 'app', poolSize: 2, maxWaitMs: 1250, paused: false }),
    ]);
    expect(result.recommendation).toMatch(/^3 client\(s\) wait .*longest 1250 ms in pool orders\/app, pool size 2/);
  });

  test('a paused database is reported even before it has a pool', () => {
    const result = assessPgbouncer(
      consoleData([], { databases: [{ name: 'orders', pool_size: 5, paused: 1 }] }),
      ['orders'],
      80,
    );
    expect(result).toMatchObject({ poolHealth: 'high', reason: 'Paused' });
    expect(result.recommendation).toMatch(/orders is paused .*RESUME/);
  });

  test('utilization at the threshold is high; the pool size falls back to default_pool_size', () => {
    const result = assessPgbouncer(consoleData([{ database: 'orders', user: 'app', sv_active: 16 }]), ['orders'], 80);
    expect(result).toMatchObject({ poolHealth: 'high', reason: 'UtilizationHigh', utilizationPercent: 80 });
    expect(result.pools[0]?.poolSize).toBe(20);
  });

  test('clients near max_client_conn are high', () => {
    const result = assessPgbouncer(
      consoleData([{ database: 'orders', user: 'app' }], { usedClients: 95 }),
      ['orders'],
      80,
    );
    expect(result).toMatchObject({
      poolHealth: 'high',
      reason: 'ClientLimitNear',
      clientConnections: 95,
      maxClientConnections: 100,
    });
  });

  test('within limits: optimal below 50 %, moderate from it; other databases and the console are left out', () => {
    const pools = [
      { database: 'orders', user: 'app', sv_active: 4 },
      { database: 'billing', user: 'app', sv_active: 20, cl_waiting: 7 },
    ];
    expect(assessPgbouncer(consoleData(pools), ['orders'], 80)).toMatchObject({
      poolHealth: 'optimal',
      reason: 'WithinLimits',
      utilizationPercent: 20,
      clientsWaiting: 0,
    });
    expect(
      assessPgbouncer(consoleData([{ database: 'orders', user: 'app', sv_active: 12 }]), ['orders'], 80),
    ).toMatchObject({
      poolHealth: 'moderate',
    });
    expect(assessPgbouncer(consoleData(pools), ['*'], 80).pools.map((p) => p.database)).toEqual(['orders', 'billing']);
  });

  test('no pool yet for the database is said as such', () => {
    expect(assessPgbouncer(consoleData([]), ['orders'], 80)).toMatchObject({
      poolHealth: 'optimal',
      reason: 'NoPools',
    });
  });

  test('metrics follow the pools read: a pool that is gone loses its series', async () => {
    const metrics = new OperatorMetrics();
    const read = (pools: Record<string, unknown>[]) => assessPgbouncer(consoleData(pools), ['*'], 80);
    metrics.recordMonitor('shop', 'orders', 'postgres', {
      pgbouncer: read([
        { database: 'orders', user: 'app', cl_waiting: 2 },
        { database: 'orders', user: 'batch' },
      ]),
    });
    let text = await metrics.registry.metrics();
    expect(text).toContain(
      'dbwatch_pgbouncer_clients{namespace="shop",name="orders",database="orders",user="app",state="waiting"} 2',
    );
    expect(text).toContain('user="batch"');
    metrics.recordMonitor('shop', 'orders', 'postgres', { pgbouncer: read([{ database: 'orders', user: 'app' }]) });
    text = await metrics.registry.metrics();
    expect(text).not.toContain('user="batch"');
    metrics.forgetMonitor('shop', 'orders', 'postgres');
    expect(await metrics.registry.metrics()).not.toContain('dbwatch_pgbouncer_clients{');
  });
});
