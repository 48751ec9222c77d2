import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ensureCrds, freshNamespace } from '../../support/kube.js';
import { eventually } from '../../support/operator.js';
import { type OperatorProcess, startOperatorProcess } from '../../support/operator-process.js';
import { type PgBouncer, startPgBouncer } from '../../support/pgbouncer.js';
import { type PostgresServer, startPostgres } from '../../support/postgres-server.js';
import { condition, createMonitor, createSecret, eventsFor, getMonitor } from '../../support/resources.js';

/*
 * The operator as its own process (as in a Pod) while its database is attacked: backends killed again and
 * again, then a fast restart. The process must stay up, report the outage, and show Ready again after.
 */

let server: PostgresServer;
let ns: string;
let operator: OperatorProcess;

const asAdmin = (sql: string) => server.asSuperuser(sql);

beforeAll(async () => {
  await ensureCrds();
  ns = await freshNamespace('faults');
  server = await startPostgres();
  await asAdmin("CREATE ROLE watcher LOGIN PASSWORD 'Faults-Pw-1'");
  await asAdmin('CREATE DATABASE shop OWNER watcher');
  await asAdmin('GRANT pg_monitor TO watcher');
  await createSecret(ns, 'shop-db', {
    host: server.host,
    port: String(server.port),
    database: 'shop',
    username: 'watcher',
    password: 'Faults-Pw-1',
  });
  operator = await startOperatorProcess(ns);
}, 120_000);

let bouncer: PgBouncer | undefined;

afterAll(async () => {
  await operator?.stop();
  await bouncer?.stop();
  await server?.stop();
});

const readyStatus = async () => condition((await getMonitor(ns, 'shop')).status, 'Ready')?.status;

describe('the operator process while its database fails', () => {
  test('killed backends and a fast restart: it stays up, reports the outage and recovers', async () => {
    // Reuse: a warm session between checks for the kills to hit (PerCheck holds one only while it checks).
    await createMonitor(ns, 'shop', {
      connection: { secretRef: { name: 'shop-db' }, connectTimeoutSeconds: 1, sessionPolicy: 'Reuse' },
      interval: '1s',
      timeoutSeconds: 3,
    });
    await eventually('Ready', async () => ((await readyStatus()) === 'True' ? true : undefined), 30_000);
    // Its statements carry the monitor's namespace/name: a DBA finds whose they are in pg_stat_activity.
    const labelled = await asAdmin(
      `SELECT 1 FROM pg_stat_activity WHERE application_name = 'dbwatch' AND datname = 'shop'
       AND starts_with(query, '/* dbwatch:${ns}/shop:')`,
    );
    expect(labelled).toBeGreaterThan(0);

    // Five seconds of killed sessions: checked-out, idle and connecting ones alike.
    let kills = 0;
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      kills += await asAdmin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'dbwatch'",
      ).catch(() => 0);
      await new Promise((ok) => setTimeout(ok, 10));
    }
    expect(kills).toBeGreaterThan(3);
    expect(operator.exits).toEqual([]);

    await server.halt();
    const down = await eventually(
      'Unhealthy while PostgreSQL is down',
      async () => {
        const status = (await getMonitor(ns, 'shop')).status;
        return status?.status === 'unhealthy' ? status : undefined;
      },
      20_000,
    );
    // Whichever the check met first: its session ended by the shutdown, a refused login while shutting down,
    // or no server at all.
    expect(condition(down, 'Connected')).toMatchObject({
      status: 'False',
      reason: expect.stringMatching(/^(ConnectionLost|DatabaseShuttingDown|ConnectionRefused)$/),
    });
    expect(operator.exits).toEqual([]);

    await server.resume();
    const started = Date.now();
    await eventually('Ready again', async () => ((await readyStatus()) === 'True' ? true : undefined), 20_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(operator.exits).toEqual([]);
    expect(operator.output()).not.toMatch(/Unhandled|uncaught/i);
    const reasons = (await eventsFor(ns, 'shop')).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['Unhealthy', 'Recovered']));
  }, 120_000);

  test('through PgBouncer: killed and paused, it reports each with its own reason and recovers', async () => {
    bouncer = await startPgBouncer({ server, mode: 'transaction', defaultPoolSize: 2 });
    await bouncer.addUser('watcher', 'Faults-Pw-1');
    const via = {
      host: bouncer.host,
      port: String(bouncer.port),
      database: 'shop',
      username: 'watcher',
      password: 'Faults-Pw-1',
    };
    await createSecret(ns, 'shop-pgbouncer', via);
    await createSecret(ns, 'pgbouncer-stats', { username: bouncer.stats.username, password: bouncer.stats.password });
    await createMonitor(ns, 'pooled', {
      connection: { secretRef: { name: 'shop-pgbouncer' }, connectTimeoutSeconds: 1 },
      interval: '1s',
      timeoutSeconds: 2,
      checks: { pgbouncer: { secretRef: { name: 'pgbouncer-stats' } } },
    });
    const pooled = async () => (await getMonitor(ns, 'pooled')).status;
    const connected = async () => condition(await pooled(), 'Connected');
    await eventually(
      'Ready through PgBouncer',
      async () => (condition(await pooled(), 'Ready')?.status === 'True' ? true : undefined),
      30_000,
    );
    expect(condition(await pooled(), 'PgBouncerPoolsWithinLimits')?.status).toBe('True');

    await bouncer.kill();
    await eventually(
      'ConnectionRefused while PgBouncer is dead',
      async () => ((await connected())?.reason === 'ConnectionRefused' ? true : undefined),
      20_000,
    );
    await bouncer.restart();
    await bouncer.addUser('watcher', 'Faults-Pw-1');
    await eventually(
      'Ready after the restart',
      async () => (condition(await pooled(), 'Ready')?.status === 'True' ? true : undefined),
      20_000,
    );

    await bouncer.console('PAUSE shop');
    const paused = await eventually(
      'PoolerPaused while paused',
      async () => {
        const status = await pooled();
        return condition(status, 'Connected')?.reason === 'PoolerPaused' ? status : undefined;
      },
      20_000,
    );
    expect(condition(paused, 'PgBouncerPoolsWithinLimits')).toMatchObject({ status: 'False', reason: 'Paused' });
    await bouncer.console('RESUME shop');
    await eventually(
      'Ready after RESUME',
      async () => (condition(await pooled(), 'Ready')?.status === 'True' ? true : undefined),
      20_000,
    );
    expect(operator.exits).toEqual([]);
    expect(operator.output()).not.toMatch(/Unhandled|uncaught/i);
    const reasons = (await eventsFor(ns, 'pooled')).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['Unhealthy', 'Recovered', 'PgBouncerPoolsSaturated']));
  }, 120_000);
});
