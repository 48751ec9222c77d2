import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import pg from 'pg';
import {
  createEngine,
  type DatabaseEngine,
  type MonitorReport,
  type ResolveResult,
  resolveMonitorConnection,
  runMonitorChecks,
} from '../../../src/checks/index.js';
import { asOwner, createDatabase, monitorSpec, secretData, withAdmin } from '../../support/pg-fixtures.js';

/*
 * Database faults on a real PostgreSQL while checks run: killed backends, locks, a statement that swallows
 * its own cancellation, what test queries leave behind. Each must end as a result (never an exception
 * that would end the process), within the budget, with nothing of dbwatch's left on the server.
 */

type Db = Awaited<ReturnType<typeof createDatabase>>;
let db: Db;

const FLYWAY_TABLE = `CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY, version varchar(50),
  description varchar(200) NOT NULL, type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum int,
  installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(), execution_time int NOT NULL,
  success boolean NOT NULL);
  INSERT INTO flyway_schema_history VALUES (1, '1', 'init', 'SQL', 'V1__init.sql', 1, 'app', now(), 5, true);`;

// Loops on pg_sleep and swallows query_canceled: statement_timeout alone can never stop it.
const SWALLOW_FUNCTION = `CREATE FUNCTION swallow_cancel() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  LOOP
    BEGIN
      PERFORM pg_sleep(0.2);
    EXCEPTION WHEN query_canceled THEN NULL;
    END;
  END LOOP;
END $$;`;

beforeAll(async () => {
  db = await createDatabase({ monitor: true });
  await asOwner(db, `${FLYWAY_TABLE}\n${SWALLOW_FUNCTION}`);
});

interface Backend {
  pid: number;
  state: string | null;
  wait_event_type: string | null;
  query: string;
}

/** dbwatch's sessions on the test database, seen by the superuser. */
const dbwatchBackends = () =>
  withAdmin(
    async (c) =>
      (
        await c.query<Backend>(
          "SELECT pid, state, wait_event_type, query FROM pg_stat_activity WHERE application_name = 'dbwatch' AND datname = $1 AND pid <> pg_backend_pid()",
          [db.database],
        )
      ).rows,
  );

