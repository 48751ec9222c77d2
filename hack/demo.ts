import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { checkCommand } from '../src/cli/check-command.js';
import { startPostgres } from '../test/support/postgres-server.js';
import { createOrdersDatabase, ordersSecret } from './demo-database.js';

/**
 * `npm run demo`: starts a throwaway PostgreSQL, gives it an `orders` database with Flyway history,
 * and runs `dbwatch check` on examples/ against it, for real. Everything is removed afterwards.
 */
const server = await startPostgres();
const dir = mkdtempSync(join(tmpdir(), 'dbwatch-demo-'));
let exitCode = 0;
try {
  const secret = ordersSecret(await createOrdersDatabase(server));
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
