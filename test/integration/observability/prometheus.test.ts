import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import pg from 'pg';
import { ensureCrds, freshNamespace } from '../../support/kube.js';
import { eventually } from '../../support/operator.js';
import { type OperatorProcess, startOperatorProcess } from '../../support/operator-process.js';
import { type PostgresServer, startPostgres } from '../../support/postgres-server.js';
import { type PromAlert, type PrometheusServer, startPrometheus } from '../../support/prometheus.js';
import { condition, createMonitor, createPrerequisite, createSecret, getMonitor } from '../../support/resources.js';

/*
 * A real Prometheus scrapes `dbwatch operator` (its own process, as in a Pod) running against the real API
 * server and a PostgreSQL of its own, with the shipped rules (deploy/prometheus/dbwatch-rules.yaml) evaluated
 * every second. Stopping PostgreSQL must fire DbwatchDatabaseDown, starting it must resolve it; then every
 * query of the shipped dashboard must return series from that Prometheus.
 */

let server: PostgresServer;
let prometheus: PrometheusServer;
let operator: OperatorProcess;
let ns: string;

const asAdmin = (sql: string) => server.asSuperuser(sql);

const FLYWAY_TABLE = `CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY, version varchar(50),
  description varchar(200) NOT NULL, type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum int,
  installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(), execution_time int NOT NULL,
  success boolean NOT NULL);
  INSERT INTO flyway_schema_history VALUES (1, '1', 'init', 'SQL', 'V1__init.sql', 1, 'app', now(), 5, true);`;

beforeAll(async () => {
  await ensureCrds();
  ns = await freshNamespace('prom');
  server = await startPostgres();
  await asAdmin("CREATE ROLE watcher LOGIN PASSWORD 'Prom-Pw-1'");
  await asAdmin('CREATE DATABASE shop OWNER watcher');
  await asAdmin('GRANT pg_monitor TO watcher');
  const shop = new pg.Client({
    host: server.host,
    port: server.port,
    user: 'watcher',
    password: 'Prom-Pw-1',
    database: 'shop',
  });
  await shop.connect();
  await shop.query(FLYWAY_TABLE);
  await shop.end();
  await createSecret(ns, 'shop-db', {
    host: server.host,
    port: String(server.port),
    database: 'shop',
    username: 'watcher',
    password: 'Prom-Pw-1',
  });
  // Bound to exactly the shipped roles, with the Secrets Role in this namespace (as the chart binds it).
  operator = await startOperatorProcess(ns);
  prometheus = await startPrometheus({
    targets: [`127.0.0.1:${operator.metricsPort}`],
    ruleFiles: ['deploy/prometheus/dbwatch-rules.yaml'],
    intervalSeconds: 1,
  });
  await createMonitor(ns, 'shop', {
    connection: { secretRef: { name: 'shop-db' }, connectTimeoutSeconds: 1 },
    interval: '1s',
    timeoutSeconds: 3,
    checks: { migrations: { tool: 'flyway', expectedVersion: '1' } },
    slo: { target: '99.9' },
  });
  await createPrerequisite(ns, 'shop-ready', { databases: [{ name: 'shop', monitorRef: { name: 'shop' } }] });
}, 180_000);

afterAll(async () => {
  await prometheus?.stop();
  await operator?.stop();
  await server?.stop();
});

const shopUp = async () => (await prometheus.query(`dbwatch_database_up{namespace="${ns}", name="shop"}`))[0]?.value[1];
const downAlert = async (): Promise<PromAlert | undefined> =>
  (await prometheus.alerts()).find(
    (a) => a.labels.alertname === 'DbwatchDatabaseDown' && a.labels.namespace === ns && a.labels.name === 'shop',
  );
const iso = (ms: number) => new Date(ms).toISOString();

describe('a real Prometheus scraping the operator', () => {
  test('stopping PostgreSQL fires DbwatchDatabaseDown, starting it resolves the alert', async () => {
    await eventually(
      'Ready',
      async () => (condition((await getMonitor(ns, 'shop')).status, 'Ready')?.status === 'True' ? true : undefined),
      60_000,
    );
    await eventually('Prometheus to scrape up=1', async () => ((await shopUp()) === '1' ? true : undefined), 30_000);
    expect(await downAlert()).toBeUndefined();

    const stopped = Date.now();
    await server.halt();
    await eventually('up=0 in Prometheus', async () => ((await shopUp()) === '0' ? true : undefined), 30_000);
    const pending = await eventually('the alert pending', async () => await downAlert(), 30_000);
    expect(pending.state).toBe('pending');
    const firing = await eventually(
      'the alert firing (for: 1m)',
      async () => {
        const alert = await downAlert();
        return alert?.state === 'firing' ? alert : undefined;
      },
      120_000,
      1000,
    );
    const firedAt = Date.now();
    expect(firing.labels).toMatchObject({ severity: 'critical', engine: 'postgres' });
    expect(firing.annotations.summary).toBe(`Database ${ns}/shop is down`);
    // `for: 1m` holds: the alert cannot fire sooner than a minute after PostgreSQL stopped.
    expect(firedAt - stopped).toBeGreaterThanOrEqual(60_000);

    const started = Date.now();
    await server.resume();
    await eventually('the alert resolved', async () => ((await downAlert()) ? undefined : true), 60_000, 500);
    const resolvedAt = Date.now();
    expect(await shopUp()).toBe('1');
    // For the closing note: the timeline as Prometheus and the operator saw it.
    console.log(
      [
        'DbwatchDatabaseDown timeline:',
        `  PostgreSQL stopped   ${iso(stopped)}`,
        `  alert active (pending) since ${firing.activeAt}`,
        `  alert firing seen    ${iso(firedAt)} (+${((firedAt - stopped) / 1000).toFixed(1)} s)`,
        `  PostgreSQL started   ${iso(started)}`,
        `  alert resolved seen  ${iso(resolvedAt)} (+${((resolvedAt - started) / 1000).toFixed(1)} s)`,
      ].join('\n'),
    );
  }, 300_000);

  test('every query of the shipped Grafana dashboard returns series', async () => {
    const dashboard = JSON.parse(readFileSync('deploy/grafana/dbwatch-dashboard.json', 'utf8')) as Dashboard;
    const queries = dashboard.panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({ panel: p.title, expr: concrete(t.expr, ns) })),
    );
    expect(queries.length).toBeGreaterThan(25);
    // Rates need two scrapes of counters that moved; the first test leaves minutes of history.
    const empty: string[] = [];
    for (const { panel, expr } of queries) {
      const result = await prometheus.query(expr);
      if (result.length === 0) empty.push(`${panel}: ${expr}`);
    }
    expect(empty).toEqual([]);
  }, 120_000);
});

interface Dashboard {
  panels: { title: string; targets?: { expr: string }[] }[];
}

/** Grafana's template variables replaced by values a user would pick for this test's namespace. */
function concrete(expr: string, namespace: string): string {
  return expr
    .replaceAll('$namespace', namespace)
    .replaceAll('$monitor', 'shop')
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__range', '5m');
}
