import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { cnpgAppSecret, cnpgCluster, cnpgStatus } from '../support/database-operators.js';
import { type PostgresServer, startPostgres } from '../support/postgres-server.js';
import { e2e, eventually, getJson, helm, kubectl, mustKubectl, podReady, pods } from './cluster.js';

/**
 * DatabaseDiscovery as users run it: the chart installed with discovery and its CloudNativePG source on (the
 * operator in a Pod, bound only to the chart's roles), CloudNativePG's real CRDs, Clusters and `<cluster>-app`
 * Secrets as CloudNativePG writes them in three namespaces, and nothing else written per database. Here a
 * kube-controller-manager runs, so the garbage collector's part is seen too. One ordered story.
 */
const run = `${process.pid.toString(36)}${Date.now().toString(36)}`.slice(-8);
const system = `dbwatch-disc-${run}`;
const teams = ['a', 'b', 'c'].map((t) => `team-${t}-${run}`);
const release = 'dbwatch-discovery';
const times: Record<string, number> = {};
let postgres: PostgresServer;
const logins = new Map<string, { database: string; username: string; password: string }>();

const [repository, tag] = (() => {
  const image = e2e.image();
  const at = image.lastIndexOf(':');
  return at > image.lastIndexOf('/') ? [image.slice(0, at), image.slice(at + 1)] : [image, 'latest'];
})();

const monitor = async (ns: string, name: string) => {
  const got = await kubectl(['get', 'dbmon', name, '-n', ns, '-o', 'json']);
  return got.code === 0
    ? (JSON.parse(got.stdout) as { status?: { conditions?: { type: string; status: string }[] } })
    : undefined;
};
const ready = async (ns: string, name: string) =>
  (await monitor(ns, name))?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
    ? true
    : undefined;
const gone = async (ns: string, kind: string, name: string) =>
  (await kubectl(['get', kind, name, '-n', ns])).code !== 0 ? true : undefined;

/** A Cluster, its `<cluster>-app` Secret (host `<cluster>-rw`, as CloudNativePG writes it) and its healthy status. */
async function cloudNativePGCluster(ns: string, name: string): Promise<void> {
  const created = await mustKubectl(['create', '-o', 'json', '-f', '-'], JSON.stringify(cnpgCluster(ns, name)));
  const uid = (JSON.parse(created) as { metadata: { uid: string } }).metadata.uid;
  const secret = cnpgAppSecret({ name, uid }, ns, logins.get(ns)!);
  await mustKubectl(
    ['create', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'Secret', ...secret, metadata: { ...secret.metadata, namespace: ns } }),
  );
  await mustKubectl([
    'patch',
    'cluster.postgresql.cnpg.io',
    name,
    '-n',
    ns,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify(cnpgStatus()),
  ]);
}

beforeAll(async () => {
  postgres = await startPostgres({ reachableAt: { address: e2e.hostAddress(), clients: e2e.podCidr() } });
  for (const ns of teams) {
    const login = {
      database: `app_${ns.replaceAll('-', '_')}`,
      username: `app_${ns.replaceAll('-', '_')}`,
      password: `pw-${Math.random().toString(36).slice(2)}`,
    };
    await postgres.asSuperuser(`CREATE ROLE ${login.username} LOGIN PASSWORD '${login.password}'`);
    await postgres.asSuperuser(`CREATE DATABASE ${login.database} OWNER ${login.username}`);
    logins.set(ns, login);
  }
  // CloudNativePG's own CRDs, from its Go module at the pinned version (cached).
  const dir = execFileSync('hack/fetch-operator-crds.sh', ['cloudnative-pg'], { encoding: 'utf8' })
    .trim()
    .split(' ')[2]!;
  await mustKubectl(['apply', '--server-side', '--force-conflicts', '-f', dir]);
  await mustKubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', dir]);
}, 120_000);

afterAll(async () => {
  await helm(['uninstall', release, '-n', system, '--wait']);
  await kubectl(['delete', 'namespace', system, ...teams, '--ignore-not-found', '--wait=false']);
  await postgres?.stop();
  console.log(`e2e discovery figures: ${JSON.stringify(times)}`);
}, 180_000);

