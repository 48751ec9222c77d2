import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, jest, test } from '@jest/globals';
import { load } from 'js-yaml';
import { pino } from 'pino';
import { type DatabaseMonitorStatus, databaseMonitorSpecSchema, parseDuration } from '../../src/api/index.js';
import type { MonitorReport } from '../../src/checks/monitor.js';
import { monitorReason } from '../../src/controller/monitor/reason.js';
import { AlertQueue } from '../../src/controller/notify/alert-queue.js';
import { type AlertPoster, AlertSender, type SenderMetrics } from '../../src/controller/notify/alert-sender.js';
import { AlertmanagerClient, PostFailed } from '../../src/controller/notify/alertmanager-client.js';
import {
  ALERT_TEXT,
  DIRECT_ALERTS,
  type DirectAlert,
  HOLD_MS,
  monitorAlerts,
  type PostableAlert,
  toPostable,
} from '../../src/controller/notify/direct-alerts.js';
import { Notifier } from '../../src/controller/notify/notifier.js';
import { alertmanagerSettingsFromEnv } from '../../src/controller/notify/settings.js';
import { OperatorMetrics } from '../../src/controller/runtime/metrics.js';
import type { MonitorObject } from '../../src/controller/types.js';
import { checkedStatus, healthReport, stalledStatus, suspendedStatus } from '../support/monitor-report.js';

/*
 * The direct notifier's decisions, on statuses built by the reconciler's own pure functions: which alerts a
 * status calls for (and that any replica computes the same), the labels and texts against the Prometheus rules,
 * the bounded queue, the sender's retry and drop accounting, and the settings.
 */

