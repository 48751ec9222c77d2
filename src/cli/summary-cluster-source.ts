import { API_GROUP, API_VERSION } from '../api/index.js';
import { API_REQUEST_TIMEOUT_MS, connectKube, makeClients, statusCodeOf } from '../controller/k8s/client.js';
import type { ListedObject } from './summary-cluster.js';

/** Which objects to read: one namespace or all, optionally filtered by labels. */
export interface ClusterScope {
  kubeconfig?: string;
  context?: string;
  /** Undefined with allNamespaces; otherwise the flag, else the kubeconfig context's namespace, else default. */
  namespace?: string;
  allNamespaces: boolean;
  selector?: string;
}

export type ReadResult =
  | { ok: true; namespace: string | undefined; monitors: ListedObject[]; prerequisites: ListedObject[] }
  | { ok: false; message: string };

const RESOURCES = ['databasemonitors', 'databaseprerequisites'] as const;
type Plural = (typeof RESOURCES)[number];

/** Pages of this size keep each response bounded on a large cluster (kubectl get uses 500 too). */
const PAGE_SIZE = 500;

/** The API server's own explanation (it names the user), without the rest of the response body. */
function serverMessage(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  try {
    const parsed = typeof body === 'string' ? JSON.parse(body) : body;
    if (typeof parsed?.message === 'string') return parsed.message;
  } catch {
    // Not JSON: fall through.
  }
  // An ApiException's own message embeds the whole response (headers too): the status code says enough.
  const code = statusCodeOf(error);
  if (code !== undefined) return `HTTP ${code}`;
  const name = (error as Error).name;
  if (name === 'AbortError' || name === 'TimeoutError') {
    return `no answer from the API server within ${API_REQUEST_TIMEOUT_MS / 1000} s`;
  }
  return (error as Error).message;
}

interface ReadFailure {
  plural: Plural;
  error: unknown;
}

/** One failure that is not about permissions; the same cause for both resources reads as one line. */
function explainOther({ plural, error }: ReadFailure, where: string): string {
  const resource = `${plural}.${API_GROUP}`;
  switch (statusCodeOf(error)) {
    case 401:
      return `unauthorized: the API server rejected this kubeconfig's credentials: ${serverMessage(error)}`;
    case 404:
      return `${resource} is not served by this cluster: are dbwatch's CRDs installed? (kubectl get crd ${resource})`;
    case 400:
      return `the API server rejected the request ${where} (check -l): ${serverMessage(error)}`;
    default:
      return `cannot list ${resource} ${where}: ${serverMessage(error)}`;
  }
}

/** Says what failed, where, and what to do: denied resources first, with what to grant. */
export function explainReadErrors(failures: ReadFailure[], namespace: string | undefined): string {
  const where = namespace === undefined ? 'in all namespaces' : `in namespace ${namespace}`;
  const forbidden = failures.filter((f) => statusCodeOf(f.error) === 403);
  const lines: string[] = [];
  if (forbidden.length > 0) {
    const grant =
      namespace === undefined
        ? 'cluster-wide (a ClusterRole) for -A; or use -n NAMESPACE for a namespace you can read'
        : `in ${namespace} (a Role there)`;
    lines.push(
      `forbidden: cannot list ${forbidden.map((f) => `${f.plural}.${API_GROUP}`).join(' and ')} ${where}.`,
      `  The summary needs only "list" on databasemonitors and databaseprerequisites (API group ${API_GROUP}) ${grant}.`,
      ...forbidden.map((f) => `  API server: ${serverMessage(f.error)}`),
    );
  }
  const others = failures.filter((f) => statusCodeOf(f.error) !== 403).map((f) => explainOther(f, where));
  return [...lines, ...new Set(others)].join('\n');
}

/**
 * Lists both resources through the user's kubeconfig (their own RBAC). Each request is bounded by the
 * client's request timeout; no database is contacted and no Secret is read.
 */
export async function readDbwatchObjects(scope: ClusterScope): Promise<ReadResult> {
  let clients: ReturnType<typeof makeClients>;
  try {
    clients = makeClients(await connectKube({ kubeconfig: scope.kubeconfig, context: scope.context }));
  } catch (error) {
    return { ok: false, message: `cannot load the kubeconfig: ${(error as Error).message}` };
  }
  const namespace = scope.allNamespaces ? undefined : (scope.namespace ?? clients.api.access.namespace ?? 'default');

  const list = async (plural: Plural): Promise<ListedObject[]> => {
    const items: ListedObject[] = [];
    let token: string | undefined;
    do {
      const common = {
        group: API_GROUP,
        version: API_VERSION,
        plural,
        limit: PAGE_SIZE,
        ...(scope.selector ? { labelSelector: scope.selector } : {}),
        ...(token ? { _continue: token } : {}),
      };
      const page = (await (namespace === undefined
        ? clients.objects.listClusterCustomObject(common)
        : clients.objects.listNamespacedCustomObject({ ...common, namespace }))) as {
        items?: ListedObject[];
        metadata?: { continue?: string };
      };
      items.push(...(page.items ?? []));
      token = page.metadata?.continue || undefined;
    } while (token);
    return items;
  };

  const results = await Promise.allSettled(RESOURCES.map(list));
  const failures = results.flatMap((r, i) =>
    r.status === 'rejected' ? [{ plural: RESOURCES[i]!, error: r.reason as unknown }] : [],
  );
  if (failures.length > 0) return { ok: false, message: explainReadErrors(failures, namespace) };
  const [monitors, prerequisites] = results.map((r) => (r.status === 'fulfilled' ? r.value : []));
  return { ok: true, namespace, monitors: monitors!, prerequisites: prerequisites! };
}