describe('DatabaseDiscovery on a real node', () => {
  test('helm install with discovery and the CloudNativePG source on: the operator Ready', async () => {
    for (const ns of [system, ...teams]) await mustKubectl(['create', 'namespace', ns]);
    const installed = await helm([
      'install',
      release,
      'deploy/helm/dbwatch',
      '-n',
      system,
      '--wait',
      '--timeout',
      '3m',
      '--set',
      `image.repository=${repository}`,
      '--set',
      `image.tag=${tag}`,
      '--set',
      'image.pullPolicy=Never',
      '--set',
      'replicaCount=1',
      '--set',
      `watchNamespaces={${[system, ...teams].join(',')}}`,
      '--set',
      'discovery.enabled=true',
      '--set',
      'discovery.sources.cloudNativePG=true',
    ]);
    expect(installed).toMatchObject({ code: 0 });
    await eventually(
      'the operator Pod Ready',
      async () => ((await pods(system, `app.kubernetes.io/instance=${release}`)).some(podReady) ? true : undefined),
      120_000,
    );
  }, 240_000);

  test('CloudNativePG Clusters in three labelled namespaces, one DatabaseDiscovery: kubectl get dbmon -A lists every database Ready', async () => {
    for (const ns of teams) {
      await mustKubectl(['label', 'namespace', ns, 'dbwatch.dev/discover=on']);
      await cloudNativePGCluster(ns, 'app-db');
    }
    const created = Date.now();
    await mustKubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'dbwatch.dev/v1alpha1',
        kind: 'DatabaseDiscovery',
        metadata: { name: 'all-postgres', namespace: system },
        spec: {
          namespaceSelector: { matchLabels: { 'dbwatch.dev/discover': 'on' } },
          // No cluster DNS on the local node: the host and port where PostgreSQL really listens, instead of
          // <cluster>-rw.<namespace>.svc.
          sources: [{ cloudNativePG: { host: e2e.hostAddress(), port: postgres.port } }],
          template: { interval: '10s', connection: { connectTimeoutSeconds: 5 } },
        },
      }),
    );
    for (const ns of teams) await eventually(`monitor ${ns}/app-db Ready`, () => ready(ns, 'app-db'), 60_000);
    times.discoveryToThreeMonitorsReadyS = (Date.now() - created) / 1000;
    const listed = await mustKubectl(['get', 'dbmon', '-A']);
    console.log(listed);
    for (const ns of teams) expect(listed).toMatch(new RegExp(`${ns}\\s+app-db\\s+True\\s+postgres\\s+healthy`));
    const discovery = await getJson<{ status: { discovered: number; created: number } }>([
      'get',
      'dbdisc',
      'all-postgres',
      '-n',
      system,
    ]);
    expect(discovery.status).toMatchObject({ discovered: 3, created: 3 });
  }, 120_000);

  test('deleting a Cluster removes its monitor; the garbage collector removes its Secret', async () => {
    const [ns] = teams;
    const deleted = Date.now();
    await mustKubectl(['delete', 'cluster.postgresql.cnpg.io', 'app-db', '-n', ns!]);
    await eventually('monitor gone', () => gone(ns!, 'dbmon', 'app-db'), 30_000, 100);
    times.clusterDeletedToMonitorGoneS = (Date.now() - deleted) / 1000;
    await eventually('app Secret garbage-collected', () => gone(ns!, 'secret', 'app-db-app'), 60_000);
  }, 90_000);

  test('with the operator stopped, the garbage collector alone removes the monitor of a deleted Cluster (its only owner across namespaces)', async () => {
    const ns = teams[1]!;
    await mustKubectl([
      'scale',
      'deployment',
      '-n',
      system,
      '-l',
      `app.kubernetes.io/instance=${release}`,
      '--replicas=0',
    ]);
    await eventually(
      'no operator Pod',
      async () => ((await pods(system, `app.kubernetes.io/instance=${release}`)).length === 0 ? true : undefined),
      60_000,
    );
    const deleted = Date.now();
    await mustKubectl(['delete', 'cluster.postgresql.cnpg.io', 'app-db', '-n', ns]);
    await eventually('monitor garbage-collected', () => gone(ns, 'dbmon', 'app-db'), 60_000);
    times.clusterDeletedToMonitorGarbageCollectedS = (Date.now() - deleted) / 1000;
    await mustKubectl([
      'scale',
      'deployment',
      '-n',
      system,
      '-l',
      `app.kubernetes.io/instance=${release}`,
      '--replicas=1',
    ]);
    await eventually(
      'the operator Pod Ready again',
      async () => ((await pods(system, `app.kubernetes.io/instance=${release}`)).some(podReady) ? true : undefined),
      120_000,
    );
  }, 240_000);

  test('deleting the DatabaseDiscovery removes the monitors it made in other namespaces', async () => {
    const ns = teams[2]!;
    await eventually('the last monitor still Ready', () => ready(ns, 'app-db'), 60_000);
    const deleted = Date.now();
    await mustKubectl(['delete', 'dbdisc', 'all-postgres', '-n', system]);
    await eventually('monitor gone', () => gone(ns, 'dbmon', 'app-db'), 60_000, 100);
    times.discoveryDeletedToMonitorGoneS = (Date.now() - deleted) / 1000;
  }, 90_000);
});
