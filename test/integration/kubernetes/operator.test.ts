import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ensureCrds, freshNamespace, kubectl } from '../../support/kube.js';
import { eventually, startTestOperator, type TestOperator } from '../../support/operator.js';
import { asOwner, createDatabase, secretData } from '../../support/pg-fixtures.js';
import { type PostgresServer, startPostgres } from '../../support/postgres-server.js';
import {
  condition,
  createMonitor,
  createPrerequisite,
  createSecret,
  eventsFor,
  getMonitor,
  getPrerequisite,
  patchMonitor,
  replaceSecret,
} from '../../support/resources.js';

let ns: string;
let operator: TestOperator;
let db: Awaited<ReturnType<typeof createDatabase>>;

beforeAll(async () => {
  await ensureCrds();
  ns = await freshNamespace('operator');
  db = await createDatabase({ monitor: true });
  await asOwner(
    db,
    `CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY, version varchar(50), description varchar(200) NOT NULL,
      type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum int, installed_by varchar(100) NOT NULL,
      installed_on timestamp NOT NULL DEFAULT now(), execution_time int NOT NULL, success boolean NOT NULL);
    INSERT INTO flyway_schema_history VALUES (1, '1', 'init', 'SQL', 'V1__init.sql', 1, 'app', now(), 5, true);`,
  );
  await createSecret(ns, 'orders-db', secretData(db));
  operator = await startTestOperator(ns);
});

afterAll(async () => {
  await operator?.stop();
});

const connection = (secret = 'orders-db') => ({ secretRef: { name: secret }, connectTimeoutSeconds: 2 });

