import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { kubeConfig, kubectl } from './kube.js';
import { adminUrl } from './pg-fixtures.js';

/*
 * Objects shaped exactly as CloudNativePG and Zalando's postgres-operator write them (their source, read at the
 * pinned versions of hack/fetch-operator-crds.sh), validated by their real CRDs on the real API server, with
 * values pointing at the test run's PostgreSQL.
 */

const REPO = resolve(import.meta.dirname, '../..');

let installed = false;
/** Applies the real CRDs (fetched from the operators' Go modules, cached) and waits until they are Established. */
export async function installOperatorCrds(): Promise<void> {
  if (installed) return;
  const lines = execFileSync(join(REPO, 'hack/fetch-operator-crds.sh'), { encoding: 'utf8' }).trim().split('\n');
  for (const line of lines) {
    const dir = line.split(' ')[2]!;
    // Server-side: CloudNativePG's Cluster CRD (400 KB) is too big for kubectl's last-applied annotation.
    const applied = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', dir]);
    if (applied.code !== 0) throw new Error(`applying ${dir}: ${applied.stderr}`);
    const waited = await kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', dir]);
    if (waited.code !== 0) throw new Error(`CRDs in ${dir} not Established: ${waited.stderr}`);
  }
  installed = true;
}

const api = () => {
  const kc = kubeConfig();
  return { core: kc.makeApiClient(k8s.CoreV1Api), objects: kc.makeApiClient(k8s.CustomObjectsApi) };
};

export interface Login {
  database: string;
  username: string;
  password: string;
}

const CNPG = { group: 'postgresql.cnpg.io', version: 'v1', plural: 'clusters' };

/** A Cluster as a user writes it (CloudNativePG's webhook would add the initdb defaults shown). */
export const cnpgCluster = (namespace: string, name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'postgresql.cnpg.io/v1',
  kind: 'Cluster',
  metadata: { name, namespace, labels },
  spec: {
    instances: 1,
    imageName: 'ghcr.io/cloudnative-pg/postgresql:17',
    storage: { size: '1Gi' },
    bootstrap: { initdb: { database: 'app', owner: 'app' } },
  },
});

const HEALTHY = 'Cluster in healthy state';

