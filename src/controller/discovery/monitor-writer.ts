import { API_GROUP, API_VERSION } from '../../api/index.js';
import type { KubeClients } from '../k8s/client.js';
import type { DesiredMonitor } from './desired.js';
import type { ExistingMonitor } from './plan.js';

const ref = { group: API_GROUP, version: API_VERSION, plural: 'databasemonitors' };

/** The discovery's writes of DatabaseMonitors; each resolves to the object the API server stored. */
export interface MonitorWriter {
  create(desired: DesiredMonitor): Promise<ExistingMonitor>;
  update(existing: ExistingMonitor, desired: DesiredMonitor): Promise<ExistingMonitor>;
  remove(existing: ExistingMonitor): Promise<void>;
}

export function monitorWriter(clients: KubeClients): MonitorWriter {
  return {
    create: async (d) =>
      (await clients.objects.createNamespacedCustomObject({
        ...ref,
        namespace: d.namespace,
        body: {
          apiVersion: `${API_GROUP}/${API_VERSION}`,
          kind: 'DatabaseMonitor',
          metadata: {
            name: d.name,
            namespace: d.namespace,
            labels: d.labels,
            annotations: d.annotations,
            ownerReferences: d.ownerReferences,
          },
          spec: d.spec,
        },
      })) as ExistingMonitor,
    // A whole-object PUT with the cached resourceVersion: a monitor changed since is refused (409), not clobbered.
    // Labels and annotations others added are kept; the spec and ownerReferences are the discovery's.
    update: async (existing, d) =>
      (await clients.objects.replaceNamespacedCustomObject({
        ...ref,
        namespace: d.namespace,
        name: d.name,
        body: {
          apiVersion: `${API_GROUP}/${API_VERSION}`,
          kind: 'DatabaseMonitor',
          metadata: {
            ...existing.metadata,
            labels: { ...existing.metadata?.labels, ...d.labels },
            annotations: { ...existing.metadata?.annotations, ...d.annotations },
            ownerReferences: d.ownerReferences,
          },
          spec: d.spec,
        },
      })) as ExistingMonitor,
    remove: async (existing) => {
      await clients.objects.deleteNamespacedCustomObject({
        ...ref,
        namespace: existing.metadata?.namespace ?? '',
        name: existing.metadata?.name ?? '',
        ...(existing.metadata?.uid ? { uid: existing.metadata.uid } : {}),
      });
    },
  };
}
