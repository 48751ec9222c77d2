import * as k8s from '@kubernetes/client-node';
import type { DatabaseMonitorStatus, DatabasePrerequisiteStatus } from '../../src/api/index.js';
import { kubeConfig } from './kube.js';

const group = 'dbwatch.dev';
const version = 'v1alpha1';

export const admin = () => {
  const kc = kubeConfig();
  return { core: kc.makeApiClient(k8s.CoreV1Api), objects: kc.makeApiClient(k8s.CustomObjectsApi) };
};

export async function createSecret(namespace: string, name: string, data: Record<string, string>): Promise<void> {
  await admin().core.createNamespacedSecret({ namespace, body: { metadata: { name }, stringData: data } });
}

export async function replaceSecret(namespace: string, name: string, data: Record<string, string>): Promise<void> {
  await admin().core.replaceNamespacedSecret({ namespace, name, body: { metadata: { name }, stringData: data } });
}

export async function createMonitor(namespace: string, name: string, spec: Record<string, unknown>): Promise<void> {
  await admin().objects.createNamespacedCustomObject({
    group,
    version,
    namespace,
    plural: 'databasemonitors',
    body: {
      apiVersion: `${group}/${version}`,
      kind: 'DatabaseMonitor',
      metadata: { name },
      spec: { engine: 'postgres', ...spec },
    },
  });
}

export async function createPrerequisite(
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
): Promise<void> {
  await admin().objects.createNamespacedCustomObject({
    group,
    version,
    namespace,
    plural: 'databaseprerequisites',
    body: { apiVersion: `${group}/${version}`, kind: 'DatabasePrerequisite', metadata: { name }, spec },
  });
}

export interface Fetched<S> {
  metadata: { generation: number; resourceVersion: string; uid: string };
  spec: Record<string, unknown>;
  status?: S;
}

export const getMonitor = async (namespace: string, name: string) =>
  (await admin().objects.getNamespacedCustomObject({
    group,
    version,
    namespace,
    plural: 'databasemonitors',
    name,
  })) as Fetched<DatabaseMonitorStatus>;

export const getPrerequisite = async (namespace: string, name: string) =>
  (await admin().objects.getNamespacedCustomObject({
    group,
    version,
    namespace,
    plural: 'databaseprerequisites',
    name,
  })) as Fetched<DatabasePrerequisiteStatus>;

export async function patchMonitor(namespace: string, name: string, patch: object): Promise<void> {
  await admin().objects.patchNamespacedCustomObject(
    { group, version, namespace, plural: 'databasemonitors', name, body: patch },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

export async function eventsFor(
  namespace: string,
  name: string,
): Promise<{ reason: string; type: string; message: string }[]> {
  const list = await admin().core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
  return list.items.map((e) => ({ reason: e.reason ?? '', type: e.type ?? '', message: e.message ?? '' }));
}

export const condition = (
  status:
    | { conditions?: { type: string; status: string; reason: string; message: string; lastTransitionTime?: string }[] }
    | undefined,
  type: string,
) => status?.conditions?.find((c) => c.type === type);
