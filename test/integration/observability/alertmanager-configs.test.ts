import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { load } from 'js-yaml';
import { databaseMonitorSpecSchema, type HealthResult } from '../../../src/api/index.js';
import type { MonitorReport } from '../../../src/checks/monitor.js';
import { monitorAlerts, toPostable } from '../../../src/controller/notify/direct-alerts.js';
import { controlPlaneBinaries } from '../../support/control-plane.js';
import { checkedStatus } from '../../support/monitor-report.js';

/*
 * The Alertmanager configurations dbwatch ships (deploy/alertmanager/*.yml, shown verbatim in
 * docs/observability.md) and the chart's AlertmanagerConfig, judged by Alertmanager's own amtool (Debian's
 * prometheus-alertmanager): `amtool check-config`, `amtool config routes test` for where a dbwatch alert goes,
 * and `amtool template render` for every notification template, fed a notification shaped like dbwatch's. The
 * AlertmanagerConfig is first turned into Alertmanager configuration by the Prometheus Operator's own code
 * (hack/alertmanager-config), under each of its matcher strategies.
 */

const DIR = 'deploy/alertmanager';
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith('.yml'))
  .sort();
const tmp = mkdtempSync(join(tmpdir(), 'dbwatch-amcfg-'));

const amtool = (args: string[]) => {
  const run = spawnSync('amtool', args, { encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, stdout: run.stdout.trim(), stderr: run.stderr.replace(/Warning: --config.file.*\n/g, '') };
};
const routeOf = (file: string, labels: Record<string, string>) =>
  amtool(['config', 'routes', 'test', `--config.file=${file}`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)])
    .stdout;

interface AmConfig {
  route: { receiver: string; routes?: { matchers: string[]; receiver: string }[]; [k: string]: unknown };
  inhibit_rules: unknown[];
  receivers: { name: string; [k: string]: unknown }[];
}
const read = (file: string) => load(readFileSync(join(DIR, file), 'utf8')) as AmConfig;

/** Notifications as dbwatch's alerts make them (the direct path's own labels and annotations). */
function notifications(): { firing: object; resolved: object } {
  const spec = databaseMonitorSpecSchema.parse({ engine: 'postgres', connection: { secretRef: { name: 'db' } } });
  const report = (status: HealthResult['status']): MonitorReport => ({
    health: {
      status,
      connection: status === 'healthy',
      queryTest: status === 'healthy',
      reasons: status === 'healthy' ? [] : ['cannot connect: connect ECONNREFUSED 10.0.0.7:5432'],
      timestamp: '2026-01-01T00:00:00Z',
      ...(status === 'healthy'
        ? {}
        : { error: 'connect ECONNREFUSED 10.0.0.7:5432', errorReason: 'ConnectionRefused' }),
    },
    alerts: [],
    durations: {},
  });
  const down = checkedStatus({
    previous: undefined,
    report: report('unhealthy'),
    spec,
    generation: 1,
    now: new Date(),
  });
  const alerts = ['orders', 'billing'].map((name) => {
    const [alert] = monitorAlerts(
      { metadata: { namespace: 'shop', name }, spec: { engine: 'postgres' }, status: down.status },
      new Date(),
      60_000,
    );
    return toPostable(alert!, { cluster: 'prod' }, new Date(Date.now() + 900_000).toISOString());
  });
  const data = (status: 'firing' | 'resolved') => ({
    Receiver: 'dbwatch',
    Status: status,
    Alerts: alerts.map((a) => ({
      Status: status,
      Labels: a.labels,
      Annotations: a.annotations,
      StartsAt: a.startsAt,
      EndsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : a.endsAt,
      GeneratorURL: '',
      Fingerprint: a.labels.monitor,
    })),
    GroupLabels: { alertname: 'DbwatchDatabaseDown', namespace: 'shop' },
    CommonLabels: { alertname: 'DbwatchDatabaseDown', namespace: 'shop', severity: 'critical', cluster: 'prod' },
    CommonAnnotations: { runbook_url: alerts[0]!.annotations.runbook_url },
    ExternalURL: 'http://alertmanager.monitoring:9093',
  });
  return { firing: data('firing'), resolved: data('resolved') };
}

