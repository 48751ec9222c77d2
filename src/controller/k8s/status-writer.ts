import { API_GROUP, API_VERSION } from '../../api/index.js';
import type { KubeClients } from './client.js';

export type Plural = 'databasemonitors' | 'databaseprerequisites' | 'databasediscoveries';

/**
 * Replaces `.status` whole through the status subresource with a JSON Patch `add` (which replaces an
 * existing member): a merge patch would keep fields we dropped, such as diagnostics after a recovery.
 * Resolves to the resourceVersion the write created.
 */
export async function writeStatus(
  clients: KubeClients,
  plural: Plural,
  namespace: string,
  name: string,
  status: object,
): Promise<string | undefined> {
  const written = (await clients.objects.patchNamespacedCustomObjectStatus({
    group: API_GROUP,
    version: API_VERSION,
    plural,
    namespace,
    name,
    body: [{ op: 'add', path: '/status', value: status }],
  })) as { metadata?: { resourceVersion?: string } } | undefined;
  return written?.metadata?.resourceVersion;
}
