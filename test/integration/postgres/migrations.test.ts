import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type MigrationsCheck, migrationsCheckSchema } from '../../../src/api/index.js';
import type { DatabaseEngine } from '../../../src/checks/engine.js';
import { createEngine, errorMessage } from '../../../src/checks/index.js';
import { readMigrationStatus } from '../../../src/checks/migrations/read-migrations.js';
import { asOwner, connectionConfig, createDatabase, secretData } from '../../support/pg-fixtures.js';
import { runMonitor } from '../../support/run-monitor.js';

/** Each tool's real table layout with applied and failed rows; pending comes from the expectation. */
const scenarios: {
  tool: MigrationsCheck['tool'];
  ddl: string;
  check?: Partial<MigrationsCheck>;
  expected: {
    currentVersion?: string;
    appliedCount?: number;
    pendingMigrations: string[];
    failedMigrations: string[];
    unknownReason?: RegExp;
  };
}[] = [
  {
    tool: 'flyway',
    ddl: `CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY, version varchar(50), description varchar(200) NOT NULL,
            type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum int, installed_by varchar(100) NOT NULL,
            installed_on timestamp NOT NULL DEFAULT now(), execution_time int NOT NULL, success boolean NOT NULL);
          INSERT INTO flyway_schema_history VALUES
            (1, '1', 'init', 'SQL', 'V1__init.sql', 1, 'app', now(), 5, true),
            (2, '1.2', 'orders', 'SQL', 'V1.2__orders.sql', 2, 'app', now(), 5, true),
            (3, NULL, 'views', 'SQL', 'R__views.sql', 3, 'app', now(), 5, true),
            (4, '1.10', 'index', 'SQL', 'V1.10__index.sql', 4, 'app', now(), 5, false);`,
    check: { expectedVersion: '1.11' },
    // The failed row is Flyway's current version; the repeatable counts as one applied migration.
    expected: { currentVersion: '1.10', appliedCount: 3, pendingMigrations: ['1.11'], failedMigrations: ['1.10'] },
  },
  {
    tool: 'liquibase',
    ddl: `CREATE TABLE databasechangelog (id varchar(255) NOT NULL, author varchar(255) NOT NULL, filename varchar(255) NOT NULL,
            dateexecuted timestamp NOT NULL, orderexecuted int NOT NULL, exectype varchar(10) NOT NULL, md5sum varchar(35),
            description varchar(255), comments varchar(255), tag varchar(255), liquibase varchar(20));
          INSERT INTO databasechangelog (id, author, filename, dateexecuted, orderexecuted, exectype) VALUES
            ('create-users', 'ann', 'db.xml', now(), 1, 'EXECUTED'),
            ('seed', 'ann', 'db.xml', now(), 2, 'MARK_RAN'),
            ('add-index', 'bob', 'db.xml', now(), 3, 'FAILED');`,
    check: { expectedMigrations: ['create-users', 'seed', 'add-index', 'add-view'] },
    expected: {
      currentVersion: 'seed',
      appliedCount: 2,
      pendingMigrations: ['add-index', 'add-view'],
      failedMigrations: ['add-index'],
    },
  },
  {
    tool: 'golang-migrate',
    ddl: `CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
          INSERT INTO schema_migrations VALUES (20240301120000, true);`,
    check: { expectedVersion: '20240301120000' },
    expected: { currentVersion: '20240301120000', pendingMigrations: [], failedMigrations: ['20240301120000'] },
  },
  {
    tool: 'alembic',
    ddl: `CREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY); INSERT INTO alembic_version VALUES ('ae1027a6acf');`,
    check: { expectedVersion: '27c6a30d7c24' },
    expected: {
      currentVersion: 'ae1027a6acf',
      pendingMigrations: [],
      failedMigrations: [],
      unknownReason: /cannot tell whether 27c6a30d7c24 applied: alembic_version holds only the heads/,
    },
  },
  {
    tool: 'prisma',
    ddl: `CREATE TABLE _prisma_migrations (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz,
            migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(),
            applied_steps_count int NOT NULL DEFAULT 0);
          INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, rolled_back_at) VALUES
            ('a', 'x', now(), '20240101000000_init', NULL),
            ('b', 'x', NULL, '20240201000000_orders', NULL),
            ('c', 'x', NULL, '20240115000000_oops', now());`,
    check: { expectedMigrations: ['20240101000000_init', '20240115000000_oops', '20240201000000_orders'] },
    expected: {
      currentVersion: '20240101000000_init',
      appliedCount: 1,
      // Failed blocks `prisma migrate deploy` until resolved: failed, not pending; the rolled-back one is pending again.
      pendingMigrations: ['20240115000000_oops'],
      failedMigrations: ['20240201000000_orders'],
    },
  },
  {
    tool: 'knex',
    ddl: `CREATE TABLE knex_migrations (id serial PRIMARY KEY, name varchar(255), batch int, migration_time timestamptz);
          INSERT INTO knex_migrations (name, batch, migration_time) VALUES ('20240101_init.js', 1, now()), ('20240201_orders.js', 2, now());`,
    check: { expectedMigrations: ['20240101_init.js', '20240201_orders.js', '20240301_audit.js'] },
    expected: {
      currentVersion: '20240201',
      appliedCount: 2,
      pendingMigrations: ['20240301_audit.js'],
      failedMigrations: [],
    },
  },
  {
    tool: 'efcore',
    ddl: `CREATE TABLE "__EFMigrationsHistory" ("MigrationId" varchar(150) PRIMARY KEY, "ProductVersion" varchar(32) NOT NULL);
          INSERT INTO "__EFMigrationsHistory" VALUES ('20240101093000_Initial', '8.0.0'), ('20240202093000_AddOrders', '8.0.0');`,
    check: { expectedVersion: '20240303093000_AddAudit' },
    expected: {
      currentVersion: '20240202093000_AddOrders',
      appliedCount: 2,
      pendingMigrations: ['20240303093000_AddAudit'],
      failedMigrations: [],
    },
  },
  {
    tool: 'django',
    ddl: `CREATE TABLE django_migrations (id bigserial PRIMARY KEY, app varchar(255) NOT NULL, name varchar(255) NOT NULL, applied timestamptz NOT NULL);
          INSERT INTO django_migrations (app, name, applied) VALUES ('auth', '0001_initial', now()), ('shop', '0001_initial', now());`,
    check: { expectedMigrations: ['auth.0001_initial', 'shop.0001_initial', 'shop.0002_orders'] },
    expected: {
      currentVersion: 'shop.0001_initial',
      appliedCount: 2,
      pendingMigrations: ['shop.0002_orders'],
      failedMigrations: [],
    },
  },
  {
    tool: 'rails',
    ddl: `CREATE TABLE schema_migrations (version varchar PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20240101000000'), ('20240201000000');`,
    check: { expectedVersion: '20240201000000' },
    expected: {
      currentVersion: '20240201000000',
      appliedCount: 2,
      pendingMigrations: [],
      failedMigrations: [],
      unknownReason: /20240201000000 is applied, but Rails runs every migration it has no row for/,
    },
  },
  {
    tool: 'dbup',
    // DbUp's PostgresqlTableJournal DDL (lower-case names; SQL Server's SqlTableJournal has [SchemaVersions]([Id], [ScriptName])).
    ddl: `CREATE TABLE schemaversions (schemaversionsid serial NOT NULL PRIMARY KEY, scriptname varchar(255) NOT NULL, applied timestamp NOT NULL);
          INSERT INTO schemaversions (scriptname, applied) VALUES ('Scripts.0001_init.sql', now());`,
    check: { expectedMigrations: ['Scripts.0001_init.sql', 'Scripts.0002_orders.sql'] },
    expected: {
      currentVersion: 'Scripts.0001_init.sql',
      appliedCount: 1,
      pendingMigrations: ['Scripts.0002_orders.sql'],
      failedMigrations: [],
    },
  },
  {
    tool: 'custom',
    ddl: `CREATE TABLE app_versions (release text NOT NULL); INSERT INTO app_versions VALUES ('2.9'), ('2.10');`,
    check: { table: 'app_versions', versionColumn: 'release', expectedVersion: '3.0' },
    expected: { currentVersion: '2.10', appliedCount: 2, pendingMigrations: ['3.0'], failedMigrations: [] },
  },
];

