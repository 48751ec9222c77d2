import { type ApiRetry, type ApiThrottle, KubeApi, type RequestOptions } from './api-client.js';
import { loadClusterAccess } from './cluster-access.js';

/**
 * The Kubernetes calls dbwatch makes, over KubeApi. Everything above this folder sees plain objects; nothing
 * here imports @kubernetes/client-node at runtime (see cluster-access.ts for why).
 */
export { API_REQUEST_TIMEOUT_MS, type ApiRetry, type ApiThrottle, KubeApi } from './api-client.js';
export { statusCodeOf } from './api-errors.js';

export interface ConnectOptions {
  kubeconfig?: string;
  context?: string;
  requestTimeoutMs?: number;
  throttle?: ApiThrottle;
  /** Each retry of a 429/5xx with Retry-After or of a reset GET, before its wait. */
  onRetry?: (retry: ApiRetry) => void;
  maxRetries?: number;
}

/** Reads the kubeconfig (or the Pod's service account) and returns a client for its cluster. */
export async function connectKube(options: ConnectOptions = {}): Promise<KubeApi> {
  const access = await loadClusterAccess({ path: options.kubeconfig, context: options.context });
  return new KubeApi(access, options);
}

/** What every call takes besides its own arguments: cancellation and a bound of its own. */
export type CallOptions = Pick<RequestOptions, 'signal' | 'timeoutMs' | 'admitted' | 'sendIf'>;

/** A Lease as dbwatch reads and writes it; MicroTime fields travel as RFC 3339 strings with microseconds. */
export interface Lease {
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    uid?: string;
    labels?: Record<string, string>;
  };
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
      readNamespacedSecret: ({ namespace, name }: { namespace: string; name: string }, call?: CallOptions) =>
        api.request<{ metadata?: { resourceVersion?: string }; data?: Record<string, string> }>(
          'GET',
          `/api/v1/namespaces/${enc(namespace)}/secrets/${enc(name)}`,
          call,
        ),
      createNamespacedEvent: ({ namespace, body }: { namespace: string; body: object }, call?: CallOptions) =>
        api.request('POST', `/api/v1/namespaces/${enc(namespace)}/events`, { ...call, body }),
    },
    objects: {
      listClusterCustomObject: (ref: CustomRef & ListQuery, call?: CallOptions) =>
        api.request('GET', `${customBase(ref)}/${ref.plural}`, { ...call, query: listQuery(ref) }),
      listNamespacedCustomObject: (ref: CustomRef & ListQuery & { namespace: string }, call?: CallOptions) =>
        api.request('GET', `${customBase(ref)}/namespaces/${enc(ref.namespace)}/${ref.plural}`, {
          ...call,
          query: listQuery(ref),
        }),
      getNamespacedCustomObject: (ref: CustomRef & { namespace: string; name: string }, call?: CallOptions) =>
        api.request('GET', `${customBase(ref)}/namespaces/${enc(ref.namespace)}/${ref.plural}/${enc(ref.name)}`, call),
      createNamespacedCustomObject: (ref: CustomRef & { namespace: string; body: object }, call?: CallOptions) =>
        api.request('POST', `${customBase(ref)}/namespaces/${enc(ref.namespace)}/${ref.plural}`, {
          ...call,
          body: ref.body,
        }),
      /** A PUT: `body` carries metadata.resourceVersion, so a stale write is refused with 409. */
      replaceNamespacedCustomObject: (
        ref: CustomRef & { namespace: string; name: string; body: object },
        call?: CallOptions,
      ) =>
        api.request('PUT', `${customBase(ref)}/namespaces/${enc(ref.namespace)}/${ref.plural}/${enc(ref.name)}`, {
          ...call,
          body: ref.body,
        }),
      /** With a uid precondition: deletes that very object, never a namesake created since. */
      deleteNamespacedCustomObject: (
        ref: CustomRef & { namespace: string; name: string; uid?: string },
        call?: CallOptions,
      ) =>
        api.request('DELETE', `${customBase(ref)}/namespaces/${enc(ref.namespace)}/${ref.plural}/${enc(ref.name)}`, {
          ...call,
          body: { apiVersion: 'v1', kind: 'DeleteOptions', ...(ref.uid ? { preconditions: { uid: ref.uid } } : {}) },
        }),
      /** Replaces the object's status (PUT on the status subresource): `body` carries the resourceVersion precondition. */
      replaceNamespacedCustomObjectStatus: (
        ref: CustomRef & { namespace: string; name: string; body: object },
        call?: CallOptions,
      ) =>
        api.request<{ metadata?: { resourceVersion?: string } }>(
          'PUT',
          `${customBase(ref)}/namespaces/${enc(ref.namespace)}/${ref.plural}/${enc(ref.name)}/status`,
          { ...call, body: ref.body },
        ),
    },
    coordination: {
      readNamespacedLease: ({ namespace, name }: { namespace: string; name: string }, call?: CallOptions) =>
        api.request<Lease>('GET', leasePath(namespace, name), call),
      createNamespacedLease: ({ namespace, body }: { namespace: string; body: Lease }, call?: CallOptions) =>
        api.request<Lease>('POST', leasePath(namespace), { ...call, body }),
      replaceNamespacedLease: (
        { namespace, name, body }: { namespace: string; name: string; body: Lease },
        call?: CallOptions,
      ) => api.request<Lease>('PUT', leasePath(namespace, name), { ...call, body }),
      /** With a resourceVersion: only that version (a precondition), so a Lease renewed meanwhile stays. */
      deleteNamespacedLease: (
        { namespace, name, resourceVersion }: { namespace: string; name: string; resourceVersion?: string },
        call?: CallOptions,
      ) =>
        api.request('DELETE', leasePath(namespace, name), {
          ...call,
          ...(resourceVersion ? { body: { preconditions: { resourceVersion } } } : {}),
        }),
    },
  };
}

export type KubeClients = ReturnType<typeof makeClients>;
