import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { FLYWAY_TABLE_SQL } from '../test/support/pg-fixtures.js';
import { type PostgresServer, startPostgres } from '../test/support/postgres-server.js';

/**
 * The demo database: a throwaway PostgreSQL with an `orders` database as examples/ expect it (an `orders` table,
 * Flyway history at version 2), a login `dbwatch` with pg_monitor. `npm run demo` runs the checks against it
 * once; `npm run cluster:up -- --demo-database` keeps it running beside the cluster (`serve`, below) until
 * `npm run cluster:down`.
 */

export interface DemoDatabase {
  host: string;
  port: string;
  database: string;
  username: string;
  password: string;
}

export async function createOrdersDatabase(server: PostgresServer): Promise<DemoDatabase> {
  const password = `demo-${Math.random().toString(36).slice(2)}`;
  await server.asSuperuser(`CREATE ROLE dbwatch LOGIN PASSWORD '${password}'`);
  await server.asSuperuser('GRANT pg_monitor TO dbwatch');
  // CREATE DATABASE cannot share a (implicit) transaction with other statements.
  await server.asSuperuser('CREATE DATABASE orders OWNER dbwatch');
  const app = new pg.Client({ host: server.host, port: server.port, user: 'dbwatch', password, database: 'orders' });
  app.on('error', () => undefined);
  await app.connect();
  try {
    await app.query(`
      CREATE TABLE orders (id serial PRIMARY KEY, status text NOT NULL);
      INSERT INTO orders (status) SELECT CASE WHEN g % 3 = 0 THEN 'open' ELSE 'shipped' END FROM generate_series(1, 1000) g;
      ${FLYWAY_TABLE_SQL};
      INSERT INTO flyway_schema_history VALUES (1, '1', 'create orders', 'SQL', 'V1__create_orders.sql', 1, 'dbwatch', now(), 12, true),
                                               (2, '2', 'seed orders', 'SQL', 'V2__seed_orders.sql', 2, 'dbwatch', now(), 40, true);`);
  } finally {
    await app.end();
  }
  return { host: server.host, port: String(server.port), database: 'orders', username: 'dbwatch', password };
}

/** The Secret orders-db for it, as a manifest. */
export const ordersSecret = (db: DemoDatabase, namespace?: string) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'orders-db', ...(namespace ? { namespace } : {}) },
  stringData: { ...db },
});

/**
 * `tsx hack/demo-database.ts serve FILE`: starts the demo database, writes its connection (JSON) to FILE, and
 * keeps it until SIGTERM or SIGINT, then stops it and removes its files. cluster:up runs it detached.
 */
if (process.argv[2] === 'serve') {
  const file = process.argv[3];
  if (!file) throw new Error('usage: tsx hack/demo-database.ts serve CONNECTION_FILE');
  const server = await startPostgres();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping PostgreSQL ${server.host}:${server.port}`);
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    writeFileSync(file, JSON.stringify(await createOrdersDatabase(server)), { mode: 0o600 });
  } catch (error) {
    console.error(`could not set up the demo database: ${(error as Error).message}`);
    stop('setup failure');
  }
  console.log(`PostgreSQL ${server.host}:${server.port} serves database orders (data in ${server.dataDir})`);
  // Keeps the process (and so the server) alive until a signal.
  setInterval(() => undefined, 1 << 30);
}
