import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import {
  createCnpgAppSecret,
  createCnpgCluster,
  createZalandoCluster,
  createZalandoSecret,
  deleteCnpgCluster,
  discoveryApi,
  installOperatorCrds,
  type Login,
  labelNamespace,
  markCnpgClusterHealthy,
  monitorsIn,
  replaceCnpgAppSecret,
  setCnpgStatus,
  testDatabaseAddress,
} from '../../support/database-operators.js';
import { type DiscoveryOperator, startDiscoveryOperator } from '../../support/discovery-operator.js';
import { gitopsHealth, statusOf } from '../../support/gitops-health.js';
import { ensureCrds, freshNamespace, kubectl } from '../../support/kube.js';
import { eventually } from '../../support/operator.js';
import { createDatabase, secretData, withAdmin } from '../../support/pg-fixtures.js';
import { admin, condition, createMonitor, getMonitor } from '../../support/resources.js';

/*
 * DatabaseDiscovery on the real control plane with the real CRDs of CloudNativePG v1.27.1 and Zalando's
 * postgres-operator v1.15.1, objects and Secrets shaped as those operators write them, monitors checking the real
 * test PostgreSQL. No controllers run here: every deletion below is the dbwatch operator's own doing (the
 * garbage collector's part is described in docs/discovery.md).
 */

let shop: string;
let adminNs: string;
const teams: string[] = [];
let other: string;
let scale: string;
let operator: DiscoveryOperator;
let judge: ReturnType<typeof gitopsHealth>;
/** Argo CD's verdict (docs/gitops.md's Lua on gopher-lua) and kstatus's on the live discovery. */
const gitops = async (ns: string, name: string) =>
  statusOf(judge('DatabaseDiscovery', await discoveryApi.get(ns, name)));
const address = () => testDatabaseAddress();
/** The databases' address as the tests reach it: the Secrets name a Service that resolves only inside a cluster. */
const at = () => ({ host: address().host, port: address().port });
const template = { interval: '30s', connection: { connectTimeoutSeconds: 2 } };

const monitor = async (ns: string, name: string) => (await monitorsIn(ns)).get(name);
const readyMonitor = (ns: string, name: string, timeoutMs = 15_000) =>
  eventually(
    `monitor ${ns}/${name} Ready`,
    async () => {
      const m = await monitor(ns, name);
      return condition(m?.status as never, 'Ready')?.status === 'True' ? m : undefined;
    },
    timeoutMs,
    100,
  );
const discoveryStatus = (ns: string, name: string, ok: (s: any) => boolean, timeoutMs = 15_000) =>
  eventually(
    `discovery ${ns}/${name} status`,
    async () => {
      const d = await discoveryApi.get(ns, name);
      return d.status && ok(d.status) ? d.status : undefined;
    },
    timeoutMs,
    100,
  );
const gone = (ns: string, name: string, timeoutMs = 15_000) =>
  eventually(
    `monitor ${ns}/${name} deleted`,
    async () => ((await monitor(ns, name)) ? undefined : true),
    timeoutMs,
    100,
  );

async function cnpgDatabase(ns: string, name: string, labels: Record<string, string> = {}): Promise<Login> {
  const login = await createDatabase({ monitor: true });
  const cluster = await createCnpgCluster(ns, name, labels);
  await createCnpgAppSecret(ns, { name, uid: cluster.metadata.uid }, login);
  await markCnpgClusterHealthy(ns, name);
  return login;
}

beforeAll(async () => {
  judge = gitopsHealth();
  await ensureCrds();
  await installOperatorCrds();
  shop = await freshNamespace('disc-shop');
  adminNs = await freshNamespace('disc-admin');
  for (const t of ['a', 'b', 'c']) teams.push(await freshNamespace(`disc-team-${t}`));
  other = await freshNamespace('disc-other');
  scale = await freshNamespace('disc-scale');
  operator = await startDiscoveryOperator({
    namespaces: [shop, adminNs, ...teams, other, scale],
    discovery: { sources: ['cloudnativepg', 'zalando', 'secrets'], clusterNamespaces: [adminNs] },
    apiRateLimit: { qps: 300, burst: 600 },
  });
  await discoveryApi.create(shop, 'everything', {
    sources: [
      { cloudNativePG: at() },
      { zalando: at() },
      { secrets: { selector: { matchLabels: { 'dbwatch.dev/monitor': 'true' } } } },
    ],
    template,
  });
}, 180_000);

