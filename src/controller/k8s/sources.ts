import { API_GROUP, API_VERSION } from '../../api/index.js';
import {
  decodeSecretData as decodeSecretFields,
  type SecretData,
  type SecretLookup,
} from '../../checks/connection-config.js';
import { type KubeClients, k8s, statusCodeOf } from './client.js';

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

/** Metadata only (client-go's metadata informer): enough to notice a change, without holding any Secret's data. */
const METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
const METADATA_WATCH = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';

/** The same cluster and credentials, asking the API server for PartialObjectMetadata on every request. */
function metadataOnly(kc: k8s.KubeConfig): k8s.KubeConfig {
  const meta = Object.create(kc) as k8s.KubeConfig;
  meta.applySecurityAuthentication = async (context) => {
    await kc.applySecurityAuthentication(context);
    context.setHeaderParam('Accept', METADATA_WATCH);
  };
  return meta;
}

/**
 * Secrets are watched for their metadata only: a change (new resourceVersion) re-queues the monitors that
 * reference the Secret, whose reconcile then reads that one Secret with a GET. Unrelated Secrets (Helm
 * releases, service account tokens) cost a few hundred bytes each instead of their full data.
 */
export function secretMetadataSource(clients: KubeClients, namespace?: string) {
  const accept = k8s.setHeaderOptions('Accept', METADATA_LIST);
  return {
    path: namespace ? `/api/v1/namespaces/${namespace}/secrets` : '/api/v1/secrets',
    kc: metadataOnly(clients.kc),
    list: () =>
      (namespace
        ? clients.core.listNamespacedSecret({ namespace }, accept)
        : clients.core.listSecretForAllNamespaces({}, accept)) as Promise<never>,
  };
}

/** Reads the named Secrets of one namespace (GET each); a missing one is simply absent from the lookup. */
export async function readSecrets(clients: KubeClients, namespace: string, names: string[]): Promise<SecretLookup> {
  const found = new Map<string, SecretData>();
  await Promise.all(
    [...new Set(names)].map(async (name) => {
      try {
        const secret = await clients.core.readNamespacedSecret({ namespace, name });
        found.set(name, decodeSecretData(secret.data));
      } catch (error) {
        if (statusCodeOf(error) !== 404) throw error;
      }
    }),
  );
  return (name) => found.get(name);
}

/**
 * Secret data arrives base64-encoded. A value that is not base64 or not UTF-8 text is kept as unreadable, so
 * resolving a connection fails with InvalidConnection naming the Secret and key instead of using junk.
 */
export const decodeSecretData = (data: Record<string, string> | undefined): SecretData => decodeSecretFields(data);
