import { afterEach, describe, expect, test } from '@jest/globals';
import { databaseMonitorSpecSchema } from '../../../src/api/index.js';
import {
  checkMonitorOnce,
  createEngine,
  resolveMonitorConnection,
  runMonitorChecks,
} from '../../../src/checks/index.js';
import { type SqlServerState, sqlServerScript } from '../../support/sql-server-script.js';
import { startTdsServer, type TdsServer } from '../../support/tds-server.js';

/** A batch without the session limits the engine puts in front of every statement. */
const statementOf = (b: { sql: string }) => b.sql.replace(/^(\s*SET [A-Z_]+ [^;]+;)+/i, '').trim();

let server: TdsServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

const PASSWORD = 'Str0ng!Passw0rd';

async function run(state: SqlServerState, spec: Record<string, unknown> = {}, secret: Record<string, string> = {}) {
  server = await startTdsServer(sqlServerScript(state));
  const monitor = databaseMonitorSpecSchema.parse({
    engine: 'mssql',
    connection: { secretRef: { name: 'db' }, connectTimeoutSeconds: 3 },
    timeoutSeconds: 3,
    ...spec,
  });
  const resolved = resolveMonitorConnection(monitor, () => ({
    host: '127.0.0.1',
    port: String(server!.port),
    database: 'orders',
    username: 'monitor',
    password: PASSWORD,
    ...secret,
  }));
  if (!resolved.ok) throw new Error(resolved.message);
  const report = await checkMonitorOnce(monitor, resolved);
  expect(JSON.stringify(report)).not.toContain(PASSWORD);
  return report;
}

describe('SQL Server engine over real TDS (mssql/tedious against a scripted TDS 7.4 server)', () => {
  test('healthy: login, test query, database state and version, utilization with VIEW SERVER STATE', async () => {
    const report = await run({});
    expect(report.health).toMatchObject({
      status: 'healthy',
      connection: true,
      queryTest: true,
      database: { state: 'ONLINE', version: '16.0.4135.4', readOnly: false },
    });
    expect(report.pool?.server).toEqual({
      active: 2,
      idle: 9,
      idleInTransaction: 1,
      other: 0,
      total: 12,
      maxUsable: 32767,
      utilizationPercent: 0.04,
      visibility: 'full',
    });
    expect(server!.batches.map(statementOf)).toContain('SELECT 1 AS ok');
  });

  test('utilization against user connections, and partial without VIEW SERVER STATE', async () => {
    const report = await run({
      grants: [],
      sessions: { total: 1, running: 1, sleeping: 0, idleInTransaction: 0, configured: 50 },
    });
    expect(report.pool?.server).toMatchObject({
      total: 1,
      maxUsable: 50,
      utilizationPercent: 2,
      visibility: 'partial',
    });
    expect(report.pool?.recommendation).toMatch(/VIEW SERVER STATE/);
  });

  test('utilization past the threshold degrades the database', async () => {
    const report = await run({
      sessions: { total: 45, running: 40, sleeping: 5, idleInTransaction: 0, configured: 50 },
    });
    expect(report.pool?.poolHealth).toBe('high');
    expect(report.health.status).toBe('degraded');
  });

  test('a failed login (18456) is unhealthy and diagnosed at authentication', async () => {
    const report = await run({}, {}, { password: 'wrong-password' });
    expect(report.health).toMatchObject({ status: 'unhealthy', connection: false, errorReason: 'LoginFailed' });
    expect(report.health.error).toMatch(/Login failed for user 'monitor'/);
    expect(report.diagnostics?.connectivity.failedStage).toBe('authentication');
    expect(report.diagnostics?.recommendations[0]).toMatch(/18456/);
    expect(JSON.stringify(report)).not.toContain('wrong-password');
  });

  test('an offline database (4060) is found through master and reported with its state_desc', async () => {
    const report = await run({ databaseStates: { orders: 'OFFLINE' } });
    expect(report.health.status).toBe('unhealthy');
    expect(report.diagnostics?.connectivity.failedStage).toBe('database');
    const stage = report.diagnostics?.connectivity.stages.find((s) => s.name === 'database');
    expect(stage?.detail).toBe('Login succeeded on master, but database orders is OFFLINE (sys.databases.state_desc)');
    expect(report.diagnostics?.recommendations[0]).toMatch(/4060/);
  });

  test('a server that requires encryption with tls disabled is diagnosed at the TLS stage', async () => {
    const report = await run({ encryption: 'REQ' });
    expect(report.health.status).toBe('unhealthy');
    expect(report.diagnostics?.connectivity.failedStage).toBe('tls');
    expect(report.diagnostics?.recommendations[0]).toMatch(/requires TLS/);
  });

  test('a query that never returns is cancelled at the timeout (attention) and rolled back', async () => {
    const started = Date.now();
    const report = await run(
      { queries: { 'SELECT * FROM big_report': { hang: true } } },
      { checks: { performance: { queries: [{ name: 'report', sql: 'SELECT * FROM big_report' }], iterations: 1 } } },
    );
    expect(Date.now() - started).toBeLessThan(8000);
    expect(report.performance?.queryPerformance[0]).toMatchObject({
      successRate: 0,
      error: expect.stringMatching(/did not finish within \d+ ms/),
    });
    expect(server!.transactions).toEqual(['begin', 'rollback']);
  });

  test('a write in the test queries runs inside a transaction that is rolled back; COMMIT is refused', async () => {
    const report = await run(
      { queries: { "INSERT INTO audit VALUES ('x')": { done: true } } },
      {
        checks: {
          performance: {
            queries: [
              { name: 'insert', sql: "INSERT INTO audit VALUES ('x')" },
              { name: 'sneaky', sql: "INSERT INTO audit VALUES ('y'); COMMIT" },
            ],
            iterations: 1,
          },
        },
      },
    );
    const sent = server!.batches.filter((b) => b.sql.includes('audit')).map((b) => ({ ...b, sql: statementOf(b) }));
    expect(sent).toEqual([{ sql: "INSERT INTO audit VALUES ('x')", inTransaction: true }]);
    expect(server!.transactions).toEqual(['begin', 'rollback']);
    expect(report.performance?.queryPerformance[1]).toMatchObject({
      successRate: 0,
      error: expect.stringMatching(/transaction control .* is not allowed/),
    });
  });

  test('migrations from Flyway and EF Core tables in SQL Server', async () => {
    const state: SqlServerState = {
      tables: {
        flyway_schema_history: {
          columns: [
            { name: 'installed_rank', type: 'int' },
            { name: 'version', type: 'nvarchar' },
            { name: 'description', type: 'nvarchar' },
            { name: 'type', type: 'nvarchar' },
            { name: 'script', type: 'nvarchar' },
            { name: 'success', type: 'bit' },
          ],
          rows: [
            [1, '1', 'init', 'SQL', 'V1__init.sql', true],
            [2, '2', 'orders', 'SQL', 'V2__orders.sql', true],
            [3, '3', 'bad', 'SQL', 'V3__bad.sql', false],
          ],
        },
        __EFMigrationsHistory: {
          columns: [
            { name: 'MigrationId', type: 'nvarchar' },
            { name: 'ProductVersion', type: 'nvarchar' },
          ],
          rows: [['20240101000000_Initial', '8.0.0']],
        },
      },
    };
    const flyway = await run(state, { checks: { migrations: { tool: 'flyway', expectedVersion: '3' } } });
    // As `flyway info` sees it: the failed migration is the current version, and failed, not pending.
    expect(flyway.health.migrationStatus).toMatchObject({
      currentVersion: '3',
      failedMigrations: ['3'],
      pendingMigrations: [],
    });
    expect(flyway.health.status).toBe('unhealthy');
    await server!.stop();
    const ef = await run(state, {
      checks: {
        migrations: {
          tool: 'efcore',
          schema: 'dbo',
          expectedMigrations: ['20240101000000_Initial', '20240202000000_Orders'],
        },
      },
    });
    expect(ef.health.migrationStatus).toMatchObject({
      currentVersion: '20240101000000_Initial',
      pendingMigrations: ['20240202000000_Orders'],
    });
    expect(ef.health.status).toBe('degraded');
  });

  test('a connection dropped mid-query is a result: ConnectionLost for the test query, an error for a test query', async () => {
    const lost = await run({ queries: { 'SELECT 1 AS ok': { drop: true } } });
    expect(lost.health).toMatchObject({ status: 'unhealthy', connection: false, errorReason: 'ConnectionLost' });
    expect(lost.diagnostics?.connectivity.stages.length).toBeGreaterThan(0);
    await server?.stop();

    const report = await run(
      { queries: { 'SELECT * FROM orders': { drop: true } } },
      { checks: { performance: { queries: [{ name: 'orders', sql: 'SELECT * FROM orders' }], iterations: 2 } } },
    );
    expect(report.health.status).toBe('healthy');
    expect(report.performance?.queryPerformance[0]).toMatchObject({ successRate: 0 });
    expect(report.performance?.queryPerformance[0]?.error).toMatch(/Connection lost|socket|closed/i);
  });
});