/** Every string of a receiver that is a Go template. */
function templates(value: unknown, path: string): { path: string; text: string }[] {
  if (typeof value === 'string') return value.includes('{{') ? [{ path, text: value }] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => templates(v, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => templates(v, `${path}.${k}`));
  }
  return [];
}

describe('the shipped Alertmanager configurations (deploy/alertmanager)', () => {
  test('are Slack, PagerDuty, email and webhook, and each passes amtool check-config', () => {
    expect(FILES).toEqual(['email.yml', 'pagerduty.yml', 'slack.yml', 'webhook.yml']);
    for (const file of FILES) {
      const checked = amtool(['check-config', join(DIR, file)]);
      expect({ file, out: checked.stdout }).toEqual({ file, out: expect.stringContaining('SUCCESS') });
      expect(checked.code).toBe(0);
    }
    // amtool does fail a broken one: a label name Alertmanager cannot group by.
    const broken = join(tmp, 'broken.yml');
    writeFileSync(
      broken,
      readFileSync(join(DIR, 'webhook.yml'), 'utf8').replace('[alertname, namespace]', '[alert-name]'),
    );
    expect(amtool(['check-config', broken]).code).toBe(1);
  });

  test('are shown verbatim in docs/observability.md', () => {
    const doc = readFileSync('docs/observability.md', 'utf8');
    for (const file of FILES) {
      expect({ file, shown: doc.includes(`\`\`\`yaml\n${readFileSync(join(DIR, file), 'utf8')}\`\`\``) }).toEqual({
        file,
        shown: true,
      });
    }
  });

  test('group and inhibit alike: only the receivers (and PagerDuty’s severity split) differ', () => {
    const webhook = read('webhook.yml');
    const common = (c: AmConfig) => {
      const { receiver: _r, routes: _s, ...route } = c.route;
      return { route, inhibit_rules: c.inhibit_rules };
    };
    for (const file of FILES) expect({ file, ...common(read(file)) }).toEqual({ file, ...common(webhook) });
    expect(webhook.route.group_by).toEqual(['alertname', 'namespace']);
  });

  test('route dbwatch alerts to dbwatch receivers; in pagerduty.yml critical pages and warning makes a ticket', () => {
    const alert = { alertname: 'DbwatchDatabaseDown', namespace: 'shop', monitor: 'orders', severity: 'critical' };
    const expected: Record<string, string> = {
      'email.yml': 'dbwatch-email',
      'pagerduty.yml': 'dbwatch-pagerduty',
      'slack.yml': 'dbwatch-slack',
      'webhook.yml': 'dbwatch-webhook',
    };
    for (const file of FILES) {
      expect({ file, receiver: routeOf(join(DIR, file), alert) }).toEqual({ file, receiver: expected[file] });
    }
    const pagerduty = join(DIR, 'pagerduty.yml');
    expect(routeOf(pagerduty, { ...alert, alertname: 'DbwatchDatabaseDegraded', severity: 'warning' })).toBe(
      'dbwatch-tickets',
    );
    expect(routeOf(pagerduty, { alertname: 'DbwatchOperatorDown', severity: 'critical' })).toBe('dbwatch-pagerduty');
  });

  test('every notification template renders a dbwatch notification, firing and resolved', () => {
    const data = notifications();
    const empty = join(tmp, 'empty.tmpl');
    writeFileSync(empty, '');
    let rendered = 0;
    for (const file of FILES) {
      for (const receiver of read(file).receivers) {
        for (const { path, text } of templates(receiver, `${file}:${receiver.name}`)) {
          for (const [status, payload] of Object.entries(data)) {
            const dataFile = join(tmp, `${status}.json`);
            writeFileSync(dataFile, JSON.stringify(payload));
            const out = amtool([
              'template',
              'render',
              `--template.glob=${empty}`,
              `--template.data=${dataFile}`,
              `--template.text=${text}`,
            ]);
            expect({ path, status, code: out.code, stderr: out.stderr }).toEqual({ path, status, code: 0, stderr: '' });
            expect(out.stdout).not.toContain('<no value>');
            expect(out.stdout.length).toBeGreaterThan(0);
            rendered++;
          }
        }
      }
    }
    expect(rendered).toBeGreaterThanOrEqual(14);
    // What a Slack reader sees for two databases down in one namespace.
    const slack = read('slack.yml').receivers[0] as unknown as { slack_configs: { text: string }[] };
    writeFileSync(join(tmp, 'firing.json'), JSON.stringify(data.firing));
    const text = amtool([
      'template',
      'render',
      `--template.glob=${empty}`,
      `--template.data=${join(tmp, 'firing.json')}`,
      `--template.text=${slack.slack_configs[0]!.text}`,
    ]).stdout;
    expect(text).toContain('*orders* (ConnectionRefused): Database shop/orders is down');
    expect(text).toContain('*billing* (ConnectionRefused): Database shop/billing is down');
  });
});

