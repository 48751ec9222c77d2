import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type PostgresServer, startPostgres } from '../support/postgres-server.js';
import {
  condition,
  e2e,
  eventually,
  getJson,
  helm,
  kubectl,
  mustKubectl,
  type Pod,
  podReady,
  pods,
} from './cluster.js';

/**
 * dbwatch as its users run it: the chart installed by helm with the image built for this run, the
 * operator running as Pods under its ServiceAccount, a DatabaseMonitor against a real PostgreSQL, and an
 * init container that holds a real Pod back until the DatabasePrerequisite passes. One ordered story:
 * each test builds on the one before (jest runs a file's tests in order).
 */
const run = `${process.pid.toString(36)}${Date.now().toString(36)}`.slice(-8);
const system = `dbwatch-e2e-${run}`;
const app = `shop-e2e-${run}`;
const release = 'dbwatch';
const operatorSelector = `app.kubernetes.io/instance=${release},app.kubernetes.io/name=dbwatch`;
const times: Record<string, number | string> = {};

let postgres: PostgresServer;
const secret = { database: 'orders', username: 'shop', password: `pw-${Math.random().toString(36).slice(2)}` };

const sql = (query: string, database?: string) => postgres.asSuperuser(query, database);

const [repository, tag] = (() => {
  const image = e2e.image();
  const at = image.lastIndexOf(':');
  return at > image.lastIndexOf('/') ? [image.slice(0, at), image.slice(at + 1)] : [image, 'latest'];
})();

const helmValues = (extra: string[] = []) => [
  '--set',
  `image.repository=${repository}`,
  '--set',
  `image.tag=${tag}`,
  '--set',
  'image.pullPolicy=Never',
  ...extra,
];

const leaseHolder = async () =>
  (await getJson<{ spec?: { holderIdentity?: string } }>(['get', 'lease', 'dbwatch-operator', '-n', system])).spec
    ?.holderIdentity;

beforeAll(async () => {
  postgres = await startPostgres({ reachableAt: { address: e2e.hostAddress(), clients: e2e.podCidr() } });
  await sql(`CREATE ROLE ${secret.username} LOGIN PASSWORD '${secret.password}'`);
  await sql(`CREATE DATABASE ${secret.database} OWNER ${secret.username}`);
  // Flyway's history at version 1; the prerequisite expects 2: one migration is pending.
  await sql(
    `CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY, version varchar(50), description varchar(200) NOT NULL,
       type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum int, installed_by varchar(100) NOT NULL,
       installed_on timestamp NOT NULL DEFAULT now(), execution_time int NOT NULL, success boolean NOT NULL);
     INSERT INTO flyway_schema_history VALUES (1, '1', 'init', 'SQL', 'V1__init.sql', 1, 'app', now(), 5, true);
     GRANT SELECT ON flyway_schema_history TO ${secret.username};`,
    secret.database,
  );
}, 60_000);

afterAll(async () => {
  await helm(['uninstall', release, '-n', system, '--wait']);
  await kubectl(['delete', 'namespace', app, system, '--ignore-not-found', '--wait=false']);
  await postgres?.stop();
  console.log(`e2e figures: ${JSON.stringify(times)}`);
  mkdirSync('.dbwatch', { recursive: true });
  writeFileSync('.dbwatch/e2e-times.json', `${JSON.stringify(times, null, 2)}\n`);
}, 180_000);