describe('migration readers on real tables', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let engine: DatabaseEngine;
  beforeAll(async () => {
    db = await createDatabase();
    for (const s of scenarios) {
      const schema = s.tool.replace('-', '_');
      await asOwner(db, `CREATE SCHEMA ${schema}; SET search_path TO ${schema}; ${s.ddl}`);
    }
    engine = createEngine(connectionConfig(db));
  });
  afterAll(async () => engine.close());

  test.each(scenarios)(
    '$tool: current version, applied, pending against expected, failed, unknown',
    async ({ tool, check, expected }) => {
      const spec = migrationsCheckSchema.parse({ tool, schema: tool.replace('-', '_'), ...check });
      const status = await readMigrationStatus(engine, spec, 5000, errorMessage);
      const { unknownReason, ...rest } = expected;
      expect(status.error).toBeUndefined();
      expect(status).toMatchObject({ tool, ...rest });
      expect(status.appliedCount).toBe(expected.appliedCount);
      if (unknownReason) expect(status.unknownReason).toMatch(unknownReason);
      else expect(status.unknownReason).toBeUndefined();
    },
  );

  test('a missing migration table is reported, not thrown', async () => {
    const spec = migrationsCheckSchema.parse({ tool: 'flyway' });
    const status = await readMigrationStatus(engine, spec, 5000, errorMessage);
    expect(status.error).toMatch(/migration table flyway_schema_history not found/);
    expect(status.appliedCount).toBe(0);
  });

  test('failed migrations make the database unhealthy', async () => {
    const report = await runMonitor(secretData(db), { checks: { migrations: { tool: 'flyway', schema: 'flyway' } } });
    expect(report.health.status).toBe('unhealthy');
    expect(report.health.reasons).toContain('failed migrations: 1.10');
  });

  test('pending migrations make the database degraded', async () => {
    const report = await runMonitor(secretData(db), {
      checks: {
        migrations: { tool: 'knex', schema: 'knex', expectedMigrations: ['20240101_init.js', '20240301_audit.js'] },
      },
    });
    expect(report.health.status).toBe('degraded');
    expect(report.health.reasons).toContain('1 pending migration(s): 20240301_audit.js');
    expect(report.health.migrationStatus?.currentVersion).toBe('20240201');
  });

  test('a missing migration table makes the database degraded with the reason', async () => {
    const report = await runMonitor(secretData(db), { checks: { migrations: { tool: 'alembic', schema: 'public' } } });
    expect(report.health.status).toBe('degraded');
    expect(report.health.reasons[0]).toMatch(
      /migration status unknown: migration table public.alembic_version not found/,
    );
  });
});
