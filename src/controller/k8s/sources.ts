import { API_GROUP, API_VERSION } from '../../api/index.js';
import { decodeSecretData as decodeSecretFields, type SecretData } from '../../checks/connection-config.js';
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

/**
 * Secret data arrives base64-encoded. A value that is not base64 or not UTF-8 text is kept as unreadable, so
 * resolving a connection fails with InvalidConnection naming the Secret and key instead of using junk.
 */
export const decodeSecretData = (data: Record<string, string> | undefined): SecretData => decodeSecretFields(data);
