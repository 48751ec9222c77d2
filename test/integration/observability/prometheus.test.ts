import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { load } from 'js-yaml';
import pg from 'pg';
import { type AlertmanagerServer, exampleConfig, startAlertmanager, TEST_TIMINGS } from '../../support/alertmanager.js';
import { ensureCrds, freshNamespace } from '../../support/kube.js';
import { eventually } from '../../support/operator.js';
import { type OperatorProcess, startOperatorProcess } from '../../support/operator-process.js';
import { type PgBouncer, startPgBouncer } from '../../support/pgbouncer.js';
import { type PostgresServer, startPostgres } from '../../support/postgres-server.js';
import { type PromAlert, type PrometheusServer, startPrometheus } from '../../support/prometheus.js';
import { condition, createMonitor, createPrerequisite, createSecret, getMonitor } from '../../support/resources.js';
import {
  expectDatabaseDown,
  type Notification,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../../support/webhook-receiver.js';

/*
 * A real Prometheus scrapes `dbwatch operator` (its own process, as in a Pod) running against the real API
 * server and a PostgreSQL of its own, with the shipped rules (deploy/prometheus/dbwatch-rules.yaml) evaluated
 * every second, and sends its alerts to a real Alertmanager running the shipped deploy/alertmanager/webhook.yml
 * (its URL and timings shortened) that notifies a webhook receiver in this test. Two databases on the server,
 * shop and billing, in two namespaces. Stopping PostgreSQL must page once per namespace after DbwatchDatabaseDown's
 * `for`; killing the operator mid-outage must neither resolve nor page again, and DbwatchOperatorDown must inhibit
 * the per-database alerts; starting PostgreSQL must resolve once per namespace. (One database per namespace:
 * Alertmanager skips group_wait for an alert older than it — every alert after a `for: 1m` — so two databases of
 * one namespace firing in different evaluations are one notification and an update; the direct test shows the
 * grouping of two.)
 * Then every query of the shipped dashboard must return series from that Prometheus.
 */

let server: PostgresServer;
let prometheus: PrometheusServer;
let alertmanager: AlertmanagerServer;
let webhook: WebhookReceiver;
let operator: OperatorProcess;
let ns: string;
let other: string;
let metricsPort: number;
let ruleDir: string;
let bouncer: PgBouncer | undefined;

const asAdmin = (sql: string) => server.asSuperuser(sql);

const FLYWAY_TABLE = `CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY, version varchar(50),
  description varchar(200) NOT NULL, type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum int,
  installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(), execution_time int NOT NULL,
  success boolean NOT NULL);
  INSERT INTO flyway_schema_history VALUES (1, '1', 'init', 'SQL', 'V1__init.sql', 1, 'app', now(), 5, true);`;

/** DbwatchDatabaseDown's `for` in the shipped rules, and Alertmanager's group_wait in the test config. */
const FOR_S = 60;
const GROUP_WAIT_S = Number.parseInt(TEST_TIMINGS.group_wait, 10);
const GROUP_INTERVAL_S = Number.parseInt(TEST_TIMINGS.group_interval, 10);
/** Detection before the `for` starts: the next check (1 s), the scrape (1 s), the evaluation (1 s); plus
 * Prometheus's send and Alertmanager's flush. The page must arrive in [for, for + group_wait + this]. */
const SLACK_S = 8;
/** DbwatchOperatorDown's `for` (5m in the shipped rules, promtool-tested) shortened to this for the inhibition. */
const OPERATOR_DOWN_FOR = '5s';

/**
 * The shipped rules with one change: DbwatchOperatorDown's `for` shortened, so that Alertmanager's inhibition
 * can be seen in test time. Everything else (DbwatchDatabaseDown and its `for: 1m` included) is as shipped.
 */
function rulesWithShortOperatorDown(): string {
  interface Rules {
    groups: { rules: { alert?: string; for?: string }[] }[];
  }
  const shipped = load(readFileSync('deploy/prometheus/dbwatch-rules.yaml', 'utf8')) as Rules;
  const rules = JSON.parse(JSON.stringify(shipped)) as Rules;
  const operatorDown = rules.groups.flatMap((g) => g.rules).find((r) => r.alert === 'DbwatchOperatorDown')!;
  expect(operatorDown.for).toBe('5m');
  operatorDown.for = OPERATOR_DOWN_FOR;
  ruleDir = mkdtempSync(join(tmpdir(), 'dbwatch-rules-'));
  const file = join(ruleDir, 'dbwatch-rules.yaml');
  // JSON is YAML.
  writeFileSync(file, JSON.stringify(rules, null, 2));
  return file;
}

async function createDatabase(namespace: string, name: string) {
  await asAdmin(`CREATE DATABASE ${name} OWNER watcher`);
  await createSecret(namespace, `${name}-db`, {
    host: server.host,
    port: String(server.port),
    database: name,
    username: 'watcher',
    password: 'Prom-Pw-1',
  });
}

beforeAll(async () => {
  await ensureCrds();
  ns = await freshNamespace('prom');
  other = await freshNamespace('prom-other');
  server = await startPostgres();
  await asAdmin("CREATE ROLE watcher LOGIN PASSWORD 'Prom-Pw-1'");
  await asAdmin('GRANT pg_monitor TO watcher');
  await createDatabase(ns, 'shop');
  await createDatabase(other, 'billing');
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
  // Bound to exactly the shipped roles, with the Secrets Role in each namespace (as the chart binds it).
  operator = await startOperatorProcess([ns, other]);
  metricsPort = operator.metricsPort;
  webhook = await startWebhookReceiver();
  alertmanager = await startAlertmanager(exampleConfig('webhook.yml', webhook.url));
  prometheus = await startPrometheus({
    targets: [`127.0.0.1:${metricsPort}`],
    ruleFiles: [rulesWithShortOperatorDown()],
    intervalSeconds: 1,
    alertmanagers: [alertmanager.address],
  });
  await createMonitor(ns, 'shop', {
    connection: { secretRef: { name: 'shop-db' }, connectTimeoutSeconds: 1 },
    interval: '1s',
    timeoutSeconds: 3,
    checks: { migrations: { tool: 'flyway', expectedVersion: '1' } },
    slo: { target: '99.9' },
  });
  await createMonitor(other, 'billing', {
    connection: { secretRef: { name: 'billing-db' }, connectTimeoutSeconds: 1 },
    interval: '1s',
    timeoutSeconds: 3,
  });
  await createPrerequisite(ns, 'shop-ready', { databases: [{ name: 'shop', monitorRef: { name: 'shop' } }] });
}, 180_000);

afterAll(async () => {
  await bouncer?.stop();
  await prometheus?.stop();
  await alertmanager?.destroy();
  await webhook?.stop();
  await operator?.stop();
  await server?.stop();
});

const shopUp = async () => (await prometheus.query(`dbwatch_database_up{namespace="${ns}", name="shop"}`))[0]?.value[1];
const downAlert = async (): Promise<PromAlert | undefined> =>
  (await prometheus.alerts()).find(
    (a) => a.labels.alertname === 'DbwatchDatabaseDown' && a.labels.namespace === ns && a.labels.name === 'shop',
  );
const iso = (ms: number) => new Date(ms).toISOString();
const elapsed = (from: number, at: number) => `+${((at - from) / 1000).toFixed(1)} s`;
const pages = (namespace?: string) => webhook.about('DbwatchDatabaseDown', 'firing', namespace);
const resolves = (namespace?: string) => webhook.about('DbwatchDatabaseDown', 'resolved', namespace);
const monitorsIn = (n: Notification) => n.alerts.map((a) => a.labels.monitor).sort();
const ready = async (namespace: string, name: string) =>
  condition((await getMonitor(namespace, name)).status, 'Ready')?.status;

describe('a real Prometheus scraping the operator, alerting through a real Alertmanager', () => {
  test('stopping PostgreSQL pages once per namespace after for + group_wait; an operator killed mid-outage resolves nothing and pages nothing again (inhibited while it is down); starting PostgreSQL resolves once per namespace', async () => {
    await eventually(
      'all Ready',
      async () =>
        (await ready(ns, 'shop')) === 'True' && (await ready(other, 'billing')) === 'True' ? true : undefined,
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
    expect(firing.labels).toMatchObject({ severity: 'critical', engine: 'postgres', monitor: 'shop' });
    expect(firing.annotations.summary).toBe(`Database ${ns}/shop is down`);
    // `for: 1m` holds: the alert cannot fire sooner than a minute after PostgreSQL stopped.
    expect(firedAt - stopped).toBeGreaterThanOrEqual(FOR_S * 1000);

    // At the webhook: one notification per namespace.
    await eventually(
      'a page for each namespace',
      async () => (pages(ns).length > 0 && pages(other).length > 0 ? true : undefined),
      30_000,
      200,
    );
    const [mine] = pages(ns);
    const [theirs] = pages(other);
    for (const page of [mine!, theirs!]) {
      const tookS = (page.receivedAt - stopped) / 1000;
      expect(tookS).toBeGreaterThanOrEqual(FOR_S);
      expect(tookS).toBeLessThanOrEqual(FOR_S + GROUP_WAIT_S + SLACK_S);
    }
    expect(mine!.groupLabels).toEqual({ alertname: 'DbwatchDatabaseDown', namespace: ns });
    expect(monitorsIn(mine!)).toEqual(['shop']);
    expect(monitorsIn(theirs!)).toEqual(['billing']);
    expect(theirs!.groupLabels).toEqual({ alertname: 'DbwatchDatabaseDown', namespace: other });
    // The reason comes from dbwatch_database_status_reason through the rule's template query.
    expectDatabaseDown(mine!.alerts[0]!, ns, 'shop');
    expectDatabaseDown(theirs!.alerts[0]!, other, 'billing');

    // The operator dies mid-outage: its series go stale at once.
    const killed = Date.now();
    await operator.kill();
    await eventually(
      'DbwatchOperatorDown paged',
      async () => (webhook.about('DbwatchOperatorDown', 'firing').length > 0 ? true : undefined),
      30_000,
      200,
    );
    const operatorDownAt = Date.now();
    // Prometheus still holds DbwatchDatabaseDown (no false resolve); Alertmanager mutes it while dbwatch is down.
    expect((await downAlert())?.state).toBe('firing');
    const held = (await alertmanager.alerts()).filter((a) => a.labels.alertname === 'DbwatchDatabaseDown');
    expect(held.map((a) => [a.labels.monitor, a.status.state, a.status.inhibitedBy.length > 0]).sort()).toEqual([
      ['billing', 'suppressed', true],
      ['shop', 'suppressed', true],
    ]);
    // A new operator on the same metrics port (as a restarted Pod behind the same scrape target).
    operator = await startOperatorProcess([ns, other], { metricsPort });
    await eventually(
      'DbwatchOperatorDown resolved',
      async () => (webhook.about('DbwatchOperatorDown', 'resolved').length > 0 ? true : undefined),
      60_000,
      200,
    );
    await eventually('up=0 reported again', async () => ((await shopUp()) === '0' ? true : undefined), 30_000);
    const restartedAt = Date.now();
    await new Promise((ok) => setTimeout(ok, (GROUP_INTERVAL_S + 3) * 1000));
    expect(pages()).toHaveLength(2);
    expect(resolves()).toHaveLength(0);

    const started = Date.now();
    await server.resume();
    await eventually(
      'a resolve for each namespace',
      async () => (resolves(ns).length > 0 && resolves(other).length > 0 ? true : undefined),
      60_000,
      200,
    );
    const resolvedAt = Date.now();
    expect(await shopUp()).toBe('1');
    expect(monitorsIn(resolves(ns)[0]!)).toEqual(['shop']);
    await new Promise((ok) => setTimeout(ok, (GROUP_INTERVAL_S + 2) * 1000));
    expect(resolves()).toHaveLength(2);
    expect(pages()).toHaveLength(2);
    // For the closing note: the timeline as Prometheus, Alertmanager and the receiver saw it.
    console.log(
      [
        'DbwatchDatabaseDown timeline (Prometheus → Alertmanager → webhook):',
        `  PostgreSQL stopped            ${iso(stopped)}`,
        `  alert active (pending) since  ${firing.activeAt}`,
        `  alert firing seen             ${iso(firedAt)} (${elapsed(stopped, firedAt)}; for ${FOR_S} s)`,
        `  page, first namespace        ${iso(mine!.receivedAt)} (${elapsed(stopped, mine!.receivedAt)}; bound ${FOR_S}–${FOR_S + GROUP_WAIT_S + SLACK_S} s: for + group_wait + ${SLACK_S} s)`,
        `  page, second namespace       ${iso(theirs!.receivedAt)} (${elapsed(stopped, theirs!.receivedAt)})`,
        `  operator killed               ${iso(killed)}`,
        `  DbwatchOperatorDown paged     ${iso(operatorDownAt)} (${elapsed(killed, operatorDownAt)}; for shortened to ${OPERATOR_DOWN_FOR})`,
        `  operator reporting again      ${iso(restartedAt)} (no resolve, no second page)`,
        `  PostgreSQL started            ${iso(started)}`,
        `  resolves received             ${iso(resolvedAt)} (${elapsed(started, resolvedAt)})`,
      ].join('\n'),
    );
  }, 300_000);

  test('every query of the shipped Grafana dashboard returns series', async () => {
    // The PgBouncer row needs a monitor with checks.pgbouncer: one through a real PgBouncer in front of shop.
    bouncer = await startPgBouncer({ server, mode: 'transaction' });
    await bouncer.addUser('watcher', 'Prom-Pw-1');
    const via = { host: bouncer.host, port: String(bouncer.port), database: 'shop', username: 'watcher' };
    await createSecret(ns, 'pooled-db', { ...via, password: 'Prom-Pw-1' });
    await createSecret(ns, 'pooled-stats', { username: bouncer.stats.username, password: bouncer.stats.password });
    await createMonitor(ns, 'pooled', {
      connection: { secretRef: { name: 'pooled-db' } },
      interval: '1s',
      checks: { pgbouncer: { secretRef: { name: 'pooled-stats' } } },
    });
    await eventually(
      'PgBouncer pools scraped',
      async () =>
        (await prometheus.query(`dbwatch_pgbouncer_pool_size{namespace="${ns}", name="pooled"}`)).length > 0
          ? true
          : undefined,
      60_000,
    );
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
