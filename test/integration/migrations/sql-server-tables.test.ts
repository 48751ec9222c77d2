import { afterEach, describe, expect, test } from '@jest/globals';
import { databaseMonitorSpecSchema } from '../../../src/api/index.js';
import { checkMonitorOnce, resolveMonitorConnection } from '../../../src/checks/index.js';
import { type SqlServerState, sqlServerScript } from '../../support/sql-server-script.js';
import { startTdsServer, type TdsServer } from '../../support/tds-server.js';

/**
 * SQL Server: the same readers over each tool's journal as the tool creates it there (names as documented in
 * test/support/sql-server-catalog.ts; the TDS stand-in refuses any other column). Table-level only: no tool
 * runs against it.
 */
let server: TdsServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function migrationStatus(state: SqlServerState, migrations: Record<string, unknown>) {
  server = await startTdsServer(sqlServerScript(state));
  const monitor = databaseMonitorSpecSchema.parse({
    engine: 'mssql',
    connection: { secretRef: { name: 'db' }, connectTimeoutSeconds: 3 },
    timeoutSeconds: 3,
    checks: { migrations },
  });
  const port = String(server.port);
  const resolved = resolveMonitorConnection(monitor, () => ({
    host: '127.0.0.1',
    port,
    database: 'orders',
    username: 'monitor',
    password: 'Str0ng!Passw0rd',
  }));
  if (!resolved.ok) throw new Error(resolved.message);
  const status = (await checkMonitorOnce(monitor, resolved)).health.migrationStatus;
  expect(status?.error).toBeUndefined();
  return status;
}

const nvarchar = (name: string) => ({ name, type: 'nvarchar' as const });
const int = (name: string) => ({ name, type: 'int' as const });

describe('migration readers on SQL Server journals', () => {
  test('Liquibase: DATABASECHANGELOG in upper case, a changeset inserted before applied ones is pending', async () => {
    const status = await migrationStatus(
      {
        tables: {
          DATABASECHANGELOG: {
            columns: [
              nvarchar('ID'),
              nvarchar('AUTHOR'),
              nvarchar('FILENAME'),
              int('ORDEREXECUTED'),
              nvarchar('EXECTYPE'),
            ],
            rows: [
              ['users', 'ann', 'db.xml', 1, 'EXECUTED'],
              ['seed', 'ann', 'db.xml', 2, 'MARK_RAN'],
            ],
          },
        },
      },
      { tool: 'liquibase', expectedMigrations: ['users', 'orders', 'db.xml::seed::ann'] },
    );
    expect(status).toMatchObject({ currentVersion: 'seed', appliedCount: 2, pendingMigrations: ['orders'] });
  });

  test('DbUp: SqlTableJournal [SchemaVersions]([Id], [ScriptName]); a reached expectedVersion is unknown', async () => {
    const state: SqlServerState = {
      tables: {
        SchemaVersions: {
          columns: [int('Id'), nvarchar('ScriptName')],
          rows: [
            [2, 'Scripts.0003_audit.sql'],
            [1, 'Scripts.0001_init.sql'],
          ],
        },
      },
    };
    const listed = await migrationStatus(state, {
      tool: 'dbup',
      expectedMigrations: ['Scripts.0001_init.sql', 'Scripts.0002_orders.sql', 'Scripts.0003_audit.sql'],
    });
    expect(listed).toMatchObject({
      currentVersion: 'Scripts.0003_audit.sql',
      pendingMigrations: ['Scripts.0002_orders.sql'],
    });
    await server?.stop();
    const byVersion = await migrationStatus(state, { tool: 'dbup', expectedVersion: 'Scripts.0003_audit.sql' });
    expect(byVersion?.unknownReason).toMatch(/DbUp runs every migration it has no row for/);
  });

  test('golang-migrate: a dirty version is failed, the versions before it applied', async () => {
    const status = await migrationStatus(
      {
        tables: {
          schema_migrations: {
            columns: [
              { name: 'version', type: 'bigint' },
              { name: 'dirty', type: 'bit' },
            ],
            rows: [[3, true]],
          },
        },
      },
      { tool: 'golang-migrate', expectedMigrations: ['1', '2', '3', '4'] },
    );
    expect(status).toMatchObject({ currentVersion: '3', failedMigrations: ['3'], pendingMigrations: ['4'] });
    expect(status?.appliedCount).toBeUndefined();
  });

  test('Flyway: a DELETE row from repair cancels the version; the baseline covers the ones below', async () => {
    const status = await migrationStatus(
      {
        tables: {
          flyway_schema_history: {
            columns: [
              int('installed_rank'),
              nvarchar('version'),
              nvarchar('description'),
              nvarchar('type'),
              nvarchar('script'),
              { name: 'success', type: 'bit' },
            ],
            rows: [
              [1, '5', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', true],
              [2, '6', 'orders', 'SQL', 'V6__orders.sql', true],
              [3, '7', 'audit', 'SQL', 'V7__audit.sql', true],
              [4, '7', 'audit', 'DELETE', 'V7__audit.sql', true],
            ],
          },
        },
      },
      { tool: 'flyway', expectedMigrations: ['4', '6', '7'] },
    );
    expect(status).toMatchObject({
      currentVersion: '6',
      appliedCount: 1,
      pendingMigrations: ['7'],
      failedMigrations: [],
    });
  });
});
