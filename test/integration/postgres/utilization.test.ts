import { afterEach, describe, expect, test } from '@jest/globals';
import pg from 'pg';
import { connectionConfig, createDatabase, secretData, withAdmin } from '../../support/pg-fixtures.js';
import { runMonitor } from '../../support/run-monitor.js';

const held: pg.Client[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((c) => c.end().catch(() => undefined)));
});

describe('server connection utilization', () => {
  test('real connections pushed past the threshold make the pool high and the database degraded', async () => {
    const db = await createDatabase({ monitor: true });
    const { maxUsable, open } = await withAdmin(async (c) => {
      const { rows } =
        await c.query(`SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int AS max_usable,
                                             (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS open`);
      return { maxUsable: rows[0].max_usable as number, open: rows[0].open as number };
    });
    const threshold = 60;
    // Enough to cross the threshold counting the monitor's own connection, yet leave a free slot.
    const toOpen = Math.ceil((threshold / 100) * maxUsable) - open;
    const config = connectionConfig(db);
    for (let i = 0; i < toOpen; i++) {
      const client = new pg.Client({
        host: config.host,
        port: config.port,
        user: config.username,
        password: config.password,
        database: config.database,
      });
      await client.connect();
      held.push(client);
    }
    await held[0]!.query('BEGIN');
    await held[0]!.query('SELECT 1');

    const report = await runMonitor(secretData(db), { thresholds: { poolUtilizationPercent: threshold } });
    const server = report.pool?.server;
    expect(server?.total).toBeGreaterThanOrEqual(open + toOpen);
    expect(server?.maxUsable).toBe(maxUsable);
    expect(server?.idleInTransaction).toBeGreaterThanOrEqual(1);
    expect(report.pool?.utilizationPercent).toBeGreaterThanOrEqual(threshold);
    expect(report.pool?.poolHealth).toBe('high');
    expect(report.health.status).toBe('degraded');
    expect(report.health.reasons.join()).toMatch(/connection utilization .* at or over the 60% threshold/);
    expect(report.pool?.recommendation).toMatch(/idle in transaction/);
  });

  test('below the threshold the same database is healthy', async () => {
    const db = await createDatabase({ monitor: true });
    const report = await runMonitor(secretData(db), { thresholds: { poolUtilizationPercent: 95 } });
    expect(report.pool?.poolHealth).not.toBe('high');
    expect(report.health.status).toBe('healthy');
  });
});
