import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import pg from 'pg';
import { classifyPostgresError } from '../../../src/checks/engines/postgres.js';
import { adviceFor } from '../../../src/checks/recommendations.js';
import { adminUrl, asOwner, createDatabase, secretData, withAdmin } from '../../support/pg-fixtures.js';
import { type PgBouncer, type PoolMode, scramSecretOf, startPgBouncer } from '../../support/pgbouncer.js';
import { runMonitor } from '../../support/run-monitor.js';

/*
 * dbwatch through a real PgBouncer (Debian's, default settings) in front of the test PostgreSQL, in each
 * pooling mode, and PgBouncer's own faults: killed, paused, full, refusing a login or a startup parameter.
 */

type Db = Awaited<ReturnType<typeof createDatabase>>;
let db: Db;
const bouncers: PgBouncer[] = [];

const FLYWAY = `CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY, version varchar(50),
  description varchar(200) NOT NULL, type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum int,
  installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(), execution_time int NOT NULL,
  success boolean NOT NULL);
  INSERT INTO flyway_schema_history VALUES (1, '1', 'init', 'SQL', 'V1__init.sql', 1, 'app', now(), 5, true);
  CREATE TABLE customers (id int PRIMARY KEY, active boolean); INSERT INTO customers VALUES (1, true), (2, false);`;

// Loops on pg_sleep and swallows query_canceled: neither statement_timeout nor a cancel request stops it.
const SWALLOW = `CREATE FUNCTION swallow_cancel() RETURNS int LANGUAGE plpgsql AS $$
BEGIN LOOP BEGIN PERFORM pg_sleep(0.2); EXCEPTION WHEN query_canceled THEN NULL; END; END LOOP; END $$;`;

async function bouncer(mode: PoolMode, options: Partial<Parameters<typeof startPgBouncer>[0]> = {}) {
  const server = { host: secretData(db).host!, port: Number(secretData(db).port) };
  const b = await startPgBouncer({ server, mode, defaultPoolSize: 1, ...options });
  bouncers.push(b);
  await b.addUser(db.username, db.password);
  return b;
}

const via = (b: PgBouncer) => ({ ...secretData(db), host: b.host, port: String(b.port) });
const statsSecret = (b: PgBouncer) => ({ ...via(b), username: b.stats.username, password: b.stats.password });