afterAll(async () => {
  await operator?.stop();
});

describe('the DatabaseDiscovery kind', () => {
  test('kubectl explain documents it; the API server refuses a source with two kinds and an unknown placeholder', async () => {
    const explained = await kubectl(['explain', 'databasediscovery.spec.sources.cloudNativePG.host']);
    expect(explained.stdout).toMatch(
      /Host the monitors connect to, with \$\(service\), \$\(cluster\), \$\(namespace\)/,
    );
    const refused = await kubectl(['apply', '-n', shop, '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'dbwatch.dev/v1alpha1',
        kind: 'DatabaseDiscovery',
        metadata: { name: 'bad' },
        spec: { sources: [{ cloudNativePG: {}, zalando: {} }, { secrets: { selector: {}, host: '$(service)' } }] },
      }),
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/set exactly one of cloudNativePG, crunchy, zalando or secrets/);
    expect(refused.stderr).toMatch(/spec\.sources\[1\]\.secrets\.host/);
  });
});

describe('CloudNativePG Clusters in one namespace', () => {
  test('a Cluster still bootstrapping waits with its phase; once healthy with its Secret, its monitor is Ready within seconds', async () => {
    const cluster = await createCnpgCluster(shop, 'orders');
    await setCnpgStatus(shop, 'orders', 'Setting up primary');
    const waiting = await discoveryStatus(shop, 'everything', (s) => s.waiting === 1);
    // Reported once: no status is written while a source is still being listed after start.
    expect(waiting.problems).toEqual([
      {
        source: `Cluster/${shop}/orders`,
        monitor: 'orders',
        reason: 'SourceNotReady',
        message: 'Cluster orders is not ready: phase "Setting up primary"',
      },
    ]);
    expect(condition(waiting, 'Ready')).toMatchObject({ status: 'False', reason: 'Waiting' });
    expect(await gitops(shop, 'everything')).toEqual({ argocd: 'Progressing', kstatus: 'InProgress' });
    expect(await monitor(shop, 'orders')).toBeUndefined();

    const login = await createDatabase({ monitor: true });
    await createCnpgAppSecret(shop, { name: 'orders', uid: cluster.metadata.uid }, login);
    const healthyAt = Date.now();
    await markCnpgClusterHealthy(shop, 'orders');
    const m = await readyMonitor(shop, 'orders');
    const seconds = (Date.now() - healthyAt) / 1000;
    console.log(`discovery: Cluster healthy → monitor Ready in ${seconds.toFixed(2)} s`);
    expect(seconds).toBeLessThan(5);
    expect(m.status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('Healthy');
    expect(m.spec.connection).toMatchObject({
      secretRef: { name: 'orders-app', keys: { database: 'dbname', username: 'username', password: 'password' } },
      host: address().host,
      port: address().port,
    });
    expect(m.metadata.labels).toMatchObject({
      'dbwatch.dev/discovery': 'everything',
      'dbwatch.dev/discovery-namespace': shop,
      'dbwatch.dev/source-kind': 'Cluster.postgresql.cnpg.io',
      'dbwatch.dev/source-name': 'orders',
    });
    expect(m.metadata.ownerReferences?.map((r) => `${r.kind}/${r.name}`)).toEqual([
      'Cluster/orders',
      'DatabaseDiscovery/everything',
    ]);
    const status = await discoveryStatus(shop, 'everything', (s) => s.created === 1 && s.waiting === 0);
    expect(status).toMatchObject({ discovered: 1, created: 1, waiting: 0, failed: 0 });
    expect(condition(status, 'Ready')).toMatchObject({
      status: 'True',
      reason: 'AllMonitored',
      message: '1 database monitored',
    });
    expect(await gitops(shop, 'everything')).toEqual({ argocd: 'Healthy', kstatus: 'Current' });
    const get = await kubectl(['get', 'dbdisc', '-n', shop]);
    expect(get.stdout).toMatch(/everything\s+True\s+1\s+1\s+0\s+0/);
  });

  test('a rotated password (role altered, Secret rewritten as CloudNativePG does) is checked at once, not an interval later', async () => {
    await readyMonitor(shop, 'orders');
    const checks = async () => {
      const text = await operator.metrics.registry.getSingleMetricAsString('dbwatch_check_duration_seconds');
      return Number(
        /dbwatch_check_duration_seconds_count\{engine="postgres",check="health"\} (\d+)/.exec(text)?.[1] ?? 0,
      );
    };
    const before = await checks();
    const secret = await admin().core.readNamespacedSecret({ namespace: shop, name: 'orders-app' });
    const decode = (k: string) => Buffer.from(secret.data![k]!, 'base64').toString();
    const login = { database: decode('dbname'), username: decode('username'), password: `rotated-${Date.now()}` };
    await withAdmin((c) => c.query(`ALTER ROLE ${login.username} PASSWORD '${login.password}'`));
    const cluster = (await admin().objects.getNamespacedCustomObject({
      group: 'postgresql.cnpg.io',
      version: 'v1',
      namespace: shop,
      plural: 'clusters',
      name: 'orders',
    })) as { metadata: { uid: string } };
    const rotatedAt = Date.now();
    await replaceCnpgAppSecret(shop, { name: 'orders', uid: cluster.metadata.uid }, login);
    await eventually(
      'a check after the rotation',
      async () => ((await checks()) > before ? true : undefined),
      5000,
      100,
    );
    console.log(`discovery: Secret rotated → rechecked in ${((Date.now() - rotatedAt) / 1000).toFixed(2)} s`);
    const after = await getMonitor(shop, 'orders');
    expect(condition(after.status, 'Ready')).toMatchObject({ status: 'True', reason: 'Healthy' });
    // The monitor still points at the operator's Secret: nothing was copied.
    expect((await monitor(shop, 'orders'))?.spec.connection.secretRef.name).toBe('orders-app');
  });

  test('deleting the Cluster removes its monitor (the operator does it: no garbage collector runs here)', async () => {
    await readyMonitor(shop, 'orders');
    const deletedAt = Date.now();
    await deleteCnpgCluster(shop, 'orders');
    await gone(shop, 'orders');
    console.log(`discovery: Cluster deleted → monitor deleted in ${((Date.now() - deletedAt) / 1000).toFixed(2)} s`);
    const status = await discoveryStatus(shop, 'everything', (s) => s.discovered === 0);
    expect(status).toMatchObject({ discovered: 0, created: 0 });
  });
});

describe('other sources and conflicts', () => {
  test("a Zalando postgresql: its credentials Secret (login only) and the first database's name from the spec", async () => {
    const login = await createDatabase({ monitor: true });
    await createZalandoCluster(shop, 'acid-billing', login.username, login.database);
    await createZalandoSecret(shop, 'acid-billing', login);
    const m = await readyMonitor(shop, 'acid-billing');
    expect(m.spec.connection).toMatchObject({
      secretRef: { name: `${login.username.replaceAll('_', '-')}.acid-billing.credentials.postgresql.acid.zalan.do` },
      database: login.database,
    });
    expect(m.metadata.labels?.['dbwatch.dev/source-kind']).toBe('postgresql.acid.zalan.do');
  });

  test('a Secret of your own is monitored while it carries the label, and its monitor goes when the label does', async () => {
    const login = await createDatabase({ monitor: true });
    await admin().core.createNamespacedSecret({
      namespace: shop,
      body: {
        metadata: { name: 'legacy-db', labels: { 'dbwatch.dev/monitor': 'true' } },
        stringData: secretData(login),
      },
    });
    const m = await readyMonitor(shop, 'legacy-db');
    expect(m.spec.connection.host).toBeUndefined();
    expect(m.metadata.ownerReferences?.map((r) => `${r.kind}/${r.name}`)).toEqual([
      'Secret/legacy-db',
      'DatabaseDiscovery/everything',
    ]);
    await admin().core.patchNamespacedSecret(
      { namespace: shop, name: 'legacy-db', body: { metadata: { labels: { 'dbwatch.dev/monitor': null } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await gone(shop, 'legacy-db');
  });

  test('a monitor of the same name written by hand is a NameClash, left untouched; once it is deleted the discovery takes over', async () => {
    const handLogin = await createDatabase({ monitor: true });
    await admin().core.createNamespacedSecret({
      namespace: shop,
      body: { metadata: { name: 'hand-db' }, stringData: secretData(handLogin) },
    });
    await createMonitor(shop, 'inventory', { connection: { secretRef: { name: 'hand-db' } }, interval: '1m' });
    const before = await getMonitor(shop, 'inventory');
    await cnpgDatabase(shop, 'inventory');
    const status = await discoveryStatus(shop, 'everything', (s) => s.failed === 1);
    expect(status.problems).toContainEqual({
      source: `Cluster/${shop}/inventory`,
      monitor: 'inventory',
      reason: 'NameClash',
      message: `a DatabaseMonitor ${shop}/inventory exists that this discovery did not create; it is left alone (rename it, or set the source's name)`,
    });
    expect(condition(status, 'Ready')).toMatchObject({ status: 'False', reason: 'MonitorsFailed' });
    expect(await gitops(shop, 'everything')).toEqual({ argocd: 'Degraded', kstatus: 'InProgress' });
    const after = await getMonitor(shop, 'inventory');
    expect(after.metadata.generation).toBe(before.metadata.generation);
    expect(after.spec).toEqual(before.spec);
    expect((await monitor(shop, 'inventory'))?.metadata.labels?.['dbwatch.dev/discovery']).toBeUndefined();

    await admin().objects.deleteNamespacedCustomObject({
      group: 'dbwatch.dev',
      version: 'v1alpha1',
      namespace: shop,
      plural: 'databasemonitors',
      name: 'inventory',
    });
    const taken = await readyMonitor(shop, 'inventory');
    expect(taken.metadata.labels?.['dbwatch.dev/discovery']).toBe('everything');
    expect(taken.spec.connection.secretRef.name).toBe('inventory-app');
    await discoveryStatus(shop, 'everything', (s) => s.failed === 0);
  });
});

describe('across namespaces', () => {
  test('from the admin namespace, Clusters in three labelled namespaces are all monitored Ready; deleting one Cluster, then the discovery, cleans up', async () => {
    for (const ns of teams) await labelNamespace(ns, { 'dbwatch.dev/discover': 'on' });
    await Promise.all(teams.map((ns) => cnpgDatabase(ns, 'app-db')));
    await cnpgDatabase(other, 'unlabelled-ns-db');
    const createdAt = Date.now();
    await discoveryApi.create(adminNs, 'fleet', {
      namespaceSelector: { matchLabels: { 'dbwatch.dev/discover': 'on' } },
      sources: [{ cloudNativePG: at() }],
      template,
    });
    for (const ns of teams) {
      const m = await readyMonitor(ns, 'app-db');
      // An ownerReference cannot point to another namespace: the Cluster owns it, labels name the discovery.
      expect(m.metadata.ownerReferences?.map((r) => r.kind)).toEqual(['Cluster']);
      expect(m.metadata.labels?.['dbwatch.dev/discovery-namespace']).toBe(adminNs);
    }
    console.log(`discovery: 3 namespaces → 3 monitors Ready in ${((Date.now() - createdAt) / 1000).toFixed(2)} s`);
    expect(await monitor(other, 'unlabelled-ns-db')).toBeUndefined();
    const all = await kubectl(['get', 'dbmon', '-A']);
    for (const ns of teams) expect(all.stdout).toMatch(new RegExp(`${ns}\\s+app-db\\s+True\\s+postgres\\s+healthy`));
    expect(await discoveryStatus(adminNs, 'fleet', (s) => s.created === 3)).toMatchObject({
      discovered: 3,
      created: 3,
    });

    await deleteCnpgCluster(teams[0]!, 'app-db');
    await gone(teams[0]!, 'app-db');
    await discoveryApi.delete(adminNs, 'fleet');
    for (const ns of teams.slice(1)) await gone(ns, 'app-db');
  });

  test('a namespaceSelector outside the allowed namespaces is Stalled and creates nothing', async () => {
    await discoveryApi.create(other, 'greedy', {
      namespaceSelector: {},
      sources: [{ cloudNativePG: at() }],
      template,
    });
    const status = await discoveryStatus(other, 'greedy', (s) => condition(s, 'Stalled')?.status === 'True');
    expect(condition(status, 'Stalled')?.reason).toBe('NamespaceSelectorNotAllowed');
    expect(condition(status, 'Ready')).toMatchObject({ status: 'False', reason: 'NamespaceSelectorNotAllowed' });
    expect(await gitops(other, 'greedy')).toEqual({ argocd: 'Degraded', kstatus: 'Failed' });
    expect(await monitor(other, 'unlabelled-ns-db')).toBeUndefined();
    await discoveryApi.delete(other, 'greedy');
  });

  test('a source this operator was not given is Stalled with the setting to change; the other sources still run', async () => {
    await discoveryApi.create(other, 'partly', { sources: [{ crunchy: {} }, { cloudNativePG: at() }], template });
    const status = await discoveryStatus(other, 'partly', (s) => s.created === 1);
    expect(condition(status, 'Stalled')).toMatchObject({
      status: 'True',
      reason: 'SourceNotEnabled',
      message:
        'source crunchy is not enabled in this operator (DISCOVERY_SOURCES; Helm value discovery.sources.crunchy)',
    });
    await readyMonitor(other, 'unlabelled-ns-db');
    await discoveryApi.delete(other, 'partly');
    await gone(other, 'unlabelled-ns-db');
  });
});

describe('500 discovered databases', () => {
  test('are created with one write each, and a resync or an operator restart writes nothing', async () => {
    const login = await createDatabase({ monitor: true });
    const earlier = await operator.writes();
    await discoveryApi.create(scale, 'many', { sources: [{ cloudNativePG: at() }], template: { interval: '1h' } });
    const names = Array.from({ length: 500 }, (_, i) => `db-${String(i).padStart(3, '0')}`);
    const startedAt = Date.now();
    for (let i = 0; i < names.length; i += 25) {
      await Promise.all(
        names.slice(i, i + 25).map(async (name) => {
          const cluster = await createCnpgCluster(scale, name);
          await createCnpgAppSecret(scale, { name, uid: cluster.metadata.uid }, login);
          await markCnpgClusterHealthy(scale, name);
        }),
      );
    }
    const status = await discoveryStatus(scale, 'many', (s) => s.created === 500, 180_000);
    console.log(`discovery: 500 Clusters written and monitored in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    expect(status).toMatchObject({ discovered: 500, created: 500, waiting: 0, failed: 0 });
    const total = await operator.writes();
    const writes = Object.fromEntries(
      Object.entries(total)
        .map(([verb, n]) => [verb, n - (earlier[verb] ?? 0)])
        .filter(([, n]) => n !== 0),
    );
    const monitors = await monitorsIn(scale);
    expect(monitors.size).toBe(500);
    // Every monitor was written once (generation 1) — across all the Cluster and Secret events that arrived meanwhile.
    expect([...monitors.values()].filter((m) => (m as any).metadata.generation !== 1)).toEqual([]);

    // A status change of every Cluster (CloudNativePG rewrites status often): events, but nothing to write.
    await Promise.all(names.map((name) => markCnpgClusterHealthy(scale, name)));
    await new Promise((ok) => setTimeout(ok, 3000));
    expect(await operator.writes()).toEqual(total);

    // A restarted operator relists everything and finds it all as wanted.
    await operator.stop();
    operator = await startDiscoveryOperator({
      namespaces: [shop, adminNs, ...teams, other, scale],
      discovery: { sources: ['cloudnativepg', 'zalando', 'secrets'], clusterNamespaces: [adminNs] },
      apiRateLimit: { qps: 300, burst: 600 },
    });
    await discoveryStatus(scale, 'many', (s) => s.created === 500);
    await new Promise((ok) => setTimeout(ok, 3000));
    expect(await operator.writes()).toEqual({});
    const again = await monitorsIn(scale);
    expect([...again.values()].filter((m) => (m as any).metadata.generation !== 1)).toEqual([]);
    console.log(`discovery: writes for 500 databases: ${JSON.stringify(writes)}; after a resync and a restart: none`);
    expect(writes).toEqual({ create: 500 });

    const deletedAt = Date.now();
    await discoveryApi.delete(scale, 'many');
    await eventually(
      'all 500 monitors deleted',
      async () => ((await monitorsIn(scale)).size === 0 ? true : undefined),
      120_000,
      500,
    );
    console.log(
      `discovery: discovery deleted → its 500 monitors deleted in ${((Date.now() - deletedAt) / 1000).toFixed(1)} s`,
    );
    expect(await operator.writes()).toEqual({ delete: 500 });
  }, 400_000);
});
