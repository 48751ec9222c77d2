import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { PostgresServer } from '../../test/support/postgres-server.js';

/*
 * The monitored databases: one template migrated by the real Flyway (hack/install-migration-tools.sh, the
 * same driver the migration tests use), copied N times, and one monitoring role (pg_monitor, as both tools'
 * docs advise) that may read the Flyway history.
 */

const HACK = resolve(import.meta.dirname, '../../hack');
export const MONITOR_ROLE = { username: 'monitor', password: 'peer-bench-monitor' };

const MIGRATIONS = {
  'V1__orders.sql': 'CREATE TABLE orders (id bigserial PRIMARY KEY, placed_at timestamptz NOT NULL DEFAULT now());',
  'V2__order_total.sql': 'ALTER TABLE orders ADD COLUMN total numeric(12, 2) NOT NULL DEFAULT 0;',
  'V3__orders_by_time.sql': 'CREATE INDEX orders_placed_at ON orders (placed_at);',
};

/** Creates the role and databases `peer_1` … `peer_<count>`; returns their names. */
export async function createDatabases(pg: PostgresServer, count: number): Promise<string[]> {
  await pg.asSuperuser(
    `CREATE ROLE ${MONITOR_ROLE.username} LOGIN PASSWORD '${MONITOR_ROLE.password}' IN ROLE pg_monitor`,
  );
  await pg.asSuperuser('CREATE DATABASE peer_template');
  flywayMigrate(pg, 'peer_template');
  await pg.asSuperuser(`GRANT SELECT ON flyway_schema_history TO ${MONITOR_ROLE.username}`, 'peer_template');
  const names = Array.from({ length: count }, (_, i) => `peer_${i + 1}`);
  for (const name of names) await pg.asSuperuser(`CREATE DATABASE ${name} TEMPLATE peer_template`);
  return names;
}

function flywayMigrate(pg: PostgresServer, database: string): void {
  const out = execFileSync(join(HACK, 'install-migration-tools.sh'), ['flyway'], { encoding: 'utf8' });
  const flywayDir = out.trim().split('\n').at(-1)!.split(' ')[2]!;
  const locations = mkdtempSync(join(tmpdir(), 'dbwatch-peer-flyway-'));
  try {
    for (const [file, sql] of Object.entries(MIGRATIONS)) writeFileSync(join(locations, file), sql);
    execFileSync(
      'java',
      [
        '-cp',
        `${flywayDir}/lib/*`,
        join(HACK, 'migrations/java/FlywayDriver.java'),
        'migrate',
        `url=jdbc:postgresql://${pg.host}:${pg.port}/${database}`,
        `user=${pg.superuser}`,
        `password=${pg.superuserPassword}`,
        `locations=filesystem:${locations}`,
      ],
      { stdio: 'pipe', timeout: 180_000 },
    );
  } finally {
    rmSync(locations, { recursive: true, force: true });
  }
}