describe('SQL Server: a fresh login sees what the warm session cannot (TDS witness)', () => {
  // SQL Server's own texts for a disabled login (18470) and a full server (17809, severity 20).
  const REFUSALS = {
    LoginDisabled: {
      number: 18470,
      message: "Login failed for user 'monitor'. Reason: The account is disabled.",
      class: 14,
    },
    TooManyConnections: {
      number: 17809,
      message:
        "Could not connect because the maximum number of '5' user connections has already been reached. The system administrator can use sp_configure to increase the maximum value. The connection has been closed.",
      class: 20,
    },
  } as const;

  test.each(Object.entries(REFUSALS))('%s: the warm session works, a new login is refused', async (reason, refusal) => {
    let refuse = false;
    server = await startTdsServer({ ...sqlServerScript({}), loginError: () => (refuse ? refusal : undefined) });
    const monitor = databaseMonitorSpecSchema.parse({
      engine: 'mssql',
      connection: { secretRef: { name: 'db' }, connectTimeoutSeconds: 3 },
      timeoutSeconds: 3,
    });
    const resolved = resolveMonitorConnection(monitor, () => ({
      host: '127.0.0.1',
      port: String(server!.port),
      database: 'orders',
      username: 'monitor',
      password: PASSWORD,
    }));
    if (!resolved.ok) throw new Error(resolved.message);
    const engine = createEngine(resolved.config);
    const pass = (freshLogin: boolean) =>
      runMonitorChecks(engine, monitor, resolved, {
        includePerformance: false,
        freshLogin,
        makeEngine: () => createEngine(resolved.config, { poolSize: 1 }),
      });
    try {
      expect((await pass(true)).health).toMatchObject({ status: 'healthy', login: { succeeded: true } });
      refuse = true;
      expect((await pass(false)).health.status).toBe('healthy');
      const refused = (await pass(true)).health;
      expect(refused).toMatchObject({
        status: 'unhealthy',
        connection: false,
        queryTest: true,
        errorReason: reason,
        login: { succeeded: false, errorReason: reason },
      });
      refuse = false;
      expect((await pass(true)).health.status).toBe('healthy');
    } finally {
      await engine.close();
    }
  });
});
