import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { checkCommand, summaryCommand } from '../../../src/cli/check-command.js';
import { writeManifests } from '../../support/manifests.js';
import { asOwner, createDatabase, secretData } from '../../support/pg-fixtures.js';

let db: Awaited<ReturnType<typeof createDatabase>>;
beforeAll(async () => {
  db = await createDatabase({ monitor: true });
  await asOwner(
    db,
    `CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (3, false);`,
  );
});

async function run(files: string[], output: 'table' | 'json' | 'yaml' = 'table', env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await checkCommand({
    files,
    output,
    env,
    write: (t) => (stdout += t),
    writeError: (t) => (stderr += t),
  });
  return { code, stdout, stderr };
}

const prerequisite = (databases: unknown[]) => ({
  apiVersion: 'dbwatch.dev/v1alpha1',
  kind: 'DatabasePrerequisite',
  metadata: { name: 'orders-ready' },
  spec: { databases },
});

describe('dbwatch check', () => {
  test('a healthy monitor prints a table row and exits 0', async () => {
    const dir = writeManifests({
      secret: secretData(db),
      monitor: { checks: { migrations: { tool: 'golang-migrate' } } },
    });
    const { code, stdout } = await run([dir]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^MONITOR\s+ENGINE\s+STATUS\s+RESPONSE\s+UTILIZATION %\s+MIGRATION/);
    expect(stdout).toMatch(/orders\s+postgres\s+healthy\s+[\d.]+ms\s+[\d.]+%\s+3/);
  });

  test('pending migrations exit 1, an unreachable database exits 2', async () => {
    const pending = writeManifests({
      secret: secretData(db),
      monitor: { checks: { migrations: { tool: 'golang-migrate', expectedVersion: '4' } } },
    });
    expect((await run([pending])).code).toBe(1);
    const down = writeManifests({ secret: { ...secretData(db), database: 'gone' }, monitor: {} });
    const result = await run([down]);
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/FAIL database/);
  });

  test('credentials can come from the environment instead of a Secret manifest', async () => {
    const dir = writeManifests({ monitor: {} });
    const env = Object.fromEntries(
      Object.entries(secretData(db)).map(([k, v]) => [`DBWATCH_SECRET_DB_${k.toUpperCase()}`, v]),
    );
    const { code, stdout } = await run([dir], 'json', env);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).databases[0].result.health.status).toBe('healthy');
  });

  test('one key from the environment, the others from a Secret file (the password left out of it)', async () => {
    const { password, ...rest } = secretData(db);
    const dir = writeManifests({ secret: rest, monitor: {} });
    const { code, stdout } = await run([dir], 'json', { DBWATCH_SECRET_DB_PASSWORD: password });
    expect(code).toBe(0);
    expect(JSON.parse(stdout).databases[0].status).toBe('healthy');
  });

  test('without -f: says what to give, exit 3', async () => {
    const { code, stderr } = await run([]);
    expect(code).toBe(3);
    expect(stderr).toBe(
      'error: no manifests given: name the files or directories to run with -f (repeatable), e.g. dbwatch check -f examples/quickstart/',
    );
  });

  test('an invalid manifest prints the field path and message and runs nothing', async () => {
    const dir = writeManifests({
      secret: secretData(db),
      monitor: { interval: 'soon', thresholds: { poolUtilizationPercent: 150 } },
    });
    const { code, stdout, stderr } = await run([dir]);
    expect(code).toBe(3);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/DatabaseMonitor\/orders: spec\.interval: must be a duration such as 30s, 5m or 1h30m/);
    expect(stderr).toMatch(/spec\.thresholds\.poolUtilizationPercent: Too big/);
  });

  test('a missing Secret key is named and nothing runs', async () => {
    const { password: _omitted, ...withoutPassword } = secretData(db);
    const dir = writeManifests({ secret: withoutPassword, monitor: {} });
    const { code, stderr } = await run([dir]);
    expect(code).toBe(3);
    expect(stderr).toMatch(/Secret db is missing key password/);
  });

  test('a prerequisite reports per database and fails when one database is down', async () => {
    const dir = writeManifests({
      secret: secretData(db),
      monitor: { checks: { migrations: { tool: 'golang-migrate' } } },
      extra: [
        { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'down' }, stringData: { ...secretData(db), port: '1' } },
        prerequisite([
          { name: 'orders', monitorRef: { name: 'orders' } },
          { name: 'legacy', engine: 'postgres', connection: { secretRef: { name: 'down' }, connectTimeoutSeconds: 2 } },
        ]),
      ],
    });
    const { code, stdout } = await run([dir], 'json');
    expect(code).toBe(2);
    const result = JSON.parse(stdout).prerequisites[0].result;
    expect(result.overallStatus).toBe('failed');
    expect(result.summary).toEqual({ passed: 1, warning: 0, failed: 1, total: 2 });
    expect(result.databases.find((d: { name: string }) => d.name === 'legacy').issues[0]).toMatch(/cannot connect/);
  });

  test('summary gives the worst case and a breakdown', async () => {
    const dir = writeManifests({
      secret: secretData(db),
      monitor: {},
      extra: [
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'down' },
          stringData: { ...secretData(db), database: 'gone' },
        },
        {
          apiVersion: 'dbwatch.dev/v1alpha1',
          kind: 'DatabaseMonitor',
          metadata: { name: 'legacy' },
          spec: { engine: 'postgres', connection: { secretRef: { name: 'down' } } },
        },
      ],
    });
    let stdout = '';
    const code = await summaryCommand({ files: [dir], output: 'table', env: {}, write: (t) => (stdout += t) });
    expect(code).toBe(2);
    expect(stdout).toMatch(/^Overall: unhealthy {2}files: 2 databases: 1 healthy, 0 degraded, 1 unhealthy\n/);
    expect(stdout).toMatch(/default\/legacy: Database gone does not exist/);
  });

  test('dbwatch --version prints the package version', async () => {
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'src/cli/main.ts', '--version']);
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(stdout).toBe(`dbwatch ${version}\n`);
  });

  test('the dbwatch binary documents its commands', async () => {
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'src/cli/main.ts', 'check', '--help']);
    expect(stdout).toMatch(
      /Exit codes: 0 all healthy\/passed, 1 degraded\/warning, 2 unhealthy\/failed, 3 invalid input/,
    );
    expect(stdout).toMatch(/DBWATCH_SECRET_<SECRET>_<KEY>/);
    expect(stdout).toMatch(/-o, --output <format>/);
  });
});