describe('the operator on a real control plane and PostgreSQL', () => {
  test('a healthy database shows healthy in kubectl within 5 s and kubectl wait succeeds', async () => {
    const started = Date.now();
    await createMonitor(ns, 'orders', {
      connection: connection(),
      interval: '30s',
      checks: { migrations: { tool: 'flyway' } },
    });
    const status = await eventually(
      'healthy status',
      async () => {
        const m = await getMonitor(ns, 'orders');
        return m.status?.status === 'healthy' ? m.status : undefined;
      },
      5000,
      100,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(condition(status, 'Ready')).toMatchObject({ status: 'True', reason: 'Healthy' });
    expect(condition(status, 'Connected')?.status).toBe('True');
    expect(condition(status, 'MigrationsApplied')).toMatchObject({ status: 'True', message: 'current version 1' });
    expect(status.observedGeneration).toBe(1);

    const get = await kubectl(['get', 'databasemonitors', '-n', ns]);
    expect(get.stdout).toMatch(/orders\s+True\s+postgres\s+healthy\s+[\d.]+\s+[\d.]+\s+1\s+1\s+\d+s\s+\d+s/);
    const wait = await kubectl(['wait', '--for=condition=Ready', '--timeout=10s', '-n', ns, 'databasemonitor/orders']);
    expect(wait.stdout).toMatch(/condition met/);
    expect((await eventsFor(ns, 'orders')).map((e) => e.reason)).toContain('Healthy');
  });

  test('a missing Secret stalls with its name; creating it recovers without a restart', async () => {
    await createMonitor(ns, 'billing', { connection: connection('billing-db'), interval: '30s' });
    const stalled = await eventually('Stalled', async () => {
      const s = (await getMonitor(ns, 'billing')).status;
      return condition(s, 'Stalled')?.status === 'True' ? s : undefined;
    });
    expect(condition(stalled, 'Stalled')).toMatchObject({
      reason: 'SecretNotFound',
      message: `Secret billing-db not found in namespace ${ns}`,
    });
    expect(condition(stalled, 'Ready')).toMatchObject({ status: 'False', reason: 'SecretNotFound' });

    const { password: _p, ...noPassword } = secretData(db);
    await createSecret(ns, 'billing-db', noPassword);
    await eventually('key missing', async () => {
      const s = (await getMonitor(ns, 'billing')).status;
      return condition(s, 'Stalled')?.reason === 'SecretKeyMissing' ? s : undefined;
    }).then((s) =>
      expect(condition(s, 'Stalled')?.message).toBe('Secret billing-db is missing key password (or a url key)'),
    );

    const fixedAt = Date.now();
    await replaceSecret(ns, 'billing-db', secretData(db));
    const healthy = await eventually('recovered', async () => {
      const s = (await getMonitor(ns, 'billing')).status;
      return s?.status === 'healthy' ? s : undefined;
    });
    expect(Date.now() - fixedAt).toBeLessThan(5000);
    expect(condition(healthy, 'Stalled')?.status).toBe('False');
    expect((await eventsFor(ns, 'billing')).map((e) => e.reason)).toContain('SecretNotFound');
  });

  test('the requestedAt annotation runs a check at once and is echoed in status', async () => {
    await eventually('orders checked', async () =>
      (await getMonitor(ns, 'orders')).status?.status ? true : undefined,
    );
    await patchMonitor(ns, 'orders', { metadata: { annotations: { 'dbwatch.dev/requestedAt': 'now-1' } } });
    const status = await eventually(
      'handled',
      async () => {
        const s = (await getMonitor(ns, 'orders')).status;
        return s?.lastHandledReconcileAt === 'now-1' ? s : undefined;
      },
      5000,
    );
    expect(status.status).toBe('healthy');
  });

  test('a prerequisite over a healthy monitor and one with pending migrations fails, then passes once migrated', async () => {
    await createMonitor(ns, 'reports', {
      connection: connection(),
      interval: '1s',
      checks: { migrations: { tool: 'flyway', expectedVersion: '2' } },
    });
    await createPrerequisite(ns, 'app-ready', {
      databases: [
        { name: 'orders', monitorRef: { name: 'orders' } },
        { name: 'reports', monitorRef: { name: 'reports' } },
      ],
      interval: '30s',
    });
    const failed = await eventually('prerequisite failed', async () => {
      const s = (await getPrerequisite(ns, 'app-ready')).status;
      return s?.overallStatus === 'failed' && s.summary?.total === 2 && s.databases?.every((d) => !d.waiting)
        ? s
        : undefined;
    });
    expect(failed.summary).toEqual({ passed: 1, warning: 0, failed: 1, total: 2 });
    expect(failed.databases?.find((d) => d.name === 'reports')?.issues).toEqual(['pending migrations: 2']);
    expect(condition(failed, 'Ready')).toMatchObject({ status: 'False', reason: 'Failed' });

    await asOwner(
      db,
      `INSERT INTO flyway_schema_history VALUES (2, '2', 'more', 'SQL', 'V2__more.sql', 2, 'app', now(), 5, true)`,
    );
    const passed = await eventually('prerequisite passed', async () => {
      const s = (await getPrerequisite(ns, 'app-ready')).status;
      return s?.overallStatus === 'passed' ? s : undefined;
    });
    expect(passed.summary).toEqual({ passed: 2, warning: 0, failed: 0, total: 2 });
    expect(condition(passed, 'Ready')).toMatchObject({ status: 'True', reason: 'Passed' });
    const reasons = (await eventsFor(ns, 'app-ready')).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['PrerequisiteFailed', 'PrerequisitePassed']));
    const get = await kubectl(['get', 'dbprereq', '-n', ns]);
    expect(get.stdout).toMatch(/app-ready\s+True\s+passed\s+2\s+0\s+0/);
  });

  test('a stable database over many intervals causes heartbeat writes only, not one per check', async () => {
    await createMonitor(ns, 'stable', { connection: connection(), interval: '1s' });
    await eventually('first check', async () =>
      (await getMonitor(ns, 'stable')).status?.status === 'healthy' ? true : undefined,
    );
    const before = await getMonitor(ns, 'stable');
    const checksBefore = await operator.metrics.registry.getSingleMetricAsString('dbwatch_reconcile_total');
    await new Promise((ok) => setTimeout(ok, 8000));
    const after = await getMonitor(ns, 'stable');
    // ~8 checks ran (one per second), yet the stored object did not change: no write without news.
    if (after.metadata.resourceVersion !== before.metadata.resourceVersion)
      console.log(JSON.stringify(before.status), '\n', JSON.stringify(after.status));
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(after.status?.lastCheckTime).toBe(before.status?.lastCheckTime);
    expect(checksBefore).not.toBe(await operator.metrics.registry.getSingleMetricAsString('dbwatch_reconcile_total'));
  });

  test('no secret value reaches logs, Events or status', async () => {
    const everything = [
      operator.logs.join('\n'),
      JSON.stringify(await eventsFor(ns, 'orders')),
      JSON.stringify(await eventsFor(ns, 'billing')),
      JSON.stringify((await getMonitor(ns, 'orders')).status),
      await operator.metrics.registry.metrics(),
    ].join('\n');
    expect(everything.length).toBeGreaterThan(1000);
    const metrics = await operator.metrics.registry.metrics();
    expect(metrics).toMatch(new RegExp(`dbwatch_database_up\\{namespace="${ns}",name="orders",engine="postgres"\\} 1`));
    // Check durations are one histogram over all monitors (per-monitor histograms multiply series).
    for (const check of ['health', 'migrations', 'pool']) {
      expect(metrics).toMatch(
        new RegExp(`dbwatch_check_duration_seconds_count\\{engine="postgres",check="${check}"\\} [1-9]`),
      );
    }
    expect(metrics).not.toMatch(/dbwatch_check_duration_seconds_bucket\{[^}]*namespace=/);
    expect(metrics).toMatch(/dbwatch_schedule_lag_seconds_count\{host_limited="false"\} [1-9]/);
    expect(everything).not.toContain(db.password);
  });
});

