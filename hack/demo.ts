import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import pg from 'pg';
import { checkCommand } from '../src/cli/check-command.js';
import { startPostgres } from '../test/support/postgres-server.js';

/**
 * `npm run demo`: starts a throwaway PostgreSQL, gives it an `orders` database with Flyway history,
 * and runs `dbwatch check` on examples/ against it, for real. Everything is removed afterwards.
 */
const server = await startPostgres();
const dir = mkdtempSync(join(tmpdir(), 'dbwatch-demo-'));
let exitCode = 0;
try {
  const password = `demo-${Math.random().toString(36).slice(2)}`;
  await server.asSuperuser(`CREATE ROLE dbwatch LOGIN PASSWORD '${password}'`);
  await server.asSuperuser('GRANT pg_monitor TO dbwatch');
  // CREATE DATABASE cannot share a (implicit) transaction with other statements.
  await server.asSuperuser('CREATE DATABASE orders OWNER dbwatch');
  const app = new pg.Client({ host: server.host, port: server.port, user: 'dbwatch', password, database: 'orders' });
  app.on('error', () => undefined);
  await app.connect();
  await app.query(`
    CREATE TABLE orders (id serial PRIMARY KEY, status text NOT NULL);
    INSERT INTO orders (status) SELECT CASE WHEN g % 3 = 0 THEN 'open' ELSE 'shipped' END FROM generate_series(1, 1000) g;
    CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY, version varchar(50), description varchar(200) NOT NULL,
      type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum int, installed_by varchar(100) NOT NULL,
      installed_on timestamp NOT NULL DEFAULT now(), execution_time int NOT NULL, success boolean NOT NULL);
    INSERT INTO flyway_schema_history VALUES (1, '1', 'create orders', 'SQL', 'V1__create_orders.sql', 1, 'dbwatch', now(), 12, true),
                                             (2, '2', 'seed orders', 'SQL', 'V2__seed_orders.sql', 2, 'dbwatch', now(), 40, true);`);
  await app.end();
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'orders-db' },
    stringData: { host: server.host, port: String(server.port), database: 'orders', username: 'dbwatch', password },
  };
  writeFileSync(join(dir, 'secret.yaml'), dump(secret));
  console.log(
    `PostgreSQL ${server.host}:${server.port} is up; running: dbwatch check -f examples/monitor.yaml -f examples/prerequisite.yaml -f <demo secret>\n`,
  );
  exitCode = await checkCommand({
    files: ['examples/monitor.yaml', 'examples/prerequisite.yaml', join(dir, 'secret.yaml')],
    output: 'table',
  });
  console.log(`\nexit code ${exitCode}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
  await server.stop();
}
process.exitCode = exitCode;
