import { readFileSync } from 'node:fs';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type AlertmanagerServer, exampleConfig, startAlertmanager, TEST_TIMINGS } from '../../support/alertmanager.js';
import { ensureCrds, freshNamespace } from '../../support/kube.js';
import { eventually } from '../../support/operator.js';
import { type OperatorProcess, startOperatorProcess } from '../../support/operator-process.js';
import { type PostgresServer, startPostgres } from '../../support/postgres-server.js';
import { condition, createMonitor, createSecret, getMonitor } from '../../support/resources.js';
import {
  expectDatabaseDown,
  type Notification,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../../support/webhook-receiver.js';

/*
 * Direct notifications, no Prometheus: `dbwatch operator` (its own process) posts its monitors' alerts to a real
 * Alertmanager (Debian's prometheus-alertmanager) running the shipped deploy/alertmanager/webhook.yml (only the
 * URL and the timings shortened), which notifies a webhook receiver in this test. The Alertmanager is hardened
 * (HTTPS, a client certificate required, basic auth): the operator reaches it with the CA, client certificate
 * and credentials from files, as the chart mounts them from a Secret. Two replicas with leader election, as the
 * chart runs them: only the leader posts. One PostgreSQL server holds two
 * monitored databases in one namespace. The scenarios follow one another on one timeline: an outage paged once;
 * Alertmanager restarted and the operator killed mid-outage (no second page); a recovery while Alertmanager is
 * down and the operator dies before delivering it (the resolve still arrives); Alertmanager down when the
 * database stops (failed posts counted, queue bounded, the page arrives once it is back).
 */

const RESEND_S = 2;
const CHANGE_DELAY_S = 1; // Notifier: a status change is sent after this
const GROUP_WAIT_S = Number.parseInt(TEST_TIMINGS.group_wait, 10);
const GROUP_INTERVAL_S = Number.parseInt(TEST_TIMINGS.group_interval, 10);
const INTERVAL_S = 1;
const FAILURE_THRESHOLD = 1;
/** What an outage may take to reach the webhook: debounce + change delay + group_wait, plus 5 s for the check's
 * own time, the status write and watch echo, and the POSTs. */
const PAGE_BOUND_S = FAILURE_THRESHOLD * INTERVAL_S + CHANGE_DELAY_S + GROUP_WAIT_S + 5;

let server: PostgresServer;
let alertmanager: AlertmanagerServer;
let webhook: WebhookReceiver;
/** The leader, and the standby while there is one. */
let operator: OperatorProcess;
let standby: OperatorProcess | undefined;
/** Namespace `ns` holds shop and orders (one group of two alerts), `other` holds billing (a group of one). */
let ns: string;
let other: string;
const MONITORS = () =>
  [
    [ns, 'shop'],
    [ns, 'orders'],
    [other, 'billing'],
  ] as const;
const timeline: string[] = [];
const mark = (what: string, since?: number) =>
  timeline.push(
    `${new Date().toISOString()}  ${what}${since === undefined ? '' : ` (+${((Date.now() - since) / 1000).toFixed(1)} s)`}`,
  );

const operatorEnv = () => ({
  ALERTMANAGER_URL: alertmanager.url,
  ALERTMANAGER_CA_FILE: alertmanager.client!.caFile,
  ALERTMANAGER_CERT_FILE: alertmanager.client!.certFile,
  ALERTMANAGER_KEY_FILE: alertmanager.client!.keyFile,
  ALERTMANAGER_BASIC_AUTH_USERNAME_FILE: alertmanager.client!.usernameFile,
  ALERTMANAGER_BASIC_AUTH_PASSWORD_FILE: alertmanager.client!.passwordFile,
  ALERTMANAGER_RESEND_INTERVAL: `${RESEND_S}s`,
  ALERTMANAGER_RESOLVE_TIMEOUT: '60s',
  ALERTMANAGER_LABELS: 'cluster=test',
});
const startOperator = (identity: string) =>
  startOperatorProcess([ns, other], {
    env: { ...operatorEnv(), LEADER_ELECT: 'true', LEADER_ELECTION_NAMESPACE: ns, POD_NAME: identity },
  });
/** Waits until `replica` holds the Lease (its dbwatch_leader gauge), e.g. after the last leader was killed. */
const leads = (replica: OperatorProcess, timeoutMs = 30_000) =>
  eventually(
    'the replica to lead',
    async () => ((await metricOf(replica, 'dbwatch_leader').catch(() => 0)) === 1 ? true : undefined),
    timeoutMs,
  );

beforeAll(async () => {
  await ensureCrds();
  ns = await freshNamespace('amdirect');
  other = await freshNamespace('amdirect-other');
  server = await startPostgres();
  await server.asSuperuser("CREATE ROLE watcher LOGIN PASSWORD 'Direct-Pw-1'");
  for (const [namespace, db] of MONITORS()) {
    await server.asSuperuser(`CREATE DATABASE ${db} OWNER watcher`);
    await createSecret(namespace, `${db}-db`, {
      host: server.host,
      port: String(server.port),
      database: db,
      username: 'watcher',
      password: 'Direct-Pw-1',
    });
  }
  webhook = await startWebhookReceiver();
  alertmanager = await startAlertmanager(exampleConfig('webhook.yml', webhook.url), { secure: true });
  operator = await startOperator('dbwatch-a');
  await leads(operator);
  standby = await startOperator('dbwatch-b');
  for (const [namespace, db] of MONITORS()) {
    await createMonitor(namespace, db, {
      connection: { secretRef: { name: `${db}-db` }, connectTimeoutSeconds: 1 },
      interval: `${INTERVAL_S}s`,
      timeoutSeconds: 3,
      thresholds: { failureThreshold: FAILURE_THRESHOLD },
    });
  }
}, 120_000);

afterAll(async () => {
  console.log(['Direct notifications timeline:', ...timeline.map((l) => `  ${l}`)].join('\n'));
  await standby?.stop();
  await operator?.stop();
  await alertmanager?.destroy();
  await webhook?.stop();
  await server?.stop();
});

const allReady = (want: string) =>
  eventually(
    `all monitors Ready=${want}`,
    async () => {
      for (const [namespace, name] of MONITORS()) {
        if (condition((await getMonitor(namespace, name)).status, 'Ready')?.status !== want) return undefined;
      }
      return true;
    },
    30_000,
  );
const pages = (namespace: string) => webhook.about('DbwatchDatabaseDown', 'firing', namespace);
const resolves = (namespace: string) => webhook.about('DbwatchDatabaseDown', 'resolved', namespace);
const monitorsIn = (n: Notification, status: string) =>
  n.alerts
    .filter((a) => a.status === status)
    .map((a) => a.labels.monitor)
    .sort();
const sleep = (seconds: number) => new Promise((ok) => setTimeout(ok, seconds * 1000));

/**
 * The notifications since `from` (an index into the log) about `namespace`'s group. Alertmanager skips
 * group_wait for alerts older than it (here: re-sent after an outage), flushing on the first alert's arrival:
 * a group of two may then come as its first alert and, a group_interval later, an update listing both.
 */
function groupSince(from: number, namespace: string, status: 'firing' | 'resolved') {
  const notes = webhook.notifications
    .slice(from)
    .filter((n) =>
      n.alerts.some((a) => a.labels.alertname === 'DbwatchDatabaseDown' && a.labels.namespace === namespace),
    );
  return {
    count: notes.length,
    monitors: [...new Set(notes.flatMap((n) => monitorsIn(n, status)))].sort(),
    other: notes.flatMap((n) => n.alerts.filter((a) => a.status !== status)).length,
  };
}

/** A counter or gauge of the leading operator, summed over its label sets. */
const operatorMetric = (name: string) => metricOf(operator, name);

async function metricOf(replica: OperatorProcess, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${replica.metricsPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

/** A POST of one alert with only some of the credentials: the status code, or the TLS error. */
function postWith(options: https.RequestOptions): Promise<string> {
  return new Promise((resolve) => {
    const req = https.request(
      `${alertmanager.url}/api/v2/alerts`,
      { method: 'POST', timeout: 5000, headers: { 'Content-Type': 'application/json' }, ...options },
      (res) => {
        res.resume();
        resolve(`HTTP ${res.statusCode}`);
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end('[]');
  });
}

describe('direct notifications to a real Alertmanager (no Prometheus)', () => {
  test('the Alertmanager refuses a post without the client certificate or without basic auth', async () => {
    const client = alertmanager.client!;
    const ca = readFileSync(client.caFile);
    const cert = { ca, cert: readFileSync(client.certFile), key: readFileSync(client.keyFile) };
    expect(await postWith({ ca })).not.toMatch(/^HTTP/);
    expect(await postWith(cert)).toBe('HTTP 401');
    expect(
      await postWith({ ...cert, auth: `${readFileSync(client.usernameFile)}:${readFileSync(client.passwordFile)}` }),
    ).toBe('HTTP 200');
  });

  test('a stopped database pages once per namespace, within its debounce + group_wait; re-sends do not page again', async () => {
    await allReady('True');
    const stopped = Date.now();
    mark('PostgreSQL stopped');
    await server.halt();
    await eventually(
      'the pages',
      async () => (pages(ns).length > 0 && pages(other).length > 0 ? true : undefined),
      30_000,
      100,
    );
    mark('pages received', stopped);
    const [page] = pages(ns);
    const tookS = (page!.receivedAt - stopped) / 1000;
    console.log(`direct page after ${tookS.toFixed(1)} s (bound ${PAGE_BOUND_S} s)`);
    expect(tookS).toBeLessThanOrEqual(PAGE_BOUND_S);
    // Grouped per alert and namespace: both databases of the namespace in one notification, the other apart.
    expect(page!.groupLabels).toEqual({ alertname: 'DbwatchDatabaseDown', namespace: ns });
    expect(monitorsIn(page!, 'firing')).toEqual(['orders', 'shop']);
    expect(monitorsIn(pages(other)[0]!, 'firing')).toEqual(['billing']);
    const shop = page!.alerts.find((a) => a.labels.monitor === 'shop')!;
    expectDatabaseDown(shop, ns, 'shop', { cluster: 'test' });
    // startsAt comes from the status (Ready's lastTransitionTime), so any replica posts the same alert.
    const readyCondition = condition((await getMonitor(ns, 'shop')).status, 'Ready')!;
    expect(Date.parse(shop.startsAt)).toBe(Date.parse(readyCondition.lastTransitionTime!));

    await sleep(3 * RESEND_S + GROUP_WAIT_S);
    expect([pages(ns).length, pages(other).length]).toEqual([1, 1]);
    expect(await operatorMetric('dbwatch_alertmanager_alerts_sent_total')).toBeGreaterThan(3);
    // The standby posts nothing.
    expect(await metricOf(standby!, 'dbwatch_alertmanager_alerts_sent_total')).toBe(0);
  }, 60_000);

  test('Alertmanager restarted mid-outage: the operator posts the alerts again, nobody is paged again', async () => {
    await alertmanager.restart();
    mark('Alertmanager restarted (alerts are in memory only; its notification log is on disk)');
    const held = await eventually('the alerts posted again', async () => {
      const alerts = (await alertmanager.alerts()).filter((a) => a.labels.alertname === 'DbwatchDatabaseDown');
      return alerts.length === 3 ? alerts : undefined;
    });
    expect(held.every((a) => a.status.state === 'active')).toBe(true);
    await sleep(GROUP_WAIT_S + RESEND_S + 1);
    expect([pages(ns).length, pages(other).length]).toEqual([1, 1]);
  }, 60_000);

  test('the leader killed mid-outage: the standby takes over and posts the same alerts from the status, nobody is paged again', async () => {
    const killed = Date.now();
    await operator.kill();
    mark('leader killed (SIGKILL)');
    operator = standby!;
    standby = undefined;
    // The Lease runs out (15 s) before the standby may take it.
    await leads(operator, 40_000);
    mark('standby leads', killed);
    await eventually(
      'the new leader to post',
      async () => ((await operatorMetric('dbwatch_alertmanager_alerts_sent_total')) >= 3 ? true : undefined),
      30_000,
    );
    mark('new leader posted', killed);
    await sleep(GROUP_WAIT_S + RESEND_S + 1);
    expect([pages(ns).length, pages(other).length]).toEqual([1, 1]);
    expect([resolves(ns).length, resolves(other).length]).toEqual([0, 0]);
  }, 90_000);

  test('recovery while Alertmanager is down and the operator dies before delivering it: the resolve still arrives, once', async () => {
    await alertmanager.stop();
    mark('Alertmanager stopped');
    await server.resume();
    const resumed = Date.now();
    mark('PostgreSQL started');
    await allReady('True');
    // A post that fails after the recovery carries the resolves (queued alerts are replaced by newer states).
    const failures = await operatorMetric('dbwatch_alertmanager_post_failures_total');
    await eventually('a failed post of the resolves', async () =>
      (await operatorMetric('dbwatch_alertmanager_post_failures_total')) > failures ? true : undefined,
    );
    await operator.kill();
    mark('leader killed before it could deliver the resolves');
    await alertmanager.start();
    mark('Alertmanager started (holds no alert, remembers the pages)');
    const from = webhook.notifications.length;
    // A new replica (as the Deployment would start): it leads once the dead leader's Lease runs out (15 s).
    operator = await startOperator('dbwatch-c');
    await eventually(
      'the resolves',
      async () =>
        groupSince(from, ns, 'resolved').monitors.length === 2 &&
        groupSince(from, other, 'resolved').monitors.length === 1
          ? true
          : undefined,
      60_000,
      100,
    );
    mark('resolves received', resumed);
    await sleep(GROUP_INTERVAL_S + RESEND_S + 1);
    // The group of one: exactly one resolve. The group of two: both resolved, in one notification or (Alertmanager
    // flushing the first old alert on arrival) that and one update; nothing firing.
    expect(groupSince(from, other, 'resolved')).toEqual({ count: 1, monitors: ['billing'], other: 0 });
    const mine = groupSince(from, ns, 'resolved');
    expect(mine.monitors).toEqual(['orders', 'shop']);
    expect(mine.count).toBeLessThanOrEqual(2);
    expect(mine.other).toBe(0);
    expect([pages(ns).length, pages(other).length]).toEqual([1, 1]);
  }, 90_000);

  test('Alertmanager down when the database stops: posts fail and are counted, the queue stays bounded, the page arrives when it is back', async () => {
    await alertmanager.stop();
    mark('Alertmanager stopped');
    const failuresBefore = await operatorMetric('dbwatch_alertmanager_post_failures_total');
    await server.halt();
    mark('PostgreSQL stopped');
    await allReady('False');
    await eventually('failed posts', async () =>
      (await operatorMetric('dbwatch_alertmanager_post_failures_total')) > failuresBefore ? true : undefined,
    );
    // Several resends while it is away: the queue holds at most one entry per alert (3 kinds × 3 monitors).
    for (let i = 0; i < 3; i++) {
      await sleep(RESEND_S);
      expect(await operatorMetric('dbwatch_alertmanager_queue_length')).toBeLessThanOrEqual(9);
    }
    const from = webhook.notifications.length;
    const back = Date.now();
    await alertmanager.start();
    mark('Alertmanager started');
    await eventually(
      'the second outage paged',
      async () =>
        groupSince(from, ns, 'firing').monitors.length === 2 && groupSince(from, other, 'firing').monitors.length === 1
          ? true
          : undefined,
      60_000,
      100,
    );
    mark('pages received', back);
    await sleep(GROUP_INTERVAL_S + 1);
    expect(groupSince(from, other, 'firing')).toEqual({ count: 1, monitors: ['billing'], other: 0 });
    expect(groupSince(from, ns, 'firing').count).toBeLessThanOrEqual(2);

    const recovered = webhook.notifications.length;
    await server.resume();
    mark('PostgreSQL started');
    await eventually(
      'its resolves',
      async () =>
        groupSince(recovered, ns, 'resolved').monitors.length === 2 &&
        groupSince(recovered, other, 'resolved').monitors.length === 1
          ? true
          : undefined,
      30_000,
      100,
    );
    mark('resolves received');
    await sleep(GROUP_INTERVAL_S + RESEND_S + 1);
    // Resolves join groups that have notified and go out at their next group_interval: one notification for the
    // group of one; for the group of two, one or (its two databases recovering across a flush) two.
    expect(groupSince(recovered, other, 'resolved')).toEqual({ count: 1, monitors: ['billing'], other: 0 });
    const mine = groupSince(recovered, ns, 'resolved');
    expect(mine.monitors).toEqual(['orders', 'shop']);
    expect(mine.count).toBeLessThanOrEqual(2);
  }, 120_000);
});
