import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ensureCrds, freshNamespace } from '../../support/kube.js';
import { eventually } from '../../support/operator.js';
import { type OperatorProcess, startOperatorProcess } from '../../support/operator-process.js';
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

afterAll(async () => {
  await operator?.stop();
  await server?.stop();
});

const readyStatus = async () => condition((await getMonitor(ns, 'shop')).status, 'Ready')?.status;

describe('the operator process while its database fails', () => {
  test('killed backends and a fast restart: it stays up, reports the outage and recovers', async () => {
    await createMonitor(ns, 'shop', {
      connection: { secretRef: { name: 'shop-db' }, connectTimeoutSeconds: 1 },
      interval: '1s',
      timeoutSeconds: 3,
    });
    await eventually('Ready', async () => ((await readyStatus()) === 'True' ? true : undefined), 30_000);

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
});
