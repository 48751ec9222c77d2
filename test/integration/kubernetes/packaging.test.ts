import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { load, loadAll } from 'js-yaml';
import { alertmanagerSettingsFromEnv } from '../../../src/controller/notify/settings.js';
import { controlPlaneBinaries } from '../../support/control-plane.js';
import { ensureCrds, freshNamespace, kubectl } from '../../support/kube.js';

/*
 * The chart rendered with every optional part off and on: helm lint --strict, values.schema.json, a server-side
 * dry run on the real API server, standard labels, and the monitoring objects. The ServiceMonitor, PodMonitor
 * and PrometheusRule are dry-run against the Prometheus Operator's own CRDs (their real OpenAPI schemas, so
 * kubectl's strict field validation catches a misplaced field), taken from its Go module through the Go
 * module proxy into the module cache — not copied into this repo.
 */

const PROMETHEUS_OPERATOR = 'github.com/prometheus-operator/prometheus-operator@v0.85.0';
const MONITORING_CRDS = ['servicemonitors', 'podmonitors', 'prometheusrules', 'alertmanagerconfigs'];

let helm: string;
beforeAll(async () => {
  // Built by the integration project's global setup, before any test's timeout starts.
  helm = join(process.env.DBWATCH_TEST_BIN_DIR ?? controlPlaneBinaries(), 'helm');
  await ensureCrds();
  const module = JSON.parse(
    execFileSync('go', ['mod', 'download', '-json', PROMETHEUS_OPERATOR], {
      cwd: '/',
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' },
    }),
  ) as { Dir: string };
  const files = MONITORING_CRDS.map((c) =>
    join(module.Dir, 'example/prometheus-operator-crd', `monitoring.coreos.com_${c}.yaml`),
  );
  const applied = await kubectl(['apply', '--server-side', '--force-conflicts', ...files.flatMap((f) => ['-f', f])]);
  if (applied.code !== 0) throw new Error(`monitoring CRDs: ${applied.stderr}`);
  const established = await kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    ...files.flatMap((f) => ['-f', f]),
  ]);
  if (established.code !== 0) throw new Error(`monitoring CRDs not Established: ${established.stderr}`);
}, 300_000);

const ALL_ON = [
  'metrics.serviceMonitor.enabled=true',
  'metrics.serviceMonitor.labels.release=prometheus',
  'metrics.podMonitor.enabled=true',
  'metrics.prometheusRule.enabled=true',
  'metrics.grafanaDashboard.enabled=true',
  'networkPolicy.enabled=true',
  'alertmanager.url=https://alertmanager.monitoring:9093',
  'alertmanager.labels.cluster=prod',
  'alertmanager.secret.name=dbwatch-alertmanager',
  'alertmanager.secret.caKey=ca.crt',
  'alertmanager.secret.bearerTokenKey=token',
  'alertmanager.alertmanagerConfig.enabled=true',
  'discovery.enabled=true',
  'discovery.sources.cloudNativePG=true',
  'discovery.sources.crunchy=true',
  'discovery.sources.zalando=true',
]
  .flatMap((s) => ['--set', s])
  .concat([
    '--set-json',
    'networkPolicy.metricsFrom=[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"monitoring"}}}]',
    '--set-json',
    'networkPolicy.egress=[{"ports":[{"port":443},{"port":6443},{"port":5432},{"port":1433},{"port":9093}]}]',
    '--set-json',
    `alertmanager.alertmanagerConfig.receivers=${JSON.stringify([
      {
        name: 'slack',
        slackConfigs: [{ channel: '#databases', sendResolved: true, apiURL: { name: 'dbwatch-slack', key: 'url' } }],
      },
    ])}`,
  ]);
const ALL_OFF = [
  'podDisruptionBudget.enabled=false',
  'aggregateRoles=false',
  'serviceAccount.create=false',
  'leaderElection.enabled=false',
].flatMap((s) => ['--set', s]);

