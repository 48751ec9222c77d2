import { API_GROUP, API_VERSION } from '../../api/index.js';
import { statusCodeOf } from './api-errors.js';
import type { KubeClients } from './client.js';
import type { Source } from './resource-cache.js';

/** Where a ResourceCache lists and watches one of dbwatch's resources, in one namespace or all. */
export function customResourceSource(plural: string, namespace?: string): Source {
  const base = `/apis/${API_GROUP}/${API_VERSION}`;
  return { path: namespace ? `${base}/namespaces/${namespace}/${plural}` : `${base}/${plural}` };
}

/** Any namespaced resource of any API group (another operator's custom resources), in one namespace or all. */
export function groupResourceSource(
  resource: { group: string; version: string; plural: string },
  namespace?: string,
): Source {
  const base = resource.group ? `/apis/${resource.group}/${resource.version}` : `/api/${resource.version}`;
  return { path: namespace ? `${base}/namespaces/${namespace}/${resource.plural}` : `${base}/${resource.plural}` };
}

/** Namespaces, metadata only: their labels are all a namespace selector reads. */
export function namespaceMetadataSource(): Source {
  return { path: '/api/v1/namespaces', listAccept: METADATA_LIST, watchAccept: METADATA_WATCH };
}

/** Metadata only (client-go's metadata informer): enough to notice a change, without holding any Secret's data. */
const METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
const METADATA_WATCH = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';

/**
 * Secrets are watched for their metadata only: a change (new resourceVersion) re-queues the monitors that
 * reference the Secret, whose reconcile then reads that one Secret with a GET. Unrelated Secrets (Helm
 * releases, service account tokens) cost a few hundred bytes each instead of their full data.
 */
export function secretMetadataSource(namespace?: string): Source {
  const path = namespace ? `/api/v1/namespaces/${namespace}/secrets` : '/api/v1/secrets';
  return { path, listAccept: METADATA_LIST, watchAccept: METADATA_WATCH };
}

/** A Secret's `data` as the API server sends it: base64 values by key. */
export type RawSecretData = Record<string, string>;

/**
 * Reads referenced Secrets when a monitor is reconciled. A Secret is fetched with a GET unless the
 * metadata watch shows the same resourceVersion as the copy read last time, so a steady fleet costs no API
 * requests and a changed Secret is read fresh. Only Secrets that some reconcile asked for are held, as
 * `decode` made them (the caller's decoding: this adapter knows nothing of what a Secret means).
 */
export class SecretReader<D> {
  private readonly read = new Map<string, { resourceVersion: string; data: D }>();

  constructor(
    private readonly clients: KubeClients,
    /** The resourceVersion the metadata watch has for a Secret, if it has seen it. */
    private readonly watchedVersion: (namespace: string, name: string) => string | undefined,
    private readonly decode: (data: RawSecretData | undefined) => D,
  ) {}

  /** The named Secrets of a namespace; a missing one is undefined. */
  async lookup(namespace: string, names: string[]): Promise<(name: string) => D | undefined> {
    const found = new Map<string, D>();
    await Promise.all(
      [...new Set(names)].map(async (name) => {
        const data = await this.get(namespace, name);
        if (data !== undefined) found.set(name, data);
      }),
    );
    return Object.assign((name: string) => found.get(name), { where: () => `in namespace ${namespace}` });
  }

  /** The Secret is gone (metadata watch): drop its data. */
  forget(namespace: string, name: string): void {
    this.read.delete(`${namespace}/${name}`);
  }

  private async get(namespace: string, name: string): Promise<D | undefined> {
    const key = `${namespace}/${name}`;
    const cached = this.read.get(key);
    const watched = this.watchedVersion(namespace, name);
    if (cached && watched !== undefined && cached.resourceVersion === watched) return cached.data;
    try {
      const secret = await this.clients.core.readNamespacedSecret({ namespace, name });
      const data = this.decode(secret.data);
      this.read.set(key, { resourceVersion: secret.metadata?.resourceVersion ?? '', data });
      return data;
    } catch (error) {
      if (statusCodeOf(error) !== 404) throw error;
      this.read.delete(key);
      return undefined;
    }
  }
}

/** Leases of one namespace with the given labels: the members of a shard group (src/controller/shard). */
export function leaseSource(namespace: string, labelSelector: string): Source {
  return { path: `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`, labelSelector };
}
