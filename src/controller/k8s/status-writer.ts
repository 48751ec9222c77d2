import { API_GROUP, API_VERSION } from '../../api/index.js';
import { statusCodeOf } from './api-errors.js';
import type { CallOptions, KubeClients } from './client.js';

export type Plural = 'databasemonitors' | 'databaseprerequisites' | 'databasediscoveries';

const KIND: Record<Plural, string> = {
  databasemonitors: 'DatabaseMonitor',
  databaseprerequisites: 'DatabasePrerequisite',
  databasediscoveries: 'DatabaseDiscovery',
};

/** The object a status was computed from: the write applies only to that very version of it. */
export interface StatusTarget {
  plural: Plural;
  namespace: string;
  name: string;
  /** Of the object read: a deleted and recreated object of the same name is never written. */
  uid: string;
  /** Of the object read: a write over anything newer (another writer, a deposed leader's last write) fails. */
  resourceVersion: string;
}

/**
 * The object changed (or was recreated, or deleted) since the caller read it: nothing was written. Requeue and
 * compute the status again from the newer object; never retry the same write.
 */
export class StatusConflictError extends Error {
  /** 409 (changed or recreated) or 404 (deleted): statusCodeOf() reads it. */
  readonly code: number;
  constructor(
    readonly target: StatusTarget,
    code: number,
    options: { cause: unknown; why?: string },
  ) {
    const what = options.why ?? (code === 404 ? 'was deleted' : 'changed since it was read');
    super(
      `status of ${KIND[target.plural]} ${target.namespace}/${target.name} not written: the object ${what}`,
      options,
    );
    this.name = 'StatusConflictError';
    this.code = code;
  }
}

/**
 * Replaces `.status` whole through the status subresource (a PUT, as client-go's UpdateStatus): a merge patch
 * would keep fields the new status dropped, such as diagnostics after a recovery. The body names the uid and
 * resourceVersion the caller read, which the API server checks atomically (optimistic concurrency): a stale
 * or recreated object answers 409 and is reported as StatusConflictError, never overwritten. Spec and metadata
 * in the body are ignored by the status subresource, so they need not be sent. Resolves to the new
 * resourceVersion.
 */
export async function writeStatus(
  clients: KubeClients,
  target: StatusTarget,
  status: object,
  call?: CallOptions,
): Promise<string | undefined> {
  const { plural, namespace, name, uid, resourceVersion } = target;
  try {
    const written = await clients.objects.replaceNamespacedCustomObjectStatus(
      {
        group: API_GROUP,
        version: API_VERSION,
        plural,
        namespace,
        name,
        body: {
          apiVersion: `${API_GROUP}/${API_VERSION}`,
          kind: KIND[plural],
          metadata: { name, namespace, uid, resourceVersion },
          status,
        },
      },
      call,
    );
    return written?.metadata?.resourceVersion;
  } catch (error) {
    const code = statusCodeOf(error);
    if (code === 409 || code === 404) throw new StatusConflictError(target, code, { cause: error });
    throw error;
  }
}
