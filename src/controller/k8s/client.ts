import { API_REQUEST_TIMEOUT_MS, type ApiThrottle, KubeApi } from './api-client.js';
import { loadClusterAccess } from './cluster-access.js';

/**
 * The Kubernetes calls dbwatch makes, over KubeApi. Everything above this folder sees plain objects; nothing
 * here imports @kubernetes/client-node at runtime (see cluster-access.ts for why).
 */
export { API_REQUEST_TIMEOUT_MS, type ApiThrottle, KubeApi } from './api-client.js';

export interface ConnectOptions {
  kubeconfig?: string;
  context?: string;
  requestTimeoutMs?: number;
  throttle?: ApiThrottle;
}

/** Reads the kubeconfig (or the Pod's service account) and returns a client for its cluster. */
export async function connectKube(options: ConnectOptions = {}): Promise<KubeApi> {
  const access = await loadClusterAccess({ path: options.kubeconfig, context: options.context });
  return new KubeApi(access, options.requestTimeoutMs ?? API_REQUEST_TIMEOUT_MS, options.throttle);
}

/** A Lease as dbwatch reads and writes it; MicroTime fields travel as RFC 3339 strings with microseconds. */
export interface Lease {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  spec?: LeaseSpec;
}
export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface CustomRef {
  group: string;
  version: string;
  plural: string;
}
interface ListQuery {
  limit?: number;
  labelSelector?: string;
  _continue?: string;
}

const enc = encodeURIComponent;
const customBase = ({ group, version }: CustomRef) => `/apis/${group}/${version}`;
const listQuery = (q: ListQuery) => ({ limit: q.limit, labelSelector: q.labelSelector, continue: q._continue });
const leasePath = (namespace: string, name?: string) =>
  `/apis/coordination.k8s.io/v1/namespaces/${enc(namespace)}/leases${name ? `/${enc(name)}` : ''}`;

/** The calls by API group, named as client-node names them so that call sites read the same. */
export function makeClients(api: KubeApi) {
  return {
    api,
    core: {
      readNamespacedSecret: ({ namespace, name }: { namespace: string; name: string }) =>
        api.request<{ metadata?: { resourceVersion?: string }; data?: Record<string, string> }>(
          'GET',
          `/api/v1/namespaces/${enc(namespace)}/secrets/${enc(name)}`,
        ),
      createNamespacedEvent: ({ namespace, body }: { namespace: string; body: object }) =>
        api.request('POST', `/api/v1/namespaces/${enc(namespace)}/events`, { body }),
    },
    objects: {
      listClusterCustomObject: (ref: CustomRef & ListQuery) =>
        api.request('GET', `${customBase(ref)}/${ref.plural}`, { query: listQuery(ref) }),
      listNamespacedCustomObject: (ref: CustomRef & ListQuery & { namespace: string }) =>
        api.request('GET', `${customBase(ref)}/namespaces/${enc(ref.namespace)}/${ref.plural}`, {
          query: listQuery(ref),
        }),
      getNamespacedCustomObject: (ref: CustomRef & { namespace: string; name: string }) =>
        api.request('GET', `${customBase(ref)}/namespaces/${enc(ref.namespace)}/${ref.plural}/${enc(ref.name)}`),
      createNamespacedCustomObject: (ref: CustomRef & { namespace: string; body: object }) =>
        api.request('POST', `${customBase(ref)}/namespaces/${enc(ref.namespace)}/${ref.plural}`, { body: ref.body }),
      /** A PUT: `body` carries metadata.resourceVersion, so a stale write is refused with 409. */
      replaceNamespacedCustomObject: (ref: CustomRef & { namespace: string; name: string; body: object }) =>
        api.request('PUT', `${customBase(ref)}/namespaces/${enc(ref.namespace)}/${ref.plural}/${enc(ref.name)}`, {
          body: ref.body,
        }),
      /** With a uid precondition: deletes that very object, never a namesake created since. */
      deleteNamespacedCustomObject: (ref: CustomRef & { namespace: string; name: string; uid?: string }) =>
        api.request('DELETE', `${customBase(ref)}/namespaces/${enc(ref.namespace)}/${ref.plural}/${enc(ref.name)}`, {
          body: { apiVersion: 'v1', kind: 'DeleteOptions', ...(ref.uid ? { preconditions: { uid: ref.uid } } : {}) },
        }),
      /** `body` is a JSON Patch (RFC 6902). */
      patchNamespacedCustomObjectStatus: (ref: CustomRef & { namespace: string; name: string; body: object[] }) =>
        api.request(
          'PATCH',
          `${customBase(ref)}/namespaces/${enc(ref.namespace)}/${ref.plural}/${enc(ref.name)}/status`,
          { body: ref.body, contentType: 'application/json-patch+json' },
        ),
    },
    coordination: {
      readNamespacedLease: ({ namespace, name }: { namespace: string; name: string }) =>
        api.request<Lease>('GET', leasePath(namespace, name)),
      createNamespacedLease: ({ namespace, body }: { namespace: string; body: Lease }) =>
        api.request<Lease>('POST', leasePath(namespace), { body }),
      replaceNamespacedLease: ({ namespace, name, body }: { namespace: string; name: string; body: Lease }) =>
        api.request<Lease>('PUT', leasePath(namespace, name), { body }),
    },
  };
}

export type KubeClients = ReturnType<typeof makeClients>;

/** HTTP status of a client error (KubeApiError.code, or a Status's code). */
export function statusCodeOf(error: unknown): number | undefined {
  const e = error as { code?: unknown; statusCode?: unknown };
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return undefined;
}