const terminateDbwatch = () =>
  withAdmin((c) =>
    c.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'dbwatch' AND datname = $1",
      [db.database],
    ),
  );

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((ok) => setTimeout(ok, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A monitor's engine that lives across passes, as in the operator. */
function monitorFor(specInput: Record<string, unknown>) {
  const spec = monitorSpec(specInput);
  const resolved = resolveMonitorConnection(spec, () => secretData(db)) as Extract<ResolveResult, { ok: true }>;
  if (!resolved.ok) throw new Error('unresolved');
  const engine: DatabaseEngine = createEngine(resolved.config);
  const pass = (includePerformance = false): Promise<MonitorReport> =>
    runMonitorChecks(engine, spec, resolved, {
      includePerformance,
      makeEngine: () => createEngine(resolved.config, { poolSize: 1 }),
    });
  return { engine, pass };
}

/** An owner session holding ACCESS EXCLUSIVE on the migration table until released. */
async function lockMigrationTable() {
  const holder = new pg.Client({ ...secretData(db), port: Number(secretData(db).port), user: db.username });
  holder.on('error', () => undefined);
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query('LOCK TABLE flyway_schema_history IN ACCESS EXCLUSIVE MODE');
  return async () => {
    await holder.query('ROLLBACK');
    await holder.end();
  };
}

describe('faults on a real PostgreSQL while checks run', () => {
  const migrations = { migrations: { tool: 'flyway' } };

  test('a backend terminated while the migration query waits reports ConnectionLost, and the pool heals', async () => {
    const { engine, pass } = monitorFor({ timeoutSeconds: 10, checks: migrations });
    const release = await lockMigrationTable();
    try {
      const running = pass();
      const waiting = await until('dbwatch waiting on the lock', async () =>
        (await dbwatchBackends()).find((b) => b.wait_event_type === 'Lock'),
      );
      await withAdmin((c) => c.query('SELECT pg_terminate_backend($1)', [waiting.pid]));
      const report = await running;
      expect(report.health).toMatchObject({ status: 'unhealthy', connection: false, errorReason: 'ConnectionLost' });
      expect(report.health.error).toMatch(/session lost during the check: terminating connection/);
      expect(report.diagnostics?.connectivity.connectionSuccessful).toBe(true);
    } finally {
      await release();
    }
    const healed = await pass();
    expect(healed.health.status).toBe('healthy');
    await engine.close();
    expect(await dbwatchBackends()).toEqual([]);
  });

  test('a locked migration table gives a result within timeoutSeconds + 1 s and leaves no backend waiting', async () => {
    const { engine, pass } = monitorFor({ timeoutSeconds: 2, checks: migrations });
    const release = await lockMigrationTable();
    try {
      const started = Date.now();
      const report = await pass();
      const elapsed = Date.now() - started;
      expect(elapsed).toBeLessThan(3000);
      expect(report.health.migrationStatus?.error).toMatch(/reading flyway_schema_history: .*(timeout|did not finish)/);
      expect(report.health.status).toBe('degraded');
      // The operator keeps its pool open: none of its sessions may still wait for the lock.
      expect((await dbwatchBackends()).filter((b) => b.wait_event_type === 'Lock')).toEqual([]);
    } finally {
      await release();
    }
    await engine.close();
    expect(await dbwatchBackends()).toEqual([]);
  });

  test('backends killed again and again during passes: every pass is a result, and the next one is healthy', async () => {
    const { engine, pass } = monitorFor({
      timeoutSeconds: 5,
      checks: { ...migrations, performance: { queries: [{ name: 'sleep', sql: 'SELECT pg_sleep(0.01)' }] } },
    });
    let killing = true;
    const killer = (async () => {
      let kills = 0;
      while (killing) {
        kills += (await terminateDbwatch()).rowCount ?? 0;
        await new Promise((ok) => setTimeout(ok, 3));
      }
      return kills;
    })();
    const reports: MonitorReport[] = [];
    const until = Date.now() + 4000;
    while (Date.now() < until) reports.push(await pass(true));
    killing = false;
    const kills = await killer;

    expect(kills).toBeGreaterThan(10);
    expect(reports.length).toBeGreaterThan(5);
    const reasons = new Set(reports.map((r) => r.health.errorReason ?? r.health.status));
    expect(reasons.has('ConnectionLost')).toBe(true);
    for (const r of reports) {
      expect(['healthy', 'degraded', 'unhealthy']).toContain(r.health.status);
      // With the message in the comparison, a misclassified error says what it was.
      if (r.health.status === 'unhealthy')
        expect(`${r.health.errorReason}: ${r.health.error}`).toMatch(/^(ConnectionLost|ConnectionRefused): /);
    }
    expect((await pass(true)).health.status).toBe('healthy');
    await engine.close();
    expect(await dbwatchBackends()).toEqual([]);
  });

  test('a test query terminated mid-run is that query’s error; the pass completes', async () => {
    const { engine, pass } = monitorFor({
      timeoutSeconds: 10,
      checks: { performance: { queries: [{ name: 'sleep', sql: 'SELECT pg_sleep(5)' }], iterations: 1 } },
    });
    const running = pass(true);
    const sleeping = await until('the test query running', async () =>
      (await dbwatchBackends()).find((b) => /pg_sleep\(5\)/.test(b.query) && b.state === 'active'),
    );
    await withAdmin((c) => c.query('SELECT pg_terminate_backend($1)', [sleeping.pid]));
    const report = await running;
    expect(report.performance?.queryPerformance[0]).toMatchObject({ successRate: 0 });
    expect(report.performance?.queryPerformance[0]?.error).toMatch(/terminating connection|Connection terminated/);
    await engine.close();
    expect(await dbwatchBackends()).toEqual([]);
  });

  test('a query that swallows its own cancellation is stopped at the budget and its backend ended', async () => {
    const { engine, pass } = monitorFor({
      timeoutSeconds: 3,
      checks: { performance: { queries: [{ name: 'swallow', sql: 'SELECT swallow_cancel()' }], iterations: 1 } },
    });
    const started = Date.now();
    const report = await pass(true);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(report.performance?.queryPerformance[0]).toMatchObject({ successRate: 0 });
    await engine.close();
    // pg_terminate_backend signals; the backend exits at its next interrupt check (within pg_sleep's 0.2 s).
    await until(
      'no dbwatch backend left',
      async () => ((await dbwatchBackends()).length === 0 ? true : undefined),
      2000,
    );
  });

  test('advisory locks and prepared statements of a test query do not outlive it', async () => {
    const { engine, pass } = monitorFor({
      checks: {
        performance: {
          queries: [
            { name: 'lock', sql: 'SELECT pg_advisory_lock(4242)' },
            // Fails on the second iteration if the first one's statement were still prepared.
            { name: 'prepare', sql: 'PREPARE dbwatch_leftover AS SELECT 1' },
          ],
          iterations: 2,
        },
      },
    });
    const report = await pass(true);
    expect(report.performance?.queryPerformance.map((q) => [q.name, q.successRate])).toEqual([
      ['lock', 100],
      ['prepare', 100],
    ]);
    // The pool stays open, the test session is gone, and the lock with it.
    const free = await withAdmin(
      async (c) => (await c.query('SELECT pg_try_advisory_lock(4242) AS free')).rows[0].free as boolean,
      db.database,
    );
    expect(free).toBe(true);
    await engine.close();
  });
});

afterAll(async () => {
  await terminateDbwatch().catch(() => undefined);
});
