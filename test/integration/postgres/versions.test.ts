import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import pg from 'pg';
import { poolHealthFor } from '../../../src/checks/pool.js';
import {
  asOwner,
  connectionConfig,
  createDatabase,
  secretData,
  type TestDatabase,
  withAdmin,
} from '../../support/pg-fixtures.js';
import {
  installPostgres,
  POSTGRES_INSTALL_TIMEOUT_MS,
  type PostgresBuild,
  type PostgresServer,
  pinnedPostgresMajors,
  startPostgres,
} from '../../support/postgres-server.js';
import { runMonitor } from '../../support/run-monitor.js';
import { dbwatchStatus, INSTALL_TIMEOUT_MS, installTool, pgUrl, run, scratch } from '../migrations/real-tools.js';

/**
 * dbwatch's checks on every PostgreSQL major it supports (the builds hack/install-postgres.sh pins), one server
 * at a time: health, connection utilization, migrations through the real golang-migrate, performance.
 */
const MAJORS = pinnedPostgresMajors();
const HELD = 4;
// Small, so that filling the server to its limit is cheap. startPostgres reserves 3 for superusers.
const MAX_CONNECTIONS = 12;
const SUPERUSER_RESERVED = 3;
// PostgreSQL 16 added reserved_connections (for pg_use_reserved_connections); older servers reject the setting.
const RESERVED_FROM = 16;
const RESERVED = 2;
const maxUsableOf = (major: number) => MAX_CONNECTIONS - SUPERUSER_RESERVED - (major >= RESERVED_FROM ? RESERVED : 0);

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const timings: string[] = [];
const suiteStarted = Date.now();

let migrate: string;
beforeAll(() => {
  migrate = join(installTool('golang-migrate').dir, 'migrate');
}, INSTALL_TIMEOUT_MS);
afterAll(() => {
  process.stdout.write(
    `PostgreSQL version matrix:\n${timings.map((t) => `  ${t}\n`).join('')}  total ${seconds(Date.now() - suiteStarted)}\n`,
  );
});

test('the README and docs/checks.md list exactly the majors the matrix runs', () => {
  const listed = `PostgreSQL ${MAJORS.slice(0, -1).join(', ')} and ${MAJORS.at(-1)}`;
  for (const doc of ['README.md', 'docs/checks.md']) {
    expect(readFileSync(join(import.meta.dirname, '../../..', doc), 'utf8')).toContain(listed);
  }
});