describe("the chart's AlertmanagerConfig, as the Prometheus Operator renders it", () => {
  let render: string;
  let helm: string;
  beforeAll(() => {
    helm = join(process.env.DBWATCH_TEST_BIN_DIR ?? controlPlaneBinaries(), 'helm');
    // Cached outside the repo by a hash of its sources; the first build on a machine takes a few minutes.
    render = execFileSync('hack/alertmanager-config/build.sh', { encoding: 'utf8', timeout: 900_000 }).trim();
  }, 900_000);

  /** The chart's AlertmanagerConfig (release in `release`, config in `namespace`) → Alertmanager config file. */
  function rendered(strategy: string, alertmanagerNamespace: string, configNamespace = '') {
    const manifest = execFileSync(
      helm,
      [
        'template',
        'dbwatch',
        'deploy/helm/dbwatch',
        '-n',
        'dbwatch',
        '--show-only',
        'templates/alertmanagerconfig.yaml',
        '--set',
        'alertmanager.alertmanagerConfig.enabled=true',
        '--set',
        `alertmanager.alertmanagerConfig.namespace=${configNamespace}`,
        '--set-json',
        `alertmanager.alertmanagerConfig.receivers=${JSON.stringify([
          {
            name: 'dbwatch-webhook',
            webhookConfigs: [{ url: 'http://alert-receiver.ops.svc:8080/dbwatch', sendResolved: true }],
          },
        ])}`,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const out = spawnSync(render, [alertmanagerNamespace, strategy], { input: manifest, encoding: 'utf8' });
    expect(out.stderr).toBe('');
    const file = join(tmp, `${strategy}-${configNamespace || 'release'}.yml`);
    writeFileSync(file, out.stdout);
    return file;
  }
  const downInShop = { alertname: 'DbwatchDatabaseDown', namespace: 'shop', monitor: 'orders', severity: 'critical' };
  const routed = 'dbwatch/dbwatch/dbwatch-webhook';

  test('with matcher strategy None: passes amtool, routes and inhibits as deploy/alertmanager/webhook.yml', () => {
    const file = rendered('None', 'monitoring');
    expect(amtool(['check-config', file]).code).toBe(0);
    expect(routeOf(file, downInShop)).toBe(routed);
    expect(routeOf(file, { alertname: 'DbwatchOperatorDown', severity: 'critical' })).toBe(routed);
    expect(routeOf(file, { alertname: 'KubePodCrashLooping', namespace: 'shop' })).toBe('null');
    const generated = load(readFileSync(file, 'utf8')) as AmConfig;
    const shipped = read('webhook.yml');
    const route = generated.route.routes![0] as unknown as Record<string, unknown>;
    for (const key of ['group_by', 'group_wait', 'group_interval', 'repeat_interval']) {
      expect({ key, value: route[key] }).toEqual({ key, value: shipped.route[key] });
    }
    expect(generated.inhibit_rules).toEqual(shipped.inhibit_rules);
  });

  test("with the default strategy (OnNamespace) it sees only alerts of its own namespace — dbwatch's miss it", () => {
    const file = rendered('OnNamespace', 'monitoring');
    expect(amtool(['check-config', file]).code).toBe(0);
    expect(routeOf(file, downInShop)).toBe('null');
    expect(routeOf(file, { ...downInShop, namespace: 'dbwatch' })).toBe(routed);
  });

  test("with OnNamespaceExceptForAlertmanagerNamespace, installed in the Alertmanager's namespace, it sees them all", () => {
    const file = rendered('OnNamespaceExceptForAlertmanagerNamespace', 'monitoring', 'monitoring');
    expect(amtool(['check-config', file]).code).toBe(0);
    expect(routeOf(file, downInShop)).toBe('monitoring/dbwatch/dbwatch-webhook');
  });
});