const spec = databaseMonitorSpecSchema.parse({ engine: 'postgres', connection: { secretRef: { name: 'db' } } });
const t0 = new Date('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);
const WINDOW_MS = 15 * 60_000;

const report = healthReport;

/** A monitor's status after these checks, each at its own second. */
function statusAfter(...checks: [number, MonitorReport][]): DatabaseMonitorStatus | undefined {
  let status: DatabaseMonitorStatus | undefined;
  for (const [s, r] of checks)
    status = checkedStatus({ previous: status, report: r, spec, generation: 1, now: at(s) }).status;
  return status;
}
const monitor = (status: DatabaseMonitorStatus | undefined, name = 'orders'): MonitorObject => ({
  metadata: { namespace: 'shop', name },
  spec: { engine: 'postgres' },
  ...(status ? { status } : {}),
});
const firing = (alerts: DirectAlert[]) => alerts.filter((a) => a.endsAt === undefined);
const resolved = (alerts: DirectAlert[]) => alerts.filter((a) => a.endsAt !== undefined);

describe('what a status calls for', () => {
  test('healthy for long: nothing', () => {
    expect(monitorAlerts(monitor(statusAfter([0, report('healthy')])), at(3600), WINDOW_MS)).toEqual([]);
  });

  test('down: DbwatchDatabaseDown firing since Ready went False, the other kinds resolved; the reason is the cause', () => {
    const status = statusAfter([0, report('healthy')], [10, report('unhealthy')], [20, report('unhealthy')]);
    const alerts = monitorAlerts(monitor(status), at(25), WINDOW_MS);
    expect(firing(alerts)).toEqual([
      expect.objectContaining({
        alertname: 'DbwatchDatabaseDown',
        startsAt: at(10).toISOString(),
        reason: 'ConnectionRefused',
        engine: 'postgres',
      }),
    ]);
    expect(resolved(alerts).map((a) => [a.alertname, a.endsAt])).toEqual([
      ['DbwatchMigrationsFailed', at(10).toISOString()],
      ['DbwatchDatabaseDegraded', at(10).toISOString()],
    ]);
  });

  test('any replica, at any later time, computes the same firing alert (nothing comes from process memory)', () => {
    const status = statusAfter([0, report('healthy')], [10, report('unhealthy')]);
    const a = monitorAlerts(monitor(status), at(11), WINDOW_MS);
    const b = monitorAlerts(monitor(JSON.parse(JSON.stringify(status))), at(4000), WINDOW_MS);
    expect(b).toEqual(a);
  });

  test('debounced: a failure below failureThreshold calls for nothing', () => {
    const threeStrikes = databaseMonitorSpecSchema.parse({ ...spec, thresholds: { failureThreshold: 3 } });
    let status: DatabaseMonitorStatus | undefined;
    for (const [s, r] of [
      [0, report('healthy')],
      [10, report('unhealthy')],
      [20, report('unhealthy')],
    ] as const) {
      status = checkedStatus({ previous: status, report: r, spec: threeStrikes, generation: 1, now: at(s) }).status;
    }
    // Two failures, Ready still True since 0 s (outside the window at 3600 s): nothing.
    expect(monitorAlerts(monitor(status), at(3600), WINDOW_MS)).toEqual([]);
  });

  test('degraded: DbwatchDatabaseDegraded after 10 minutes (the rule’s for); reachable with a failed migration: DbwatchMigrationsFailed', () => {
    const pending = { tool: 'flyway', currentVersion: '1', pendingMigrations: ['2'], failedMigrations: [] };
    const degraded = statusAfter([0, report('degraded', { migrationStatus: pending as never })]);
    expect(firing(monitorAlerts(monitor(degraded), at(599), WINDOW_MS))).toEqual([]);
    expect(firing(monitorAlerts(monitor(degraded), at(600), WINDOW_MS))).toEqual([
      expect.objectContaining({
        alertname: 'DbwatchDatabaseDegraded',
        reason: 'MigrationsPending',
        startsAt: at(0).toISOString(),
      }),
    ]);
    const failed = { ...pending, pendingMigrations: [], failedMigrations: ['2'] };
    const broken = statusAfter([
      0,
      report('unhealthy', { connection: true, queryTest: true, migrationStatus: failed as never }),
    ]);
    expect(firing(monitorAlerts(monitor(broken), at(5), WINDOW_MS))).toEqual([
      expect.objectContaining({ alertname: 'DbwatchMigrationsFailed', reason: 'MigrationFailed', failedMigrations: 1 }),
    ]);
  });

  test('recovered: every kind resolved at the recovery, for the window after it, then nothing', () => {
    const status = statusAfter([0, report('unhealthy')], [60, report('healthy')]);
    const soon = monitorAlerts(monitor(status), at(70), WINDOW_MS);
    expect(firing(soon)).toEqual([]);
    expect(resolved(soon).map((a) => [a.alertname, a.startsAt, a.endsAt])).toEqual(
      DIRECT_ALERTS.map((name) => [name, at(60).toISOString(), at(60).toISOString()]),
    );
    expect(monitorAlerts(monitor(status), at(60 + WINDOW_MS / 1000 - 1), WINDOW_MS)).toHaveLength(3);
    expect(monitorAlerts(monitor(status), at(60 + WINDOW_MS / 1000), WINDOW_MS)).toEqual([]);
  });

  test('stalled or suspended while down: resolved (nothing measured, as the rules say), from that transition', () => {
    const down = statusAfter([0, report('unhealthy')]);
    const stalled = stalledStatus(down, 'SecretNotFound', 'Secret db not found', 1, at(30)).status;
    expect(monitorReason(stalled)).toBe('SecretNotFound');
    const alerts = monitorAlerts(monitor(stalled), at(40), WINDOW_MS);
    expect(firing(alerts)).toEqual([]);
    expect(resolved(alerts).every((a) => a.endsAt === at(30).toISOString())).toBe(true);
    const suspended = suspendedStatus(down, 2, at(50));
    expect(firing(monitorAlerts(monitor(suspended), at(55), WINDOW_MS))).toEqual([]);
    expect(monitorReason(suspended)).toBe('Suspended');
  });

  test('a monitor never checked calls for nothing', () => {
    expect(monitorAlerts(monitor(undefined), at(1), WINDOW_MS)).toEqual([]);
  });
});

describe('labels and texts', () => {
  const down = monitorAlerts(monitor(statusAfter([0, report('unhealthy')])), at(1), WINDOW_MS)[0]!;

  test('the label set is identity only: no reason, no error text; extra labels added, own labels kept', () => {
    const posted = toPostable(down, { cluster: 'prod' }, at(900).toISOString());
    expect(posted.labels).toEqual({
      cluster: 'prod',
      alertname: 'DbwatchDatabaseDown',
      severity: 'critical',
      namespace: 'shop',
      name: 'orders',
      monitor: 'orders',
      engine: 'postgres',
    });
    expect(posted.annotations.reason).toBe('ConnectionRefused');
    expect(posted.annotations.description).toContain('it is unhealthy'); // the Ready message
    expect(posted.endsAt).toBe(at(900).toISOString());
    expect(posted.startsAt).toBe(at(0).toISOString());
  });

  test('severity, summary and runbook are the rules’ own (deploy/prometheus/dbwatch-rules.yaml)', () => {
    interface Rule {
      alert?: string;
      for?: string;
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
    }
    const rules = (
      load(readFileSync('deploy/prometheus/dbwatch-rules.yaml', 'utf8')) as { groups: { rules: Rule[] }[] }
    ).groups.flatMap((g) => g.rules);
    for (const alertname of DIRECT_ALERTS) {
      const rule = rules.find((r) => r.alert === alertname)!;
      const sample = { ...down, alertname, failedMigrations: 2 };
      const posted = toPostable(sample, {}, at(900).toISOString());
      const render = (template: string) =>
        template
          .replaceAll('{{ $labels.namespace }}', 'shop')
          .replaceAll('{{ $labels.name }}', 'orders')
          .replaceAll('{{ $value }}', '2');
      expect({ alertname, severity: posted.labels.severity }).toEqual({ alertname, severity: rule.labels?.severity });
      expect(posted.labels.monitor).toBe(render(rule.labels?.monitor ?? ''));
      expect(posted.annotations.summary).toBe(render(rule.annotations?.summary ?? ''));
      expect(posted.annotations.runbook_url).toBe(rule.annotations?.runbook_url);
      expect(Object.keys(posted.annotations).sort()).toEqual(Object.keys(rule.annotations ?? {}).sort());
      expect(ALERT_TEXT[alertname]).toBeDefined();
      // Degraded (reported at once) waits the rule's `for`; unhealthy is debounced by failureThreshold instead.
      if (alertname === 'DbwatchDatabaseDegraded') expect(HOLD_MS[alertname]).toBe(parseDuration(rule.for!));
      else expect(HOLD_MS[alertname]).toBe(0);
    }
  });
});

const alert = (name: string, endsAt?: string): DirectAlert => ({
  alertname: 'DbwatchDatabaseDown',
  namespace: 'shop',
  name,
  startsAt: t0.toISOString(),
  ...(endsAt ? { endsAt } : {}),
  reason: 'ConnectionRefused',
  detail: '',
  failedMigrations: 0,
});

describe('the queue', () => {
  test('one entry per alert (newest wins, in place), never more than its capacity', () => {
    const queue = new AlertQueue(2);
    expect(queue.push([alert('a'), alert('b'), alert('c')])).toBe(1);
    expect(queue.push([alert('a', at(5).toISOString())])).toBe(0);
    expect(queue.size).toBe(2);
    expect(queue.take(10).map((a) => [a.name, a.endsAt])).toEqual([
      ['a', at(5).toISOString()],
      ['b', undefined],
    ]);
  });

  test('a failed batch goes back unless a newer state of an alert arrived meanwhile', () => {
    const queue = new AlertQueue(10);
    queue.push([alert('a'), alert('b')]);
    const batch = queue.take(10);
    queue.push([alert('a', at(5).toISOString())]);
    queue.putBack(batch);
    expect(queue.take(10).map((a) => [a.name, a.endsAt])).toEqual([
      ['a', at(5).toISOString()],
      ['b', undefined],
    ]);
  });
});

function recordingMetrics() {
  const seen = { sent: 0, postFailed: 0, dropped: {} as Record<string, number>, queue: 0 };
  const metrics: SenderMetrics = {
    sent: (_u, n) => {
      seen.sent += n;
    },
    postFailed: () => {
      seen.postFailed++;
    },
    dropped: (_u, reason, n) => {
      seen.dropped[reason] = (seen.dropped[reason] ?? 0) + n;
    },
    queueLength: (_u, n) => {
      seen.queue = n;
    },
  };
  return { seen, metrics };
}

/** A poster that fails while `down` is true (connection refused) and records what it received. */
function flakyPoster(reject?: PostFailed) {
  const received: PostableAlert[][] = [];
  const state = { down: true };
  const poster: AlertPoster = {
    url: 'http://am:9093',
    post: async (alerts) => {
      if (reject) throw reject;
      if (state.down) throw new PostFailed('http://am:9093: ECONNREFUSED', true);
      received.push(alerts);
    },
    close: () => undefined,
  };
  return { poster, received, state };
}
const until = async (what: () => boolean) => {
  for (let i = 0; i < 200 && !what(); i++) await new Promise((ok) => setTimeout(ok, 5));
  expect(what()).toBe(true);
};
const log = pino({ level: 'silent' });

describe('the sender', () => {
  test('Alertmanager away: posts fail and are counted, the queue does not grow with resends, all is delivered after', async () => {
    const { seen, metrics } = recordingMetrics();
    const { poster, received, state } = flakyPoster();
    const sender = new AlertSender(poster, {
      capacity: 3,
      batchSize: 2,
      resolveTimeoutMs: 60_000,
      extraLabels: {},
      metrics,
      log,
      now: () => at(100),
      backoff: { baseMs: 1, maxMs: 5 },
    });
    for (let resend = 0; resend < 20; resend++) {
      sender.enqueue([alert('a'), alert('b'), alert('c'), alert('d')]);
      await new Promise((ok) => setTimeout(ok, 2));
    }
    expect(sender.queued).toBeLessThanOrEqual(3);
    expect(seen.postFailed).toBeGreaterThan(0);
    expect(seen.dropped.queue_full).toBeGreaterThanOrEqual(20);
    state.down = false;
    await until(() => sender.queued === 0 && seen.sent === 3);
    const names = received.flat().map((a) => a.labels.name);
    expect(new Set(names)).toEqual(new Set(['a', 'b', 'c']));
    // Firing alerts get endsAt = send time + resolve timeout.
    expect(received[0]![0]!.endsAt).toBe(at(160).toISOString());
    await sender.stop();
  });

  test('rejected by Alertmanager (HTTP 4xx): dropped and counted, not retried', async () => {
    const { seen, metrics } = recordingMetrics();
    const { poster } = flakyPoster(new PostFailed('http://am:9093: HTTP 400: bad alert', false));
    const sender = new AlertSender(poster, {
      capacity: 10,
      batchSize: 10,
      resolveTimeoutMs: 60_000,
      extraLabels: {},
      metrics,
      log,
    });
    sender.enqueue([alert('a'), alert('b')]);
    await until(() => seen.dropped.rejected === 2);
    expect(sender.queued).toBe(0);
    expect(seen.postFailed).toBe(1);
    await sender.stop();
  });
});

describe('the notifier', () => {
  function setup(objects: MonitorObject[]) {
    const sent: DirectAlert[][] = [];
    const fakeSender = { enqueue: (alerts: DirectAlert[]) => sent.push([...alerts]), stop: async () => undefined };
    let now = at(30);
    const notifier = new Notifier({
      senders: [fakeSender as unknown as AlertSender],
      monitors: () => objects,
      resendIntervalMs: 60_000,
      resolveTimeoutMs: WINDOW_MS,
      changeDelayMs: 1,
      now: () => now,
    });
    return { notifier, sent, setNow: (d: Date) => (now = d) };
  }

  test('a resend queues every alert the status calls for; a change queues only what changed', async () => {
    const orders = monitor(statusAfter([0, report('unhealthy')]), 'orders');
    const billing = monitor(statusAfter([0, report('healthy')]), 'billing');
    const { notifier, sent } = setup([orders, billing]);
    notifier.resendAll();
    expect(sent.at(-1)!.map((a) => `${a.name}:${a.alertname}:${a.endsAt ? 'resolved' : 'firing'}`)).toEqual([
      'orders:DbwatchDatabaseDown:firing',
      'orders:DbwatchMigrationsFailed:resolved',
      'orders:DbwatchDatabaseDegraded:resolved',
      'billing:DbwatchDatabaseDown:resolved',
      'billing:DbwatchMigrationsFailed:resolved',
      'billing:DbwatchDatabaseDegraded:resolved',
    ]);
    orders.status = statusAfter([0, report('unhealthy')], [20, report('healthy')]);
    notifier.changed();
    await until(() => sent.length === 2);
    // billing did not change; orders' three alerts did (firing → resolved, the others' endsAt moved).
    expect(sent[1]!.map((a) => a.name)).toEqual(['orders', 'orders', 'orders']);
    expect(sent[1]!.every((a) => a.endsAt === at(20).toISOString())).toBe(true);
    await notifier.stop();
  });

  test('periodic resends: firing alerts and recent resolves, not the other kinds of a firing monitor; a resend that cannot fit rotates', () => {
    jest.useFakeTimers({ now: at(30) });
    try {
      const down = (name: string) => monitor(statusAfter([0, report('unhealthy')]), name);
      const recovered = monitor(statusAfter([0, report('unhealthy')], [20, report('healthy')]), 'recovered');
      const sent: DirectAlert[][] = [];
      const notifier = new Notifier({
        senders: [{ enqueue: (a: DirectAlert[]) => sent.push([...a]), stop: async () => undefined } as never],
        monitors: () => [down('a'), down('b'), down('c'), recovered],
        resendIntervalMs: 1000,
        resolveTimeoutMs: WINDOW_MS,
        capacity: 3, // one monitor's alerts per queue
      });
      notifier.start();
      for (let i = 0; i < 4; i++) jest.advanceTimersByTime(1000);
      const describe = (alerts: DirectAlert[]) => alerts.map((a) => `${a.name}:${a.endsAt ? 'resolved' : 'firing'}`);
      // The first pass finds everything new; later ones re-send firing alerts and recent resolves only.
      expect(sent[0]).toHaveLength(12);
      expect(describe(sent[1]!)).toEqual([
        'b:firing',
        'c:firing',
        'recovered:resolved',
        'recovered:resolved',
        'recovered:resolved',
        'a:firing',
      ]);
      // Each resend starts one monitor further down (capacity 3 / 3 alerts per monitor).
      expect(sent.map((alerts) => alerts[0]!.name)).toEqual(['a', 'b', 'c', 'recovered']);
      void notifier.stop();
    } finally {
      jest.useRealTimers();
    }
  });

  test('a held alert fires when its hold ends, without any status change', () => {
    jest.useFakeTimers({ now: at(0) });
    try {
      const pending = { tool: 'flyway', currentVersion: '1', pendingMigrations: ['2'], failedMigrations: [] };
      const degraded = monitor(statusAfter([0, report('degraded', { migrationStatus: pending as never })]));
      const sent: DirectAlert[][] = [];
      const notifier = new Notifier({
        senders: [{ enqueue: (a: DirectAlert[]) => sent.push([...a]), stop: async () => undefined } as never],
        monitors: () => [degraded],
        resendIntervalMs: 3_600_000,
        resolveTimeoutMs: WINDOW_MS,
      });
      notifier.resendAll();
      expect(firing(sent.flat())).toEqual([]);
      jest.advanceTimersByTime(10 * 60_000 + 1);
      expect(firing(sent.at(-1)!)).toEqual([expect.objectContaining({ alertname: 'DbwatchDatabaseDegraded' })]);
    } finally {
      jest.useRealTimers();
    }
  });

  test('a deleted monitor that was firing is resolved at once', () => {
    const { notifier, sent } = setup([]);
    notifier.deleted(monitor(statusAfter([0, report('unhealthy')])));
    expect(sent[0]).toEqual([
      expect.objectContaining({ alertname: 'DbwatchDatabaseDown', endsAt: at(30).toISOString() }),
    ]);
    notifier.deleted(monitor(statusAfter([0, report('healthy')])));
    expect(sent[1]).toEqual([]);
  });
});

describe('ALERTMANAGER_* settings', () => {
  test('off without ALERTMANAGER_URL; defaults with it', () => {
    expect(alertmanagerSettingsFromEnv({ ALERTMANAGER_RESEND_INTERVAL: 'soon' })).toEqual({ errors: [] });
    expect(alertmanagerSettingsFromEnv({ ALERTMANAGER_URL: 'http://am:9093, https://am2:9093/prefix' })).toEqual({
      errors: [],
      settings: {
        endpoints: [
          { url: 'http://am:9093', timeoutMs: 10_000 },
          { url: 'https://am2:9093/prefix', timeoutMs: 10_000 },
        ],
        resendIntervalMs: 60_000,
        resolveTimeoutMs: 900_000,
        queueCapacity: 30_000,
        extraLabels: {},
      },
    });
  });

  test('every problem reported at once; credentials in the URL are refused without being echoed', () => {
    const { errors, settings } = alertmanagerSettingsFromEnv({
      ALERTMANAGER_URL: 'http://admin:s3cret@am:9093,ftp://am',
      ALERTMANAGER_RESEND_INTERVAL: '1m',
      ALERTMANAGER_RESOLVE_TIMEOUT: '2m',
      ALERTMANAGER_QUEUE_CAPACITY: '0',
      ALERTMANAGER_LABELS: 'cluster=prod,severity=low,bad',
      ALERTMANAGER_CERT_FILE: '/nonexistent/tls.crt',
      ALERTMANAGER_BASIC_AUTH_USERNAME_FILE: 'package.json',
    });
    expect(settings).toBeUndefined();
    expect(errors.join('\n')).not.toContain('s3cret');
    expect(errors).toEqual([
      'ALERTMANAGER_URL: a URL holds credentials: put them in a Secret (ALERTMANAGER_BASIC_AUTH_*_FILE or ALERTMANAGER_BEARER_TOKEN_FILE)',
      'ALERTMANAGER_URL: "ftp://am" must be http:// or https://',
      'ALERTMANAGER_RESOLVE_TIMEOUT must be at least 3 × ALERTMANAGER_RESEND_INTERVAL',
      'ALERTMANAGER_QUEUE_CAPACITY="0": must be a whole number from 1 to 1000000',
      expect.stringMatching(/^ALERTMANAGER_LABELS: "severity=low" must be name=value/),
      expect.stringMatching(/^ALERTMANAGER_LABELS: "bad" must be name=value/),
      'ALERTMANAGER_BASIC_AUTH_USERNAME_FILE and ALERTMANAGER_BASIC_AUTH_PASSWORD_FILE go together',
      'ALERTMANAGER_CERT_FILE="/nonexistent/tls.crt": cannot read it (ENOENT)',
      'ALERTMANAGER_CERT_FILE and ALERTMANAGER_KEY_FILE go together (a client certificate and its key)',
    ]);
  });
});

describe('the HTTP client', () => {
  /** A local HTTP server answering as told, recording what it got (the protocol, not Alertmanager's logic). */
  async function server(answer: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
    const seen: { path?: string; authorization?: string; body: unknown }[] = [];
    const srv = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          path: req.url,
          authorization: req.headers.authorization,
          body: JSON.parse(Buffer.concat(chunks).toString()),
        });
        answer(req, res);
      });
    });
    await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}/am`;
    return { url, seen, close: () => new Promise((ok) => srv.close(ok)) };
  }
  const sample: PostableAlert[] = [
    { labels: { alertname: 'X' }, annotations: {}, startsAt: t0.toISOString(), endsAt: at(60).toISOString() },
  ];
  const dir = mkdtempSync(join(tmpdir(), 'dbwatch-am-client-'));

  test('POSTs to <url>/api/v2/alerts with a bearer token read from its file on every post', async () => {
    const am = await server((_req, res) => res.writeHead(200).end());
    const token = join(dir, 'token');
    writeFileSync(token, 'first\n');
    const client = new AlertmanagerClient({ url: `${am.url}/`, timeoutMs: 2000, bearerTokenFile: token });
    await client.post(sample);
    writeFileSync(token, 'rotated');
    await client.post(sample);
    expect(am.seen.map((s) => [s.path, s.authorization])).toEqual([
      ['/am/api/v2/alerts', 'Bearer first'],
      ['/am/api/v2/alerts', 'Bearer rotated'],
    ]);
    expect(am.seen[0]!.body).toEqual(sample);
    client.close();
    await am.close();
  });

  test('basic auth from files; HTTP 400 is not retried, 503 is; no answer in time is a retryable timeout', async () => {
    let status = 400;
    const am = await server((_req, res) => {
      if (status === 0) return; // never answers
      res.writeHead(status).end(status === 400 ? 'start time must be before end time' : '');
    });
    writeFileSync(join(dir, 'user'), 'dbwatch');
    writeFileSync(join(dir, 'password'), 'pw');
    const client = new AlertmanagerClient({
      url: am.url,
      timeoutMs: 300,
      basicAuth: { usernameFile: join(dir, 'user'), passwordFile: join(dir, 'password') },
    });
    const failure = (p: Promise<void>) =>
      p.then(
        () => undefined,
        (e: PostFailed) => e,
      );
    expect(await failure(client.post(sample))).toMatchObject({
      retry: false,
      message: `${am.url}: HTTP 400: start time must be before end time`,
    });
    expect(am.seen[0]!.authorization).toBe(`Basic ${Buffer.from('dbwatch:pw').toString('base64')}`);
    status = 503;
    expect(await failure(client.post(sample))).toMatchObject({ retry: true, message: `${am.url}: HTTP 503` });
    status = 0;
    const started = Date.now();
    expect(await failure(client.post(sample))).toMatchObject({
      retry: true,
      message: `${am.url}: no answer within 0.3 s`,
    });
    expect(Date.now() - started).toBeLessThan(2000);
    client.close();
    await am.close();
  });

  test('a missing credentials file names the file, not a secret', async () => {
    const client = new AlertmanagerClient({
      url: 'http://127.0.0.1:9',
      timeoutMs: 300,
      bearerTokenFile: join(dir, 'gone'),
    });
    await expect(client.post(sample)).rejects.toThrow(`http://127.0.0.1:9: cannot read ${join(dir, 'gone')}: ENOENT`);
  });
});

describe('dbwatch_database_status_reason', () => {
  const series = async (metrics: OperatorMetrics) =>
    (await metrics.registry.getSingleMetricAsString('dbwatch_database_status_reason'))
      .split('\n')
      .filter((l) => l.startsWith('dbwatch_database_status_reason{'));

  test('one series per monitor, replaced when the reason changes, removed with the monitor', async () => {
    const metrics = new OperatorMetrics();
    metrics.recordMonitor('shop', 'orders', 'postgres', statusAfter([0, report('healthy')])!);
    expect(await series(metrics)).toEqual([
      'dbwatch_database_status_reason{namespace="shop",name="orders",engine="postgres",reason="Healthy"} 1',
    ]);
    metrics.recordMonitor('shop', 'orders', 'postgres', statusAfter([0, report('unhealthy')])!);
    expect(await series(metrics)).toEqual([
      'dbwatch_database_status_reason{namespace="shop",name="orders",engine="postgres",reason="ConnectionRefused"} 1',
    ]);
    metrics.forgetMonitor('shop', 'orders', 'postgres');
    expect(await series(metrics)).toEqual([]);
  });
});
