import { describe, expect, test } from '@jest/globals';
import { createEngine, resolveConnection, runMonitorChecks } from '../../../src/checks/index.js';
import { createDatabase, monitorSpec, secretData } from '../../support/pg-fixtures.js';

async function runOnce(db: Awaited<ReturnType<typeof createDatabase>>, specInput: Record<string, unknown> = {}) {
  const spec = monitorSpec(specInput);
  const resolved = resolveConnection('postgres', spec.connection, () => secretData(db));
  if (!resolved.ok) throw new Error(resolved.message);
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

describe('health against a real PostgreSQL', () => {
  test('a reachable database is healthy with response time and pool figures', async () => {
    const db = await createDatabase({ monitor: true });
    const report = await runOnce(db);
    expect(report.health.status).toBe('healthy');
    expect(report.health.connection).toBe(true);
    expect(report.health.queryTest).toBe(true);
    expect(report.health.responseTimeMs).toBeGreaterThan(0);
    expect(report.health.reasons).toEqual([]);
    expect(report.pool?.server?.visibility).toBe('full');
    expect(report.pool?.server?.total).toBeGreaterThanOrEqual(1);
    expect(report.pool?.poolHealth).toBe('optimal');
    expect(report.diagnostics).toBeUndefined();
  });

  test('a login without pg_monitor gets a pool figure marked partial, with advice', async () => {
    const db = await createDatabase();
    const report = await runOnce(db);
    expect(report.pool?.server?.visibility).toBe('partial');
    expect(report.pool?.recommendation).toMatch(/pg_monitor/);
  });
});