/** A plain client through PgBouncer, as an application would connect. */
async function plainClient(b: PgBouncer, user = db.username, password = db.password) {
  const client = new pg.Client({ host: b.host, port: b.port, user, password, database: db.database });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Backends of the test database running a statement that matches `pattern`, as the superuser sees them. */
const running = (pattern: string) =>
  withAdmin(
    async (c) =>
      (
        await c.query(
          "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND query LIKE $2 AND pid <> pg_backend_pid()",
          [db.database, `%${pattern}%`],
        )
      ).rows,
  );

beforeAll(async () => {
  db = await createDatabase({ monitor: true });
  await asOwner(db, `${FLYWAY}\n${SWALLOW}`);
});

afterAll(async () => {
  for (const b of bouncers) await b.stop();
});

describe.each(['session', 'transaction', 'statement'] as const)('through PgBouncer in %s pooling', (mode) => {
  let b: PgBouncer;
  beforeAll(async () => {
    // A session-pooled client keeps its server connection: dbwatch's warm session and its test-query
    // session need two at once.
    b = await bouncer(mode, { defaultPoolSize: mode === 'session' ? 2 : 1 });
  });

  test('every check works and the database is healthy', async () => {
    const report = await runMonitor(via(b), {
      checks: {
        migrations: { tool: 'flyway', expectedVersion: '1' },
        performance: {
          queries: [
            { name: 'select-1', sql: 'SELECT 1' },
            { name: 'active', sql: 'SELECT count(*) FROM customers WHERE active' },
          ],
          iterations: 2,
        },
      },
    });
    expect(report.health).toMatchObject({ status: 'healthy', connection: true, queryTest: true });
    expect(report.health.migrationStatus).toMatchObject({ currentVersion: '1', failedMigrations: [] });
    expect(report.pool?.server?.total).toBeGreaterThan(0);
    expect(report.performance?.queryPerformance.map((q) => [q.name, q.successRate])).toEqual([
      ['select-1', 100],
      ['active', 100],
    ]);
  });

  test('nothing a check or a test query does stays on the server connection for the next client', async () => {
    const report = await runMonitor(via(b), {
      checks: {
        migrations: { tool: 'flyway' },
        performance: {
          queries: [
            { name: 'setting', sql: "SELECT set_config('work_mem', '7MB', false)" },
            { name: 'lock', sql: 'SELECT pg_advisory_lock(4242)' },
            { name: 'prepare', sql: 'PREPARE dbwatch_leftover AS SELECT 1' },
            { name: 'listen', sql: 'LISTEN dbwatch_channel' },
            { name: 'cursor', sql: 'DECLARE dbwatch_cursor CURSOR WITH HOLD FOR SELECT 1' },
            // RESET ALL leaves a role alone.
            { name: 'role', sql: "SELECT set_config('role', 'pg_monitor', false)" },
          ],
          iterations: 2,
        },
      },
    });
    expect(report.performance?.queryPerformance.every((q) => q.successRate === 100)).toBe(true);
    // default_pool_size 1 (2 in session pooling): the plain client gets a server connection dbwatch used.
    const client = await plainClient(b);
    try {
      const { rows } = await client.query(`SELECT current_setting('statement_timeout') AS statement_timeout,
        current_setting('lock_timeout') AS lock_timeout, current_setting('work_mem') AS work_mem,
        current_setting('transaction_read_only') AS read_only,
        current_setting('default_transaction_read_only') AS default_read_only, current_user::text AS role,
        (SELECT count(*)::int FROM pg_prepared_statements) AS prepared,
        (SELECT count(*)::int FROM pg_cursors) AS cursors,
        (SELECT count(*)::int FROM pg_listening_channels()) AS channels,
        (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory') AS advisory_locks`);
      expect(rows[0]).toEqual({
        statement_timeout: '0',
        lock_timeout: '0',
        work_mem: '4MB',
        read_only: 'off',
        default_read_only: 'off',
        role: db.username,
        prepared: 0,
        cursors: 0,
        channels: 0,
        advisory_locks: 0,
      });
    } finally {
      await client.end();
    }
  });

  test('a test query that opens a transaction fails with why, and pins no server connection', async () => {
    const report = await runMonitor(via(b), {
      checks: { performance: { queries: [{ name: 'begin', sql: 'BEGIN' }], iterations: 2 } },
    });
    expect(report.performance?.queryPerformance[0]).toMatchObject({
      successRate: 0,
      // Statement pooling refuses the transaction itself.
      error: expect.stringMatching(/left a transaction open|transaction blocks not allowed in statement pooling mode/),
    });
    // default_pool_size 1: a pinned server connection would keep this client waiting.
    const client = await plainClient(b);
    try {
      expect((await client.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    } finally {
      await client.end();
    }
  });

  test('a DELETE hidden after a COMMIT in a test query is refused and never performed', async () => {
    const report = await runMonitor(via(b), {
      checks: { performance: { queries: [{ name: 'w', sql: 'SELECT 1; COMMIT; DELETE FROM customers' }] } },
    });
    expect(report.performance?.queryPerformance[0]).toMatchObject({
      successRate: 0,
      error: expect.stringMatching(/must be exactly one statement/),
    });
    const left = await withAdmin(
      async (c) => (await c.query('SELECT count(*)::int AS n FROM customers')).rows[0].n,
      db.database,
    );
    expect(left).toBe(2);
  });

  test('a slow test query is ended on the server within timeoutSeconds + 1 s', async () => {
    const started = Date.now();
    const report = await runMonitor(via(b), {
      timeoutSeconds: 2,
      checks: { performance: { queries: [{ name: 'slow', sql: 'SELECT pg_sleep(30)' }], iterations: 1 } },
    });
    expect(report.performance?.queryPerformance[0]).toMatchObject({ successRate: 0 });
    // The statement timeout fired on the server: by timeout + 1 s no backend runs it any more.
    const wait = started + 3000 - Date.now();
    if (wait > 0) await new Promise((ok) => setTimeout(ok, wait));
    expect(await running('pg_sleep(30)')).toEqual([]);
  });
});

test('an auth_file with the SCRAM secret (as auth_query reads it): dbwatch logs in, PgBouncer logs into PostgreSQL with its proof', async () => {
  const server = { host: secretData(db).host!, port: Number(secretData(db).port) };
  const b = await startPgBouncer({ server, mode: 'transaction', defaultPoolSize: 1 });
  bouncers.push(b);
  const secret = await scramSecretOf(adminUrl().toString(), db.username);
  expect(secret).toMatch(/^SCRAM-SHA-256\$4096:/);
  await b.addUser(db.username, secret);
  // Fresh: its first server connection is made with the check's SCRAM proof (no password in PgBouncer).
  expect((await b.console<{ database: string }>('SHOW SERVERS')).filter((s) => s.database === db.database)).toEqual([]);
  const report = await runMonitor(via(b));
  expect(report.health).toMatchObject({ status: 'healthy', connection: true, queryTest: true });
  const wrong = await runMonitor({ ...via(b), password: 'not-the-password' }, { timeoutSeconds: 3 });
  expect(wrong.health).toMatchObject({ status: 'unhealthy', connection: false });
});

describe('PgBouncer faults', () => {
  test('a statement that swallows its cancellation is ended through the pooler (transaction pooling)', async () => {
    const b = await bouncer('transaction');
    const started = Date.now();
    const report = await runMonitor(via(b), {
      timeoutSeconds: 2,
      checks: { performance: { queries: [{ name: 'swallow', sql: 'SELECT swallow_cancel()' }], iterations: 1 } },
    });
    expect(Date.now() - started).toBeLessThan(4000);
    expect(report.performance?.queryPerformance[0]).toMatchObject({ successRate: 0 });
    const deadline = Date.now() + 2000;
    while ((await running('swallow_cancel')).length > 0 && Date.now() < deadline)
      await new Promise((ok) => setTimeout(ok, 50));
    expect(await running('swallow_cancel')).toEqual([]);
  });

  test('a killed PgBouncer is ConnectionRefused, and healthy again once it is back', async () => {
    const b = await bouncer('transaction');
    await b.kill();
    const down = await runMonitor(via(b), { timeoutSeconds: 3 });
    expect(down.health).toMatchObject({ status: 'unhealthy', connection: false, errorReason: 'ConnectionRefused' });
    expect(down.diagnostics?.connectivity.failedStage).toBe('tcp');
    await b.restart();
    await b.addUser(db.username, db.password);
    expect((await runMonitor(via(b))).health.status).toBe('healthy');
  });

  test('a paused PgBouncer is PoolerPaused, with the pause named, and healthy again after RESUME', async () => {
    const b = await bouncer('transaction');
    await b.console(`PAUSE ${db.database}`);
    const check = { pgbouncer: { secretRef: { name: 'stats' } } };
    const secrets = (name: string) => (name === 'stats' ? statsSecret(b) : via(b));
    const paused = await runMonitor(secrets, { timeoutSeconds: 3, checks: check });
    expect(paused.health).toMatchObject({ status: 'unhealthy', errorReason: 'PoolerPaused' });
    expect(paused.pgbouncer).toMatchObject({ reason: 'Paused', poolHealth: 'high' });
    expect(paused.health.reasons.join()).toMatch(/paused/);
    await b.console(`RESUME ${db.database}`);
    // The clients that waited through the pause (the paused check's own among them) are served at RESUME;
    // until PgBouncer has, it truthfully shows them waiting.
    let resumed = await runMonitor(secrets, { checks: check });
    for (let i = 0; i < 20 && resumed.health.status !== 'healthy'; i++) {
      await new Promise((ok) => setTimeout(ok, 250));
      resumed = await runMonitor(secrets, { checks: check });
    }
    expect(resumed.health.status).toBe('healthy');
    expect(resumed.pgbouncer?.reason).toBe('WithinLimits');
  });

  test('max_client_conn reached is PoolerClientLimit, not a bad login', async () => {
    const b = await bouncer('transaction', { maxClientConn: 2 });
    const held = [await plainClient(b), await plainClient(b)];
    try {
      const report = await runMonitor(via(b), { timeoutSeconds: 3 });
      expect(report.health).toMatchObject({ status: 'unhealthy', errorReason: 'PoolerClientLimit' });
      expect(report.diagnostics?.recommendations.join()).toMatch(/max_client_conn/);
    } finally {
      for (const c of held) await c.end();
    }
  });

  test('a login PgBouncer does not know is PoolerLoginRejected, never WrongPassword', async () => {
    const b = await bouncer('transaction');
    const report = await runMonitor({ ...via(b), username: 'nobody_here' }, { timeoutSeconds: 3 });
    expect(report.health).toMatchObject({ status: 'unhealthy', errorReason: 'PoolerLoginRejected' });
    expect(report.diagnostics?.recommendations.join()).toMatch(/PgBouncer/);
  });

  test('a refused startup parameter is named as PgBouncer’s, with what to change', async () => {
    const b = await bouncer('transaction');
    // What dbwatch sent before this change: node-postgres's `options` startup parameter.
    const client = new pg.Client({ ...clientOf(b), options: '-c statement_timeout=1000' });
    client.on('error', () => undefined);
    const error = await client.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    await client.end().catch(() => undefined);
    const classified = classifyPostgresError(error);
    expect(classified).toMatchObject({ stage: 'authentication', cause: 'PoolerRefusedParameter' });
    expect(classified.message).toMatch(/PgBouncer.*unsupported startup parameter: options/);
    expect(adviceFor(classified.cause, { ...clientConfig(b), engine: 'postgres' }, 1000)).toMatch(
      /ignore_startup_parameters/,
    );
  });
});

describe("PgBouncer's own pools (checks.pgbouncer)", () => {
  test('pools within limits are reported with their figures', async () => {
    const b = await bouncer('transaction', { defaultPoolSize: 4 });
    const app = await plainClient(b);
    await app.query('SELECT 1');
    await app.end();
    const report = await runMonitor((n) => (n === 'stats' ? statsSecret(b) : via(b)), {
      checks: { pgbouncer: { secretRef: { name: 'stats' } } },
    });
    expect(report.health.status).toBe('healthy');
    expect(report.pgbouncer).toMatchObject({
      version: expect.stringMatching(/^1\./),
      reason: 'WithinLimits',
      poolHealth: 'optimal',
      clientsWaiting: 0,
      maxClientConnections: 100,
    });
    expect(report.pgbouncer?.pools).toContainEqual(
      expect.objectContaining({ database: db.database, user: db.username, poolMode: 'transaction', poolSize: 4 }),
    );
  });

  test('a pool with waiting clients is high, with the waiting count, and the database degraded', async () => {
    const b = await bouncer('transaction', { defaultPoolSize: 1 });
    // Another login's pool (db, app) is held by an open transaction; a second client of it waits.
    const app = { username: `${db.username}_app`, password: 'app-Secret-1' };
    await withAdmin((c) => c.query(`CREATE ROLE ${app.username} LOGIN PASSWORD '${app.password}'`));
    await b.addUser(app.username, app.password);
    const holder = await plainClient(b, app.username, app.password);
    const waiter = await plainClient(b, app.username, app.password);
    await holder.query('BEGIN; SELECT 1');
    const waiting = waiter.query('SELECT 1').catch(() => undefined);
    try {
      const report = await runMonitor((n) => (n === 'stats' ? statsSecret(b) : via(b)), {
        checks: { pgbouncer: { secretRef: { name: 'stats' } } },
      });
      expect(report.pgbouncer).toMatchObject({ poolHealth: 'high', reason: 'ClientsWaiting', clientsWaiting: 1 });
      expect(report.pgbouncer?.pools).toContainEqual(
        expect.objectContaining({ user: app.username, clientsWaiting: 1, serversActive: 1, poolSize: 1 }),
      );
      expect(report.pgbouncer?.recommendation).toMatch(/1 client\(s\) wait .*default_pool_size/);
      expect(report.health.status).toBe('degraded');
    } finally {
      await holder.query('ROLLBACK');
      await waiting;
      await holder.end();
      await waiter.end();
    }
  });

  test('a login outside stats_users is reported as not measured, with what to do', async () => {
    const b = await bouncer('transaction');
    const report = await runMonitor(via(b), { checks: { pgbouncer: {} } });
    expect(report.pgbouncer).toMatchObject({ reason: 'NotMeasured' });
    expect(report.pgbouncer?.recommendation).toMatch(/stats_users/);
    expect(report.health.status).toBe('degraded');
  });
});

const clientOf = (b: PgBouncer) => ({
  host: b.host,
  port: b.port,
  user: db.username,
  password: db.password,
  database: db.database,
});
const clientConfig = (b: PgBouncer) => ({ host: b.host, port: b.port, database: db.database, username: db.username });