describe('dbwatch on a real node', () => {
  let operatorPods: Pod[] = [];

  test('helm install with the local image: both replicas Running, one leader', async () => {
    await mustKubectl(['create', 'namespace', system]);
    const started = Date.now();
    const installed = await helm([
      'install',
      release,
      'deploy/helm/dbwatch',
      '-n',
      system,
      '--wait',
      '--timeout',
      '3m',
      ...helmValues(),
    ]);
    expect(installed).toMatchObject({ code: 0 });
    operatorPods = await eventually(
      'two Ready operator Pods',
      async () => {
        const list = await pods(system, operatorSelector);
        return list.length === 2 && list.every(podReady) ? list : undefined;
      },
      120_000,
    );
    times.helmInstallToReadyS = (Date.now() - started) / 1000;
    const holder = await eventually('a Lease holder', leaseHolder, 30_000);
    expect(operatorPods.map((p) => p.metadata.name)).toContain(holder);
  }, 240_000);

  test('a DatabaseMonitor against PostgreSQL on the host address connects; a pending migration fails the prerequisite', async () => {
    await mustKubectl(['create', 'namespace', app]);
    const manifests = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'orders-db', namespace: app },
          stringData: { host: e2e.hostAddress(), port: String(postgres.port), ...secret },
        },
        {
          apiVersion: 'dbwatch.dev/v1alpha1',
          kind: 'DatabaseMonitor',
          metadata: { name: 'orders', namespace: app },
          spec: {
            engine: 'postgres',
            connection: { secretRef: { name: 'orders-db' }, connectTimeoutSeconds: 5 },
            interval: '2s',
            checks: { migrations: { tool: 'flyway', expectedVersion: '2' } },
          },
        },
        {
          apiVersion: 'dbwatch.dev/v1alpha1',
          kind: 'DatabasePrerequisite',
          metadata: { name: 'orders-ready', namespace: app },
          spec: {
            databases: [{ name: 'orders', monitorRef: { name: 'orders' } }],
            checkMigrations: true,
            interval: '2s',
          },
        },
      ],
    };
    await mustKubectl(['apply', '-f', '-'], JSON.stringify(manifests));
    await eventually(
      'DatabaseMonitor orders Connected=True',
      async () =>
        (await condition('databasemonitor', app, 'orders', 'Connected'))?.status === 'True' ? true : undefined,
      60_000,
    );
    // A pending migration degrades the monitor: Ready=False (Degraded), MigrationsApplied=False.
    const migrations = await eventually(
      'DatabaseMonitor orders MigrationsApplied=False',
      async () => {
        const c = await condition('databasemonitor', app, 'orders', 'MigrationsApplied');
        return c?.status === 'False' ? c : undefined;
      },
      30_000,
    );
    expect(migrations.reason).toBe('MigrationsPending');
    expect((await condition('databasemonitor', app, 'orders', 'Ready'))?.status).toBe('False');
    const prerequisite = await eventually(
      'DatabasePrerequisite orders-ready Ready=False (pending migration)',
      async () => {
        const c = await condition('databaseprerequisite', app, 'orders-ready', 'Ready');
        return c?.status === 'False' ? c : undefined;
      },
      60_000,
    );
    expect(prerequisite.message).toMatch(/migration/i);
  }, 150_000);

  test('the gate holds a Deployment in Init while migrations are pending and releases it once applied', async () => {
    const gated = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'shop-api', namespace: app } },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'read-prerequisites', namespace: app },
          rules: [{ apiGroups: ['dbwatch.dev'], resources: ['databaseprerequisites'], verbs: ['get'] }],
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'shop-api-read-prerequisites', namespace: app },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-prerequisites' },
          subjects: [{ kind: 'ServiceAccount', name: 'shop-api', namespace: app }],
        },
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'shop-api', namespace: app },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: 'shop-api' } },
            template: {
              metadata: { labels: { app: 'shop-api' } },
              spec: {
                serviceAccountName: 'shop-api',
                securityContext: { runAsNonRoot: true, runAsUser: 1000 },
                initContainers: [
                  {
                    name: 'wait-for-databases',
                    image: e2e.image(),
                    imagePullPolicy: 'Never',
                    args: ['wait', 'orders-ready', '--timeout', '10m'],
                    env: [{ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }],
                  },
                ],
                containers: [
                  {
                    // The "application": the same image idling, so no other image is needed on the node.
                    name: 'api',
                    image: e2e.image(),
                    imagePullPolicy: 'Never',
                    command: ['node', '-e', 'setInterval(() => {}, 1 << 30)'],
                  },
                ],
              },
            },
          },
        },
      ],
    };
    await mustKubectl(['apply', '-f', '-'], JSON.stringify(gated));
    const waiting = await eventually(
      'the gated Pod with its init container running',
      async () => {
        const [pod] = await pods(app, 'app=shop-api');
        return pod?.status.initContainerStatuses?.[0]?.state.running ? pod : undefined;
      },
      60_000,
    );
    // Held: still in Init well after the gate started, because the prerequisite fails.
    await new Promise((ok) => setTimeout(ok, 8_000));
    const [held] = await pods(app, 'app=shop-api');
    expect(held?.metadata.name).toBe(waiting.metadata.name);
    expect(held?.status.phase).toBe('Pending');
    expect(held?.status.initContainerStatuses?.[0]?.state.running).toBeDefined();
    expect(held?.status.containerStatuses?.[0]?.state.running).toBeUndefined();

    const applied = Date.now();
    await sql(
      `INSERT INTO flyway_schema_history VALUES (2, '2', 'orders', 'SQL', 'V2__orders.sql', 2, 'app', now(), 5, true)`,
      secret.database,
    );
    await eventually(
      'the gated Pod Running',
      async () => {
        const [pod] = await pods(app, 'app=shop-api');
        return pod && podReady(pod) ? pod : undefined;
      },
      60_000,
      100,
    );
    times.migrationAppliedToGatedPodRunningS = (Date.now() - applied) / 1000;
    expect(times.migrationAppliedToGatedPodRunningS).toBeLessThan(20);
    const ready = await condition('databasemonitor', app, 'orders', 'Ready');
    expect(ready).toMatchObject({ status: 'True', reason: 'Healthy' });
  }, 150_000);

  test("the gate's ServiceAccount may get prerequisites and nothing else", async () => {
    const as = `system:serviceaccount:${app}:shop-api`;
    const can = async (...args: string[]) => (await kubectl(['auth', 'can-i', ...args, '--as', as])).stdout.trim();
    expect(await can('get', 'databaseprerequisites.dbwatch.dev', '-n', app)).toBe('yes');
    expect(await can('list', 'databaseprerequisites.dbwatch.dev', '-n', app)).toBe('no');
    expect(await can('get', 'databasemonitors.dbwatch.dev', '-n', app)).toBe('no');
    expect(await can('get', 'secrets', '-n', app)).toBe('no');
    expect(await can('get', 'databaseprerequisites.dbwatch.dev', '-n', system)).toBe('no');
    expect(
      await can('patch', 'databaseprerequisites.dbwatch.dev/orders-ready', '--subresource=status', '-n', app),
    ).toBe('no');
  });

  test('/metrics scraped from the leader Pod IP (through the API server where Pod IPs are not routable)', async () => {
    const holder = await leaseHolder();
    const leader = (await pods(system, operatorSelector)).find((p) => p.metadata.name === holder);
    expect(leader?.status.podIP).toBeTruthy();
    const body = await eventually(
      'the monitor in /metrics',
      async () => {
        const text = e2e.podsReachable()
          ? await fetch(`http://${leader?.status.podIP}:8080/metrics`, { signal: AbortSignal.timeout(5000) }).then(
              (r) => (r.ok ? r.text() : ''),
            )
          : await mustKubectl([
              'get',
              '--raw',
              `/api/v1/namespaces/${system}/pods/${leader?.metadata.name}:8080/proxy/metrics`,
            ]);
        return text.includes(`namespace="${app}"`) ? text : undefined;
      },
      30_000,
    );
    expect(body).toMatch(new RegExp(`dbwatch_database_up\\{[^}]*namespace="${app}"[^}]*\\} 1`));
    expect(body).not.toContain(secret.password);
  });

  test('deleting the leader Pod: another replica leads within 20 s and status keeps flowing', async () => {
    const holder = await leaseHolder();
    const other = (await pods(system, operatorSelector)).find((p) => p.metadata.name !== holder)?.metadata.name;
    expect(other).toBeTruthy();
    const deleted = Date.now();
    await mustKubectl(['delete', 'pod', String(holder), '-n', system, '--wait=false']);
    try {
      // The deleted leader releases the Lease; the standby or the ReplicaSet's replacement Pod (which can be up
      // by then) takes it — either is a handover, as long as the new holder is a live Pod.
      await eventually(
        'another live replica leads',
        async () => {
          const now = await leaseHolder();
          if (!now || now === holder) return undefined;
          return (await pods(system, operatorSelector)).some((p) => p.metadata.name === now) ? now : undefined;
        },
        20_000,
        100,
      );
    } catch (error) {
      // A late handover: both Pods' logs say why (the deleted one is still terminating, within its grace period).
      const logsOf = (pod: unknown) =>
        mustKubectl(['logs', '-n', system, String(pod), '--tail=60']).catch((e: Error) => e.message);
      const [old, standby, lease] = await Promise.all([
        logsOf(holder),
        logsOf(other),
        mustKubectl(['get', 'lease', '-n', system, '-o', 'yaml']).catch((e: Error) => e.message),
      ]);
      throw new Error(
        `${(error as Error).message}\n--- old leader ${holder}:\n${old}\n--- standby ${other}:\n${standby}\n--- lease:\n${lease}`,
      );
    }
    times.leaderFailoverS = (Date.now() - deleted) / 1000;
    // An unchanged status is only rewritten on its heartbeat, so ask the new leader for a check (Flux's
    // requestedAt pattern): it must run it and write the status, echoing the token.
    const after = new Date().toISOString();
    const token = `failover-${Date.now()}`;
    await mustKubectl(['annotate', '--overwrite', 'dbmon', 'orders', '-n', app, `dbwatch.dev/requestedAt=${token}`]);
    await eventually(
      'a status written by the new leader',
      async () => {
        const monitor = await getJson<{ status?: { lastCheckTime?: string; lastHandledReconcileAt?: string } }>([
          'get',
          'dbmon',
          'orders',
          '-n',
          app,
        ]);
        const at = monitor.status?.lastCheckTime;
        return monitor.status?.lastHandledReconcileAt === token && at && at > after ? at : undefined;
      },
      30_000,
    );
  }, 60_000);

  test('helm upgrade with a changed value rolls the Deployment', async () => {
    await eventually(
      'two Ready operator Pods again',
      async () => {
        const list = await pods(system, operatorSelector);
        return list.length === 2 && list.every(podReady) ? list : undefined;
      },
      120_000,
    );
    const before = (await pods(system, operatorSelector)).map((p) => p.metadata.name);
    const upgraded = await helm([
      'upgrade',
      release,
      'deploy/helm/dbwatch',
      '-n',
      system,
      '--wait',
      '--timeout',
      '3m',
      ...helmValues(['--set', 'logLevel=debug']),
    ]);
    expect(upgraded.code).toBe(0);
    await mustKubectl(['rollout', 'status', `deployment/${release}`, '-n', system, '--timeout=120s']);
    const after = await pods(system, operatorSelector);
    expect(after.map((p) => p.metadata.name).filter((n) => before.includes(n))).toEqual([]);
    const deployment = await getJson<{
      spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
    }>(['get', 'deployment', release, '-n', system]);
    expect(deployment.spec.template.spec.containers[0]?.env).toContainEqual({ name: 'LOG_LEVEL', value: 'debug' });
  }, 240_000);

  test('helm uninstall leaves no dbwatch object but the CRDs', async () => {
    const uninstalled = await helm(['uninstall', release, '-n', system, '--wait', '--timeout', '2m']);
    expect(uninstalled.code).toBe(0);
    // `--wait` returns before the garbage collector has removed the ReplicaSet's Pods.
    await eventually(
      'nothing labelled for the release and nothing of it in its namespace',
      async () => {
        const labelled = await mustKubectl([
          'get',
          'deployments,replicasets,pods,services,serviceaccounts,configmaps,secrets,roles,rolebindings,clusterroles,clusterrolebindings',
          '-A',
          '-l',
          `app.kubernetes.io/instance=${release}`,
          '-o',
          'name',
        ]);
        const inSystem = (
          await mustKubectl(['get', 'all,serviceaccounts,roles,rolebindings,configmaps', '-n', system, '-o', 'name'])
        )
          .split('\n')
          .filter((l) => l && !l.endsWith('/default') && !l.endsWith('/kube-root-ca.crt'));
        return labelled.trim() === '' && inSystem.length === 0 ? true : undefined;
      },
      90_000,
    );
    const crds = await mustKubectl(['get', 'crd', '-o', 'name']);
    expect(crds).toContain('databasemonitors.dbwatch.dev');
    expect(crds).toContain('databaseprerequisites.dbwatch.dev');
  }, 180_000);

  // The chart owns the Lease (templates/lease.yaml); the operator only takes and renews it.
  test('helm uninstall also removes the leader-election Lease', async () => {
    const leases = await mustKubectl(['get', 'leases', '-n', system, '-o', 'name']);
    expect(leases.trim()).toBe('');
  });
});
