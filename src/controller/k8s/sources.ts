import { API_GROUP, API_VERSION } from '../../api/index.js';
import {
  decodeSecretData as decodeSecretFields,
  type SecretData,
  type SecretLookup,
} from '../../checks/connection-config.js';
import { type KubeClients, statusCodeOf } from './client.js';
import type { ObjectList, Source } from './resource-cache.js';

/** Where a ResourceCache lists and watches one resource, in one namespace or all. */
export function customResourceSource(clients: KubeClients, plural: string, namespace?: string): Source {
  const base = `/apis/${API_GROUP}/${API_VERSION}`;
  const path = namespace ? `${base}/namespaces/${namespace}/${plural}` : `${base}/${plural}`;
  // Never pass limit: the cache replaces its contents with the list, so a partial list would delete the rest.
  return { path, list: () => clients.api.request<ObjectList>('GET', path) };
}

/** Any namespaced resource of any API group (another operator's custom resources), in one namespace or all. */
export function groupResourceSource(
  clients: KubeClients,
  resource: { group: string; version: string; plural: string },
  namespace?: string,
  transform?: Source['transform'],
): Source {
  const base = resource.group ? `/apis/${resource.group}/${resource.version}` : `/api/${resource.version}`;
  const path = namespace ? `${base}/namespaces/${namespace}/${resource.plural}` : `${base}/${resource.plural}`;
  return { path, list: () => clients.api.request<ObjectList>('GET', path), ...(transform ? { transform } : {}) };
}

/** Namespaces, metadata only: their labels are all a namespace selector reads. */
export function namespaceMetadataSource(clients: KubeClients): Source {
  const path = '/api/v1/namespaces';
  return {
    path,
    list: () => clients.api.request<ObjectList>('GET', path, { accept: METADATA_LIST }),
    watchAccept: METADATA_WATCH,
  };
}

/** Metadata only (client-go's metadata informer): enough to notice a change, without holding any Secret's data. */
const METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
const METADATA_WATCH = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';

/**
 * Secrets are watched for their metadata only: a change (new resourceVersion) re-queues the monitors that
 * reference the Secret, whose reconcile then reads that one Secret with a GET. Unrelated Secrets (Helm
 * releases, service account tokens) cost a few hundred bytes each instead of their full data.
 */
export function secretMetadataSource(clients: KubeClients, namespace?: string): Source {
  const path = namespace ? `/api/v1/namespaces/${namespace}/secrets` : '/api/v1/secrets';
  return {
    path,
    list: () => clients.api.request<ObjectList>('GET', path, { accept: METADATA_LIST }),
    watchAccept: METADATA_WATCH,
  };
}

/**
 * Reads referenced Secrets when a monitor is reconciled. A Secret is fetched with a GET unless the
 * metadata watch shows the same resourceVersion as the copy read last time, so a steady fleet costs no API
 * requests and a changed Secret is read fresh. Only Secrets that some reconcile asked for are held.
 */
export class SecretReader {
  private readonly read = new Map<string, { resourceVersion: string; data: SecretData }>();

  constructor(
    private readonly clients: KubeClients,
    /** The resourceVersion the metadata watch has for a Secret, if it has seen it. */
    private readonly watchedVersion: (namespace: string, name: string) => string | undefined,
  ) {}

  async lookup(namespace: string, names: string[]): Promise<SecretLookup> {
    const found = new Map<string, SecretData>();
    await Promise.all(
      [...new Set(names)].map(async (name) => {
        const data = await this.get(namespace, name);
        if (data) found.set(name, data);
      }),
    );
    return Object.assign((name: string) => found.get(name), { where: () => `in namespace ${namespace}` });
  }

  /** The Secret is gone (metadata watch): drop its data. */
  forget(namespace: string, name: string): void {
    this.read.delete(`${namespace}/${name}`);
  }

  private async get(namespace: string, name: string): Promise<SecretData | undefined> {
    const key = `${namespace}/${name}`;
    const cached = this.read.get(key);
    const watched = this.watchedVersion(namespace, name);
    if (cached && watched !== undefined && cached.resourceVersion === watched) return cached.data;
    try {
      const secret = await this.clients.core.readNamespacedSecret({ namespace, name });
      const data = decodeSecretData(secret.data);
      this.read.set(key, { resourceVersion: secret.metadata?.resourceVersion ?? '', data });
      return data;
    } catch (error) {
      if (statusCodeOf(error) !== 404) throw error;
      this.read.delete(key);
      return undefined;
    }
  }
}

/**
 * Secret data arrives base64-encoded. A value that is not base64 or not UTF-8 text is kept as unreadable, so
 * resolving a connection fails with InvalidConnection naming the Secret and key instead of using junk.
 */
export const decodeSecretData = (data: Record<string, string> | undefined): SecretData => decodeSecretFields(data);