function helmRun(args: string[]) {
  const run = spawnSync(helm, args, { encoding: 'utf8', timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

function render(args: string[] = []): string {
  const run = helmRun(['template', 'dbwatch', 'deploy/helm/dbwatch', ...args]);
  if (run.code !== 0) throw new Error(`helm template failed: ${run.stderr}`);
  return run.stdout;
}

interface K8sObject {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}
const objects = (manifests: string) => (loadAll(manifests) as (K8sObject | null)[]).filter((o) => o !== null);
const kinds = (manifests: string) =>
  objects(manifests)
    .map((o) => o.kind)
    .sort();

async function serverDryRun(manifests: string) {
  // Every namespaced object names its namespace: no -n here.
  const result = await kubectl(['apply', '--dry-run=server', '-f', '-'], { input: manifests });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
}

describe('the Helm chart', () => {
  test('passes helm lint --strict with every optional part off and on', () => {
    for (const args of [[], ALL_OFF, ALL_ON]) {
      const lint = helmRun(['lint', '--strict', 'deploy/helm/dbwatch', ...args]);
      expect(lint.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
      expect(lint.code).toBe(0);
    }
  });

  test('values.schema.json rejects values of the wrong type', () => {
    for (const [set, complaint] of [
      ['replicaCount=abc', /at '\/replicaCount': got string, want null or integer/],
      ['metrics.port=http', /at '\/metrics\/port': got string, want integer/],
      ['metrics.serviceMonitor.enabled=yes', /at '\/metrics\/serviceMonitor\/enabled': got string, want boolean/],
      ['metrics.serviceMonitor.interval=soon', /at '\/metrics\/serviceMonitor\/interval'/],
      ['logLevel=loud', /at '\/logLevel'/],
      ['watchNamespaces=shop', /at '\/watchNamespaces': got string, want array/],
      ['replicaCuont=2', /additional properties 'replicaCuont' not allowed/],
      ['alertmanager.url=http://admin:pw@am:9093', /at '\/alertmanager\/url'/],
      ['alertmanager.resendInterval=often', /at '\/alertmanager\/resendInterval'/],
    ] as const) {
      const run = helmRun(['template', 'dbwatch', 'deploy/helm/dbwatch', '--set', set]);
      expect({ set, code: run.code }).toEqual({ set, code: 1 });
      expect(run.stderr).toMatch(complaint);
    }
  });

  test('replicas follow leader election: 2 with it, 1 without; several without it are refused', () => {
    const replicas = (args: string[]) =>
      objects(render(args)).find((o) => o.kind === 'Deployment')?.spec?.replicas as number | undefined;
    expect(replicas([])).toBe(2);
    expect(replicas(['--set', 'leaderElection.enabled=false'])).toBe(1);
    expect(replicas(['--set', 'replicaCount=3'])).toBe(3);
    const refused = helmRun([
      'template',
      'dbwatch',
      'deploy/helm/dbwatch',
      '--set',
      'leaderElection.enabled=false',
      '--set',
      'replicaCount=2',
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /replicaCount=2 with leaderElection.enabled=false would run 2 operators that all check and write status: set replicaCount=1, or keep leader election on/,
    );
  });

  test('sharding: 3 active replicas, no leader election, member Leases in the release namespace only, PDB one at a time', async () => {
    const ns = await freshNamespace('helm-shard');
    const manifests = render(['-n', ns, '--set', 'sharding.enabled=true']);
    const all = objects(manifests);
    const deployment = all.find((o) => o.kind === 'Deployment') as unknown as {
      spec: { replicas: number; template: { spec: { containers: { env: { name: string; value: string }[] }[] } } };
    };
    expect(deployment.spec.replicas).toBe(3);
    const env = Object.fromEntries(deployment.spec.template.spec.containers[0]!.env.map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ SHARDING: 'true', SHARD_GROUP: 'dbwatch', LEADER_ELECT: 'false' });
    // No leader-election Lease or Role; a Role for the Leases in the release namespace, bound to the operator.
    expect(all.filter((o) => o.kind === 'Lease')).toEqual([]);
    expect(all.map((o) => `${o.kind}/${o.metadata.name}`)).not.toContain('Role/dbwatch-leader-election');
    const role = all.find((o) => o.kind === 'Role' && o.metadata.name === 'dbwatch-sharding') as unknown as {
      metadata: { namespace: string };
      rules: { resources: string[] }[];
    };
    expect(role.metadata.namespace).toBe(ns);
    expect(role.rules.flatMap((r) => r.resources)).toEqual(['leases']);
    expect(all.some((o) => o.kind === 'RoleBinding' && o.metadata.name === 'dbwatch-sharding')).toBe(true);
    expect(all.find((o) => o.kind === 'PodDisruptionBudget')?.spec).toMatchObject({ maxUnavailable: 1 });
    await serverDryRun(manifests);
    // Two sharded replicas are fine too: every replica works on its own objects.
    expect(
      objects(render(['--set', 'sharding.enabled=true', '--set', 'replicaCount=2'])).find(
        (o) => o.kind === 'Deployment',
      )?.spec?.replicas,
    ).toBe(2);
  });

  test('with every optional part off: the API server accepts it (server-side dry run), no PDB for one replica', async () => {
    const ns = await freshNamespace('helm-off');
    const manifests = render(['-n', ns, ...ALL_OFF]);
    expect(kinds(manifests)).toEqual([
      'ClusterRole',
      'ClusterRole',
      'ClusterRoleBinding',
      'ClusterRoleBinding',
      'Deployment',
      'Service',
    ]);
    await serverDryRun(manifests);
    expect(kinds(render(['-n', ns, '--set', 'replicaCount=1']))).not.toContain('PodDisruptionBudget');
  });

  test('with every optional part on: the API server accepts it, monitoring objects against the real CRDs', async () => {
    const ns = await freshNamespace('helm-on');
    const manifests = render(['-n', ns, ...ALL_ON]);
    expect(kinds(manifests)).toEqual(
      expect.arrayContaining([
        'AlertmanagerConfig',
        'ConfigMap',
        'NetworkPolicy',
        'PodDisruptionBudget',
        'PodMonitor',
        'PrometheusRule',
        'ServiceMonitor',
      ]),
    );
    const out = await serverDryRun(manifests);
    for (const created of [
      'deployment.apps/dbwatch',
      'poddisruptionbudget.policy/dbwatch',
      'networkpolicy.networking.k8s.io/dbwatch',
      'servicemonitor.monitoring.coreos.com/dbwatch',
      'podmonitor.monitoring.coreos.com/dbwatch',
      'prometheusrule.monitoring.coreos.com/dbwatch',
      'configmap/dbwatch-dashboard',
      'alertmanagerconfig.monitoring.coreos.com/dbwatch',
    ]) {
      expect(out).toContain(`${created} created (server dry run)`);
    }
    // A field the real CRD does not have is refused: the dry run validates, it does not just accept.
    const wrong = manifests.replace('honorLabels: true', 'honourLabels: true');
    const refused = await kubectl(['apply', '--dry-run=server', '-f', '-'], { input: wrong });
    expect(refused.stderr).toMatch(/unknown field "spec\.\w+\[0\]\.honourLabels"/);
  });

  test('with alertmanager.url: the ALERTMANAGER_* settings, and the Secret mounted read-only for the keys named', () => {
    const deployment = objects(render(ALL_ON)).find((o) => o.kind === 'Deployment') as unknown as {
      spec: {
        template: {
          spec: {
            containers: { env: { name: string; value?: string }[]; volumeMounts?: object[] }[];
            volumes?: object[];
          };
        };
      };
    };
    const pod = deployment.spec.template.spec;
    const env = Object.fromEntries(pod.containers[0]!.env.map((e) => [e.name, e.value]));
    expect(Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('ALERTMANAGER_')))).toEqual({
      ALERTMANAGER_URL: 'https://alertmanager.monitoring:9093',
      ALERTMANAGER_RESEND_INTERVAL: '1m',
      ALERTMANAGER_RESOLVE_TIMEOUT: '15m',
      ALERTMANAGER_TIMEOUT: '10s',
      ALERTMANAGER_QUEUE_CAPACITY: '30000',
      ALERTMANAGER_LABELS: 'cluster=prod',
      ALERTMANAGER_BEARER_TOKEN_FILE: '/etc/dbwatch/alertmanager/token',
      ALERTMANAGER_CA_FILE: '/etc/dbwatch/alertmanager/ca.crt',
    });
    expect(pod.containers[0]!.volumeMounts).toEqual([
      { name: 'alertmanager-credentials', mountPath: '/etc/dbwatch/alertmanager', readOnly: true },
    ]);
    expect(pod.volumes).toEqual([
      { name: 'alertmanager-credentials', secret: { secretName: 'dbwatch-alertmanager', defaultMode: 0o444 } },
    ]);
    // The operator accepts exactly what the chart renders (file checks aside: the Secret is not mounted here).
    const parsed = alertmanagerSettingsFromEnv({
      ...env,
      ALERTMANAGER_BEARER_TOKEN_FILE: '',
      ALERTMANAGER_CA_FILE: '',
    });
    expect(parsed.errors).toEqual([]);
    // Off by default: no setting, no volume.
    const off = render();
    expect(off).not.toContain('ALERTMANAGER_');
    expect(off).not.toContain('alertmanager-credentials');
    // An AlertmanagerConfig without receivers is refused with the reason.
    const refused = helmRun([
      'template',
      'dbwatch',
      'deploy/helm/dbwatch',
      '--set',
      'alertmanager.alertmanagerConfig.enabled=true',
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/alertmanager.alertmanagerConfig.receivers: give at least one receiver/);
  });

  test('discovery: nothing of it unless enabled; then each source is readable only when on, cluster-wide or in the watched namespaces', async () => {
    const rulesOf = (manifests: string, name: string) =>
      objects(manifests)
        .filter((o) => o.metadata.name === name)
        .map((o) => `${o.kind}${o.metadata.namespace ? `/${o.metadata.namespace}` : ''}`);
    expect(render([]).match(/discovery|DISCOVERY_/g)).toBeNull();
    const ns = await freshNamespace('helm-disc');
    const on = render(['-n', ns, '--set', 'discovery.enabled=true', '--set', 'discovery.sources.cloudNativePG=true']);
    expect(rulesOf(on, 'dbwatch-discovery')).toEqual(['ClusterRole', 'ClusterRoleBinding']);
    expect(rulesOf(on, 'dbwatch-discovery-cloudnativepg')).toEqual(['ClusterRole', 'ClusterRoleBinding']);
    expect(on).not.toMatch(/discovery-(crunchy|zalando)/);
    expect(on).toMatch(/name: DISCOVERY_SOURCES, value: "cloudnativepg,secrets"/);
    expect(on).toContain(`name: DISCOVERY_CLUSTER_NAMESPACES, value: "${ns}"`);
    await serverDryRun(on);
    const [a, b] = [await freshNamespace('watched'), await freshNamespace('watched')];
    const scoped = render([
      '-n',
      ns,
      '--set',
      'discovery.enabled=true',
      '--set',
      'discovery.sources.zalando=true',
      '--set',
      'discovery.sources.secrets=false',
      '--set',
      `watchNamespaces={${a},${b}}`,
      '--set',
      'discovery.clusterNamespaces={ops}',
    ]);
    expect(rulesOf(scoped, 'dbwatch-discovery-zalando').sort()).toEqual(
      [`Role/${a}`, `RoleBinding/${a}`, `Role/${b}`, `RoleBinding/${b}`].sort(),
    );
    expect(scoped).toMatch(/name: DISCOVERY_SOURCES, value: "zalando"/);
    expect(scoped).toContain('name: DISCOVERY_CLUSTER_NAMESPACES, value: "ops"');
    await serverDryRun(scoped);
  });

  test('with watchNamespaces: Secrets through Roles in those namespaces only, Leases in the release namespace', async () => {
    const ns = await freshNamespace('helm');
    const [a, b] = [await freshNamespace('watched'), await freshNamespace('watched')];
    const manifests = render(['-n', ns, '--set', `watchNamespaces={${a},${b}}`]);
    const result = await serverDryRun(manifests);
    expect(result).toMatch(/deployment.apps\/dbwatch created \(server dry run\)/);
    expect(result).toMatch(/clusterrole.rbac.authorization.k8s.io\/dbwatch created \(server dry run\)/);
    expect(manifests).toMatch(new RegExp(`name: WATCH_NAMESPACES, value: "${a},${b}"`));
    expect(result).toMatch(/role.rbac.authorization.k8s.io\/dbwatch-secrets created \(server dry run\)/);
    expect(result).toMatch(/role.rbac.authorization.k8s.io\/dbwatch-leader-election created/);
    expect(result).not.toMatch(/clusterrole.rbac.authorization.k8s.io\/dbwatch-secrets/);
    // Anchored: a RoleBinding's roleRef also says `kind: Role`.
    expect(manifests.match(/^kind: Role$/gm)).toHaveLength(3);
    const allNamespaces = render(['-n', ns]);
    expect(allNamespaces).toMatch(/kind: ClusterRole\nmetadata:\n {2}name: dbwatch-secrets/);
  });

  test('every object and the operator Pods carry the standard app.kubernetes.io labels', () => {
    const standard = ['name', 'instance', 'version', 'managed-by', 'component', 'part-of'].map(
      (l) => `app.kubernetes.io/${l}`,
    );
    const all = objects(render(ALL_ON));
    const deployment = all.find((o) => o.kind === 'Deployment') as K8sObject & {
      spec: { template: { metadata: { labels: Record<string, string> } } };
    };
    const labelled = [...all.map((o) => ({ what: `${o.kind}/${o.metadata.name}`, labels: o.metadata.labels ?? {} }))];
    labelled.push({ what: 'Deployment pod template', labels: deployment.spec.template.metadata.labels });
    const missing = labelled.flatMap(({ what, labels }) =>
      standard.filter((l) => !(l in labels)).map((l) => `${what}: ${l}`),
    );
    expect(missing).toEqual([]);
  });

  test('ships the rules of deploy/prometheus and the dashboard of deploy/grafana, unchanged and valid', () => {
    const all = objects(render(ALL_ON));
    const rule = all.find((o) => o.kind === 'PrometheusRule')!;
    expect(rule.spec).toEqual(load(readFileSync('deploy/prometheus/dbwatch-rules.yaml', 'utf8')));
    // promtool validates the PrometheusRule's spec as a Prometheus rule file (the CRD schema cannot check PromQL).
    const file = join(mkdtempSync(join(tmpdir(), 'dbwatch-rule-')), 'rules.json');
    writeFileSync(file, JSON.stringify(rule.spec));
    const checked = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    expect(checked.stdout).toMatch(/SUCCESS: \d+ rules found/);
    const dashboard = all.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'dbwatch-dashboard')!;
    expect(dashboard.metadata.labels?.grafana_dashboard).toBe('1');
    expect(JSON.parse(dashboard.data!['dbwatch-dashboard.json']!)).toEqual(
      JSON.parse(readFileSync('deploy/grafana/dbwatch-dashboard.json', 'utf8')),
    );
    const monitors = all.filter((o) => o.kind === 'ServiceMonitor' || o.kind === 'PodMonitor');
    expect(monitors.map((m) => JSON.stringify(m.spec))).toEqual([
      expect.stringContaining('"honorLabels":true'),
      expect.stringContaining('"honorLabels":true'),
    ]);
  });

  test('the chart README lists every value (down to the free-form maps of values.schema.json)', () => {
    const readme = readFileSync('deploy/helm/dbwatch/README.md', 'utf8');
    interface Schema {
      properties?: Record<string, Schema>;
    }
    const schema = JSON.parse(readFileSync('deploy/helm/dbwatch/values.schema.json', 'utf8')) as Schema;
    const documented = (s: Schema, path: string): string[] =>
      s.properties
        ? Object.entries(s.properties).flatMap(([k, sub]) => documented(sub, path ? `${path}.${k}` : k))
        : [path];
    const values = documented(schema, '').filter((v) => v !== 'global');
    expect(values.length).toBeGreaterThan(30);
    expect(values.filter((v) => !readme.includes(`\`${v}\``))).toEqual([]);
    // And the schema knows every value the chart has (values.yaml keys all appear among them).
    const keys = (value: unknown, path: string): string[] =>
      value !== null && typeof value === 'object' && !Array.isArray(value) && !values.includes(path)
        ? Object.entries(value).flatMap(([k, v]) => keys(v, path ? `${path}.${k}` : k))
        : [path];
    const inValues = keys(load(readFileSync('deploy/helm/dbwatch/values.yaml', 'utf8')), '');
    expect(inValues.filter((v) => !values.includes(v))).toEqual([]);
  });

  test('ships the same CRDs as crds/', () => {
    const shown = execFileSync(helm, ['show', 'crds', 'deploy/helm/dbwatch'], { encoding: 'utf8' });
    expect(shown).toMatch(/name: databasemonitors.dbwatch.dev/);
    expect(shown).toMatch(/name: databaseprerequisites.dbwatch.dev/);
    expect(shown).toMatch(/name: databasediscoveries.dbwatch.dev/);
  });
});