describe('outage and recovery', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => server?.stop());

  test('stopping the database makes it Unhealthy within one interval with a Warning Event and diagnostics; starting it gives Recovered', async () => {
    await createSecret(ns, 'own-pg', {
      host: server.host,
      port: String(server.port),
      database: 'postgres',
      username: server.superuser,
      password: server.superuserPassword,
    });
    await createMonitor(ns, 'own', { connection: connection('own-pg'), interval: '2s' });
    await eventually('healthy', async () =>
      (await getMonitor(ns, 'own')).status?.status === 'healthy' ? true : undefined,
    );

    await server.halt();
    const stoppedAt = Date.now();
    const down = await eventually(
      'unhealthy',
      async () => {
        const s = (await getMonitor(ns, 'own')).status;
        return s?.status === 'unhealthy' ? s : undefined;
      },
      10_000,
      100,
    );
    expect(Date.now() - stoppedAt).toBeLessThan(2000 * 1.1 + 2500);
    expect(condition(down, 'Ready')).toMatchObject({ status: 'False', reason: 'Unhealthy' });
    // A check racing the halt truthfully sees its session lost (ConnectionLost) or the server shutting down
    // (DatabaseShuttingDown); every later one is refused.
    expect(['ConnectionRefused', 'ConnectionLost', 'DatabaseShuttingDown']).toContain(
      condition(down, 'Connected')?.reason,
    );
    const refused = await eventually(
      'refused',
      async () => {
        const s = (await getMonitor(ns, 'own')).status;
        return condition(s, 'Connected')?.reason === 'ConnectionRefused' ? s : undefined;
      },
      10_000,
      100,
    );
    expect(condition(refused, 'Connected')?.status).toBe('False');
    expect(refused.diagnostics?.connectivity.failedStage).toBe('tcp');
    expect(refused.diagnostics?.recommendations[0]).toMatch(/Nothing accepts connections/);
    const warnings = await eventually('Unhealthy event', async () => {
      const events = await eventsFor(ns, 'own');
      return events.some((e) => e.reason === 'Unhealthy') ? events : undefined;
    });
    expect(warnings.find((e) => e.reason === 'Unhealthy')?.type).toBe('Warning');

    await server.resume();
    const up = await eventually(
      'recovered',
      async () => {
        const s = (await getMonitor(ns, 'own')).status;
        return s?.status === 'healthy' ? s : undefined;
      },
      10_000,
    );
    expect(up.diagnostics).toBeUndefined();
    const events = await eventually('Recovered event', async () => {
      const e = await eventsFor(ns, 'own');
      return e.some((x) => x.reason === 'Recovered') ? e : undefined;
    });
    expect(events.find((e) => e.reason === 'Recovered')?.type).toBe('Normal');
  });
});
