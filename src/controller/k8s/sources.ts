import { API_GROUP, API_VERSION } from '../../api/index.js';
import type { KubeClients } from './client.js';

/** Where a ResourceCache lists and watches one resource, in one namespace or all. */
export function customResourceSource(clients: KubeClients, plural: string, namespace?: string) {
  const base = `/apis/${API_GROUP}/${API_VERSION}`;
  const ref = { group: API_GROUP, version: API_VERSION, plural };
  return {
    path: namespace ? `${base}/namespaces/${namespace}/${plural}` : `${base}/${plural}`,
    // Never pass limit: ListWatch ignores continue tokens, and a partial list would delete the rest from the cache.
    list: () =>
      (namespace
        ? clients.objects.listNamespacedCustomObject({ ...ref, namespace })
        : clients.objects.listClusterCustomObject(ref)) as Promise<never>,
  };
}

export function secretSource(clients: KubeClients, namespace?: string) {
  return {
    path: namespace ? `/api/v1/namespaces/${namespace}/secrets` : '/api/v1/secrets',
    list: () =>
      (namespace
        ? clients.core.listNamespacedSecret({ namespace })
        : clients.core.listSecretForAllNamespaces()) as Promise<never>,
  };
}

/** Secret data arrives base64-encoded. */
export const decodeSecretData = (data: Record<string, string> | undefined) =>
  Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
