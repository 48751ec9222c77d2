import { afterEach, describe, expect, test } from '@jest/globals';
import { databaseMonitorSpecSchema } from '../../../src/api/index.js';
import {
  checkMonitorOnce,
  createEngine,
  type ResolveResult,
  resolveMonitorConnection,
  runMonitorChecks,
} from '../../../src/checks/index.js';
import { type SqlServerState, sqlServerScript } from '../../support/sql-server-script.js';
import { startTdsServer, type TdsServer } from '../../support/tds-server.js';

/*
 * Contract-level tests: no SQL Server can run here, so these check dbwatch's engine against a TDS server that
 * answers as Microsoft documents SQL Server, per edition (test/support/sql-server-catalog.ts holds the
 * documented columns with their sources; unknown columns get error 207): 2019, 2022, Azure SQL Database and a
 * readable secondary; permissions, visibility of OFFLINE databases, session state, escaped transactions.
 */

let server: TdsServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function start(state: SqlServerState, spec: Record<string, unknown> = {}, database = 'orders') {
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
    database,
    username: 'monitor',
    password: 'Str0ng!Passw0rd',
  })) as Extract<ResolveResult, { ok: true }>;
  return { monitor, resolved };
}

async function run(state: SqlServerState, spec: Record<string, unknown> = {}, database = 'orders') {
  const { monitor, resolved } = await start(state, spec, database);
  return checkMonitorOnce(monitor, resolved);
}

describe('connection utilization visibility per edition', () => {
  test('SQL Server 2019: VIEW SERVER STATE gives full visibility', async () => {
    const report = await run({ profile: 'sql2019', grants: ['VIEW SERVER STATE'] });
    expect(report.pool?.server?.visibility).toBe('full');
  });

  test('SQL Server 2019 does not know VIEW SERVER PERFORMANCE STATE: partial, and only the own session is seen', async () => {
    const report = await run({ profile: 'sql2019', grants: ['VIEW SERVER PERFORMANCE STATE'] });
    expect(report.pool?.server).toMatchObject({ visibility: 'partial', total: 1 });
    expect(report.pool?.recommendation).toMatch(/VIEW SERVER STATE/);
  });

  test('SQL Server 2022: VIEW SERVER PERFORMANCE STATE alone gives full visibility', async () => {
    const report = await run({ profile: 'sql2022', grants: ['VIEW SERVER PERFORMANCE STATE'] });
    expect(report.pool?.server).toMatchObject({ visibility: 'full', total: 12 });
  });

  test('Azure SQL Database: healthy, and utilization says why it is not measured instead of guessing', async () => {
    const report = await run({ profile: 'azure-sql-database', grants: ['VIEW DATABASE STATE'] });
    expect(report.health).toMatchObject({ status: 'healthy', database: { version: '12.0.2000.8', state: 'ONLINE' } });
    expect(report.pool?.server).toBeUndefined();
    expect(report.pool?.error).toMatch(/Azure SQL Database does not expose its connection limit/);
  });
});

describe('database state that tells the truth', () => {
  test('a readable secondary is read-only (Updateability), although is_read_only is 0', async () => {
    const report = await run({ profile: 'readable-secondary' });
    expect(report.health.database).toMatchObject({ state: 'ONLINE', readOnly: true });
  });

  test('an OFFLINE database hidden from a low-privilege login is not reported as missing', async () => {
    const report = await run({ viewAnyDatabase: false, databaseStates: { orders: 'OFFLINE' } });
    expect(report.health).toMatchObject({ status: 'unhealthy', errorReason: 'DatabaseUnavailable' });
    const stage = report.diagnostics?.connectivity.stages.find((s) => s.name === 'database');
    expect(stage?.detail).toMatch(/cannot be opened and is not visible to this login .* OFFLINE/);
    expect(stage?.detail).not.toMatch(/does not exist/);
  });

  test('a login with no user in an ONLINE database is told so, not that the database is ONLINE', async () => {
    const report = await run({ noUserIn: ['orders'] });
    expect(report.health.errorReason).toBe('NoDatabaseAccess');
    expect(report.diagnostics?.recommendations[0]).toMatch(/has no user in database orders: CREATE USER monitor/);
  });

  test('a database that does not exist is DatabaseMissing (HAS_DBACCESS is NULL)', async () => {
    const report = await run({}, {}, 'nosuch');
    expect(report.health.errorReason).toBe('DatabaseMissing');
  });
});

describe('test queries cannot change later checks', () => {
  test('USE in a test query stays on its own connection: the next pass still checks the configured database', async () => {
    const { monitor, resolved } = await start(
      { databaseStates: { otherdb: 'RESTORING' }, queries: { 'USE otherdb': { done: true, use: 'otherdb' } } },
      { checks: { performance: { queries: [{ name: 'use', sql: 'USE otherdb' }], iterations: 1 } } },
    );
    const engine = createEngine(resolved.config);
    const pass = () =>
      runMonitorChecks(engine, monitor, resolved, {
        includePerformance: true,
        makeEngine: () => createEngine(resolved.config, { poolSize: 1 }),
      });
    try {
      expect((await pass()).health.status).toBe('healthy');
      const second = await pass();
      expect(second.health).toMatchObject({ status: 'healthy', database: { state: 'ONLINE' } });
    } finally {
      await engine.close();
    }
  });

  test('a COMMIT the text filter cannot see is caught by @@TRANCOUNT and reported', async () => {
    const sql = "EXEC('COM'+'MIT')";
    const report = await run(
      { queries: { [sql]: { done: true, endsTransaction: true } } },
      { checks: { performance: { queries: [{ name: 'sneaky', sql }], iterations: 1 } } },
    );
    expect(report.performance?.queryPerformance[0]).toMatchObject({ successRate: 0 });
    expect(report.performance?.queryPerformance[0]?.error).toMatch(/committed or rolled back dbwatch's transaction/);
  });
});

describe('the test server is a witness, not an echo', () => {
  test('a column the documentation does not list is refused with error 207', async () => {
    const report = await run(
      {
        tables: {
          flyway_schema_history: { columns: [{ name: 'version', type: 'nvarchar' }], rows: [['1']] },
        },
      },
      { checks: { migrations: { tool: 'custom', table: 'flyway_schema_history', versionColumn: 'vers' } } },
    );
    expect(report.health.migrationStatus?.error).toMatch(/Invalid column name 'vers'/);
  });

  test('a fixture with an undocumented column is refused before any test runs', () => {
    expect(() =>
      sqlServerScript({
        tables: { SchemaVersions: { columns: [{ name: 'SchemaVersionsID', type: 'int' }], rows: [] } },
      }),
    ).toThrow(/SchemaVersions.SchemaVersionsID is not documented/);
  });
});
