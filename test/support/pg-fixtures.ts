import pg from 'pg';
import { type DatabaseMonitorSpec, databaseMonitorSpecSchema } from '../../src/api/index.js';
import type { ConnectionConfig } from '../../src/checks/index.js';

/** The test run's PostgreSQL superuser connection, from global-setup. */
export function adminUrl(): URL {
  const url = process.env.DBWATCH_TEST_PG_URL;
  if (!url) throw new Error('DBWATCH_TEST_PG_URL is not set: run the tests through `npm test`');
  return new URL(url);
}

/** `admin`: another server's superuser URL (a test's own server) instead of the run's. */
export async function withAdmin<T>(
  work: (c: pg.Client) => Promise<T>,
  database = 'postgres',
  admin: URL = adminUrl(),
): Promise<T> {
  const client = new pg.Client({
    host: admin.hostname,
    port: Number(admin.port),
    user: decodeURIComponent(admin.username),
    password: decodeURIComponent(admin.password),
    database,
  });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

let counter = 0;
export const uniqueName = (prefix: string) => `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`;

/** A database and its owner's login; host and port when it is not on the run's server. */
export interface TestDatabase {
  database: string;
  username: string;
  password: string;
  host?: string;
  port?: number;
}

/** Where a database lives: its own server, else the run's. */
function serverOf(db: TestDatabase): { host: string; port: number } {
  if (db.host !== undefined && db.port !== undefined) return { host: db.host, port: db.port };
  const u = adminUrl();
  return { host: u.hostname, port: Number(u.port) };
}

/**
 * A fresh database owned by a fresh login role; the role has no pg_monitor unless asked. `admin`: create it
 * on that server (its superuser URL) instead of the run's.
 */
export async function createDatabase(options: { monitor?: boolean; admin?: URL } = {}): Promise<TestDatabase> {
  const database = uniqueName('db');
  const username = uniqueName('user');
  const password = `S3cret-${Math.random().toString(36).slice(2)}!`;
  await withAdmin(
    async (c) => {
      await c.query(`CREATE ROLE ${username} LOGIN PASSWORD '${password}'`);
      await c.query(`CREATE DATABASE ${database} OWNER ${username}`);
      if (options.monitor) await c.query(`GRANT pg_monitor TO ${username}`);
    },
    'postgres',
    options.admin,
  );
  if (!options.admin) return { database, username, password };
  return { database, username, password, host: options.admin.hostname, port: Number(options.admin.port) };
}

export function connectionConfig(db: TestDatabase, overrides: Partial<ConnectionConfig> = {}): ConnectionConfig {
  const { host, port } = serverOf(db);
  return {
    engine: 'postgres',
    host,
    port,
    database: db.database,
    username: db.username,
    password: db.password,
    tls: { mode: 'disable' },
    connectTimeoutMs: 5000,
    ...overrides,
  };
}

/** Secret data (as a SecretLookup returns it) for a database. */
export function secretData(db: TestDatabase): Record<string, string> {
  const { host, port } = serverOf(db);
  return { host, port: String(port), database: db.database, username: db.username, password: db.password };
}

export function monitorSpec(input: Record<string, unknown> = {}): DatabaseMonitorSpec {
  return databaseMonitorSpecSchema.parse({ engine: 'postgres', connection: { secretRef: { name: 'db' } }, ...input });
}

/** Runs SQL as the database's owner (to create migration tables and the like). */
export async function asOwner(db: TestDatabase, sql: string): Promise<void> {
  const config = connectionConfig(db);
  const client = new pg.Client({
    host: config.host,
    port: config.port,
    user: db.username,
    password: db.password,
    database: db.database,
  });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Flyway's history table as Flyway creates it (flyway-core's createMetaDataTable for PostgreSQL). */
export const FLYWAY_TABLE_SQL = `CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY, version varchar(50),
  description varchar(200) NOT NULL, type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum int,
  installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(), execution_time int NOT NULL,
  success boolean NOT NULL)`;