/** A Cluster's status as CloudNativePG's reconciler writes it (SetClusterReadyCondition: Ready follows the phase). */
export const cnpgStatus = (phase = HEALTHY) => ({
  status: {
    phase,
    instances: 1,
    readyInstances: phase === HEALTHY ? 1 : 0,
    conditions: [
      phase === HEALTHY
        ? { type: 'Ready', status: 'True', reason: 'ClusterIsReady', message: 'Cluster is Ready' }
        : { type: 'Ready', status: 'False', reason: 'ClusterIsNotReady', message: 'Cluster Is Not Ready' },
    ].map((c) => ({ ...c, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') })),
  },
});

export async function createCnpgCluster(namespace: string, name: string, labels: Record<string, string> = {}) {
  return (await api().objects.createNamespacedCustomObject({
    ...CNPG,
    namespace,
    body: cnpgCluster(namespace, name, labels),
  })) as { metadata: { uid: string } };
}

export const markCnpgClusterHealthy = (namespace: string, name: string) => setCnpgStatus(namespace, name, HEALTHY);

export async function setCnpgStatus(namespace: string, name: string, phase: string): Promise<void> {
  await api().objects.patchNamespacedCustomObjectStatus(
    { ...CNPG, namespace, name, body: cnpgStatus(phase) },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

export async function deleteCnpgCluster(namespace: string, name: string): Promise<void> {
  await api().objects.deleteNamespacedCustomObject({ ...CNPG, namespace, name });
}

/**
 * `<cluster>-app` as CloudNativePG writes it (pkg/specs/secrets.go CreateSecret + SetInheritedDataAndOwnership):
 * basic-auth type, its labels and owner, host the short `<cluster>-rw` Service name, port 5432 — values of the
 * test database's login, except host and port, which only resolve inside a cluster.
 */
export function cnpgAppSecret(cluster: { name: string; uid: string }, namespace: string, login: Login) {
  const host = `${cluster.name}-rw`;
  const enc = encodeURIComponent;
  const uri = (h: string) => `postgresql://${enc(login.username)}:${enc(login.password)}@${h}:5432/${login.database}`;
  return {
    metadata: {
      name: `${cluster.name}-app`,
      labels: { 'cnpg.io/cluster': cluster.name, 'cnpg.io/reload': 'true', 'cnpg.io/userType': 'app' },
      ownerReferences: [
        {
          apiVersion: 'postgresql.cnpg.io/v1',
          kind: 'Cluster',
          name: cluster.name,
          uid: cluster.uid,
          controller: true,
        },
      ],
    },
    type: 'kubernetes.io/basic-auth',
    stringData: {
      username: login.username,
      user: login.username,
      password: login.password,
      dbname: login.database,
      host,
      port: '5432',
      pgpass: `${host}:5432:${login.database}:${login.username}:${login.password}\n`,
      uri: uri(`${host}.${namespace}`),
      'jdbc-uri': `jdbc:postgresql://${host}.${namespace}:5432/${login.database}?password=${enc(login.password)}&user=${enc(login.username)}`,
      'fqdn-uri': uri(`${host}.${namespace}.svc.cluster.local`),
      'fqdn-jdbc-uri': `jdbc:postgresql://${host}.${namespace}.svc.cluster.local:5432/${login.database}?password=${enc(login.password)}&user=${enc(login.username)}`,
    },
  };
}

export async function createCnpgAppSecret(namespace: string, cluster: { name: string; uid: string }, login: Login) {
  await api().core.createNamespacedSecret({ namespace, body: cnpgAppSecret(cluster, namespace, login) });
}

export async function replaceCnpgAppSecret(namespace: string, cluster: { name: string; uid: string }, login: Login) {
  const body = cnpgAppSecret(cluster, namespace, login);
  await api().core.replaceNamespacedSecret({ namespace, name: body.metadata.name, body });
}

const ZALANDO = { group: 'acid.zalan.do', version: 'v1', plural: 'postgresqls' };

/** A postgresql as in Zalando's minimal manifest, with the status the operator writes when it runs. */
export async function createZalandoCluster(namespace: string, name: string, owner: string, database: string) {
  const created = (await api().objects.createNamespacedCustomObject({
    ...ZALANDO,
    namespace,
    body: {
      apiVersion: 'acid.zalan.do/v1',
      kind: 'postgresql',
      metadata: { name },
      spec: {
        teamId: name.split('-')[0],
        volume: { size: '1Gi' },
        numberOfInstances: 1,
        users: { [owner]: ['superuser', 'createdb'] },
        databases: { [database]: owner },
        postgresql: { version: '17' },
      },
    },
  })) as { metadata: { uid: string } };
  await api().objects.patchNamespacedCustomObjectStatus(
    { ...ZALANDO, namespace, name, body: { status: { PostgresClusterStatus: 'Running' } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  return created;
}

/** `<user>.<cluster>.credentials.postgresql.acid.zalan.do` (generateSingleUserSecret): username and password only. */
export async function createZalandoSecret(namespace: string, cluster: string, login: Login) {
  await api().core.createNamespacedSecret({
    namespace,
    body: {
      metadata: {
        name: `${login.username.replaceAll('_', '-')}.${cluster}.credentials.postgresql.acid.zalan.do`,
        labels: { application: 'spilo', 'cluster-name': cluster, team: cluster.split('-')[0]! },
      },
      type: 'Opaque',
      stringData: { username: login.username, password: login.password },
    },
  });
}

/** Where the test PostgreSQL really listens: what a discovery's host/port say instead of the in-cluster Service. */
export const testDatabaseAddress = () => ({ host: adminUrl().hostname, port: Number(adminUrl().port) });

export const discoveryApi = {
  create: async (namespace: string, name: string, spec: object) =>
    api().objects.createNamespacedCustomObject({
      group: 'dbwatch.dev',
      version: 'v1alpha1',
      namespace,
      plural: 'databasediscoveries',
      body: { apiVersion: 'dbwatch.dev/v1alpha1', kind: 'DatabaseDiscovery', metadata: { name }, spec },
    }),
  get: async (namespace: string, name: string) =>
    (await api().objects.getNamespacedCustomObject({
      group: 'dbwatch.dev',
      version: 'v1alpha1',
      namespace,
      plural: 'databasediscoveries',
      name,
    })) as { metadata: { generation: number }; status?: import('../../src/api/index.js').DatabaseDiscoveryStatus },
  delete: async (namespace: string, name: string) =>
    api().objects.deleteNamespacedCustomObject({
      group: 'dbwatch.dev',
      version: 'v1alpha1',
      namespace,
      plural: 'databasediscoveries',
      name,
    }),
};

/** Every DatabaseMonitor of a namespace (name → object). */
export async function monitorsIn(namespace: string) {
  const list = (await api().objects.listNamespacedCustomObject({
    group: 'dbwatch.dev',
    version: 'v1alpha1',
    namespace,
    plural: 'databasemonitors',
  })) as {
    items: {
      metadata: {
        name: string;
        resourceVersion: string;
        labels?: Record<string, string>;
        ownerReferences?: { kind: string; name: string }[];
      };
      spec: Record<string, any>;
      status?: { conditions?: { type: string; status: string; reason: string }[] };
    }[];
  };
  return new Map(list.items.map((m) => [m.metadata.name, m]));
}

export const labelNamespace = (name: string, labels: Record<string, string>) =>
  api().core.patchNamespace(
    { name, body: { metadata: { labels } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