describe.each(MAJORS)('PostgreSQL %i', (major) => {
  let build: PostgresBuild;
  let server: PostgresServer | undefined;
  let admin: URL;
  const spent = { install: 0, start: 0, stop: 0 };
  let checksStarted = 0;
  const held: pg.Client[] = [];

  beforeAll(async () => {
    let at = Date.now();
    build = installPostgres(major);
    spent.install = Date.now() - at;
    at = Date.now();
    server = await startPostgres({
      build,
      maxConnections: MAX_CONNECTIONS,
      settings: major >= RESERVED_FROM ? [`reserved_connections=${RESERVED}`] : [],
    });
    admin = new URL(server.url);
    spent.start = Date.now() - at;
    checksStarted = Date.now();
  }, POSTGRES_INSTALL_TIMEOUT_MS + 60_000);
  afterEach(async () => {
    await Promise.all(held.splice(0).map((c) => c.end().catch(() => undefined)));
  });
  afterAll(async () => {
    const checks = Date.now() - checksStarted;
    await server?.stop();
    timings.push(
      `PostgreSQL ${build?.version ?? major}: install ${seconds(spent.install)}, start ${seconds(spent.start)}, checks ${seconds(checks)}, stop ${seconds(spent.stop)}`,
    );
  });

  const newDatabase = (monitor = false) => createDatabase({ monitor, admin });
  async function hold(db: TestDatabase, count: number): Promise<void> {
    const { host, port, username, password, database } = connectionConfig(db);
    for (let i = 0; i < count; i++) {
      const client = new pg.Client({ host, port, user: username, password, database });
      client.on('error', () => undefined);
      await client.connect();
      held.push(client);
    }
  }

  test('health: healthy, and the status carries this server version', async () => {
    expect(build.version).toMatch(new RegExp(`^${major}\\.\\d+$`));
    const report = await runMonitor(secretData(await newDatabase(true)));
    expect(report.health).toMatchObject({ status: 'healthy', connection: true, queryTest: true, reasons: [] });
    expect(report.health.responseTimeMs).toBeGreaterThan(0);
    expect(report.health.database).toEqual({ version: build.version, state: 'ONLINE', readOnly: false });
  });

  test(`pool: ${HELD} held connections are counted against max_connections minus both reserves`, async () => {
    const reserved = await withAdmin(
      async (c) => (await c.query("SELECT current_setting('reserved_connections', true) AS r")).rows[0].r,
      'postgres',
      admin,
    );
    // Before 16 the setting does not exist (NULL): the check's coalesce is what keeps maxUsable right there.
    expect(reserved).toBe(major >= RESERVED_FROM ? String(RESERVED) : null);
    const db = await newDatabase(true);
    await hold(db, HELD);
    await held[0]!.query('BEGIN');
    await held[0]!.query('SELECT 1');
    const report = await runMonitor(secretData(db));
    const server = report.pool!.server!;
    // The held ones and the monitor's own connection: nothing else is connected to this server.
    expect(server).toMatchObject({
      total: HELD + 1,
      idleInTransaction: 1,
      maxUsable: maxUsableOf(major),
      visibility: 'full',
      other: 0,
    });
    expect(server.utilizationPercent).toBe(Math.round(((HELD + 1) / maxUsableOf(major)) * 10_000) / 100);
    expect(report.pool!.poolHealth).toBe(poolHealthFor(server.utilizationPercent, 80));
    expect(report.pool!.recommendation).toMatch(/1 session\(s\) idle in transaction/);
  });

  test('pool: a login without pg_monitor gets its figures marked partial, with advice', async () => {
    await hold(await newDatabase(true), HELD);
    const report = await runMonitor(secretData(await newDatabase()));
    expect(report.pool!.server!.visibility).toBe('partial');
    expect(report.pool!.recommendation).toMatch(/grant it pg_monitor/);
  });

  // Without pg_read_all_stats other roles' sessions read backend_type NULL on every major 12-18: counted by
  // their database and role, not dropped (total was 1 with 4 held before the query said so).
  test("pool: without pg_monitor, other roles' sessions still count towards the total", async () => {
    await hold(await newDatabase(true), HELD);
    const report = await runMonitor(secretData(await newDatabase()));
    expect(report.pool!.server).toMatchObject({ total: HELD + 1, other: HELD, visibility: 'partial' });
  });

  test('pool: maxUsable is exactly how many connections a non-superuser gets; then the monitor says so', async () => {
    const db = await newDatabase(true);
    const { maxUsable } = (await runMonitor(secretData(db))).pool!.server!;
    let refused: Error | undefined;
    while (!refused && held.length <= maxUsable) {
      await hold(db, 1).catch((error: Error) => {
        refused = error;
      });
    }
    expect(held.length).toBe(maxUsable);
    expect(refused?.message).toMatch(/remaining connection slots are reserved/);
    // Each major words the refusal its own way; the reason and the advice must not depend on it.
    const full = await runMonitor(secretData(db));
    expect(full.health).toMatchObject({ status: 'unhealthy', errorReason: 'TooManyConnections' });
    expect(full.health.error).toMatch(/remaining connection slots are reserved/);
    expect(full.diagnostics?.recommendations.join()).toMatch(/no free connection slots/);
  });

  test('migrations: the real golang-migrate, part-way then dirty, read from its table', async () => {
    const db = await newDatabase();
    const source = scratch({
      '1_a.up.sql': 'CREATE TABLE a (id int);',
      '2_b.up.sql': 'CREATE TABLE b (id int);',
      '3_c.up.sql': 'CREATE TABLE c (id int); SELECT no_such_function();',
    });
    try {
      const tool = (...args: string[]) =>
        run(migrate, ['-path', source.dir, '-database', pgUrl(db, '?sslmode=disable'), ...args]);
      expect(tool('up', '2').code).toBe(0);
      const expected = { tool: 'golang-migrate' as const, expectedVersion: '3' };
      expect(await dbwatchStatus(db, expected)).toMatchObject({
        currentVersion: '2',
        pendingMigrations: ['3'],
        failedMigrations: [],
      });
      expect(tool('up').code).not.toBe(0);
      const version = tool('version');
      expect(`${version.stdout}${version.stderr}`.trim()).toBe('3 (dirty)');
      const report = await runMonitor(secretData(db), { checks: { migrations: expected } });
      expect(report.health.migrationStatus).toMatchObject({
        currentVersion: '3',
        pendingMigrations: [],
        failedMigrations: ['3'],
      });
      expect(report.health.status).toBe('unhealthy');
      expect(report.health.reasons).toContain('failed migrations: 3');
    } finally {
      source.remove();
    }
  });

  test('performance: fast queries rate excellent, slow ones poor, an overrun is cancelled by the server', async () => {
    const db = await newDatabase();
    await asOwner(
      db,
      'CREATE TABLE customers (id int PRIMARY KEY, active boolean); INSERT INTO customers VALUES (1, true);',
    );
    const performance = async (queries: { name: string; sql: string }[], extra: Record<string, unknown> = {}) =>
      (await runMonitor(secretData(db), { checks: { performance: { queries, iterations: 3, ...extra } } }))
        .performance!;

    const fast = await performance([
      { name: 'select-1', sql: 'SELECT 1' },
      { name: 'active', sql: 'SELECT count(*) FROM customers WHERE active' },
    ]);
    expect(fast.queryPerformance.map((q) => q.successRate)).toEqual([100, 100]);
    expect(fast.connectionMetrics.successfulConnections).toBe(3);
    expect(fast.overallAssessment.performanceRating).toBe('excellent');

    const slow = await performance([{ name: 'slow', sql: 'SELECT pg_sleep(0.25)' }], { targetMs: 50 });
    expect(slow.queryPerformance[0]!.timing!.minMs).toBeGreaterThanOrEqual(250);
    expect(slow.overallAssessment.performanceRating).toBe('poor');

    const started = Date.now();
    const overrun = await runMonitor(secretData(db), {
      timeoutSeconds: 1,
      checks: { performance: { queries: [{ name: 'sleepy', sql: 'SELECT pg_sleep(5)' }], iterations: 1 } },
    });
    expect(Date.now() - started).toBeLessThan(4000);
    expect(overrun.performance!.queryPerformance[0]).toMatchObject({
      successRate: 0,
      error: expect.stringMatching(/statement timeout/),
    });
  });

  test('stopping leaves nothing behind: no server process, no files, the port closed', async () => {
    const live = server!;
    const postmaster = Number(readFileSync(join(live.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(() => process.kill(postmaster, 0)).not.toThrow();
    const at = Date.now();
    await live.stop();
    spent.stop = Date.now() - at;
    server = undefined;
    expect(() => process.kill(postmaster, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(existsSync(live.dataDir)).toBe(false);
    expect(existsSync(join(live.dataDir, '..'))).toBe(false);
    const refused = await new Promise<string>((done) => {
      const socket = net.connect(live.port, live.host);
      socket.once('connect', () => {
        socket.destroy();
        done('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });
});
