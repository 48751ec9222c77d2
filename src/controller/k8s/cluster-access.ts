import { existsSync, readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { load } from 'js-yaml';

/**
 * Where the API server is and how to authenticate to it: the part of a kubeconfig (or of a Pod's service
 * account) that dbwatch needs. Static credentials — in-cluster token, client certificates, a token or token
 * file — are read here without @kubernetes/client-node, whose import alone costs the operator ~85 MiB of RSS
 * (it loads every generated API and model). Exec plugins, auth providers and basic auth are delegated to
 * client-node's KubeConfig, loaded only for such a kubeconfig.
 */
export interface ClusterAccess {
  /** e.g. https://10.96.0.1:443, without a trailing slash. */
  server: string;
  /** The context's namespace (or the service account's), if any. */
  namespace?: string;
  /** TLS material for the connection pool; the same for every request. */
  tls: Pick<RequestOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>;
  /** Authentication headers for the next request: Authorization (a rotated token file is re-read), impersonation. */
  headers(): Promise<Record<string, string>>;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** client-go re-reads a token file about once a minute: kubelet rotates projected tokens long before expiry. */
const TOKEN_FILE_REFRESH_MS = 60_000;

interface NamedCluster {
  name: string;
  cluster: Record<string, unknown>;
}
interface NamedUser {
  name: string;
  user?: Record<string, unknown>;
}
interface NamedContext {
  name: string;
  context: { cluster: string; user: string; namespace?: string };
}
interface KubeconfigFile {
  clusters?: NamedCluster[];
  users?: NamedUser[];
  contexts?: NamedContext[];
  'current-context'?: string;
}

/** client-node's loadFromDefault order: $KUBECONFIG (merged, first wins), ~/.kube/config, then in-cluster. */
export async function loadClusterAccess(options: { path?: string; context?: string } = {}): Promise<ClusterAccess> {
  if (options.path) return fromKubeconfig(options.path.split(delimiter).filter(Boolean), options.context);
  const env = (process.env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (env.length > 0) return fromKubeconfig(env, options.context);
  const home = join(homedir(), '.kube', 'config');
  if (existsSync(home)) return fromKubeconfig([home], options.context);
  if (process.env.KUBERNETES_SERVICE_HOST) return inCluster();
  throw new Error('no kubeconfig found ($KUBECONFIG, ~/.kube/config) and not running in a cluster');
}

function inCluster(): ClusterAccess {
  const host = process.env.KUBERNETES_SERVICE_HOST ?? '';
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  const namespaceFile = join(SERVICE_ACCOUNT_DIR, 'namespace');
  return {
    server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    namespace: existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined,
    tls: { ca: readFileSync(join(SERVICE_ACCOUNT_DIR, 'ca.crt')) },
    headers: bearerFromFile(join(SERVICE_ACCOUNT_DIR, 'token')),
  };
}

function bearerFromFile(file: string): () => Promise<Record<string, string>> {
  let token: string | undefined;
  let readAt = -Infinity;
  return async () => {
    if (Date.now() - readAt >= TOKEN_FILE_REFRESH_MS) {
      try {
        token = readFileSync(file, 'utf8').trim();
        readAt = Date.now();
      } catch (error) {
        // Mid-rotation the file can be missing for a moment: the token read last is still good.
        if (token === undefined) throw error;
      }
    }
    return { Authorization: `Bearer ${token}` };
  };
}

function readKubeconfig(path: string): KubeconfigFile {
  const parsed = load(readFileSync(path, 'utf8')) as KubeconfigFile | null;
  if (!parsed || typeof parsed !== 'object') throw new Error(`${path} is not a kubeconfig`);
  // Relative file references are relative to the kubeconfig that names them.
  const base = dirname(path);
  const absolute = (entry: Record<string, unknown> | undefined, ...keys: string[]) => {
    for (const key of keys) {
      const value = entry?.[key];
      if (typeof value === 'string' && !isAbsolute(value)) entry![key] = join(base, value);
    }
  };
  for (const c of parsed.clusters ?? []) absolute(c.cluster, 'certificate-authority');
  for (const u of parsed.users ?? []) absolute(u.user, 'client-certificate', 'client-key', 'tokenFile');
  return parsed;
}

/** Merges like kubectl: the first file to set a name (or current-context) wins. */
function merge(files: KubeconfigFile[]): KubeconfigFile {
  const firstByName = <T extends { name: string }>(lists: (T[] | undefined)[]) => {
    const seen = new Map<string, T>();
    for (const item of lists.flatMap((l) => l ?? [])) if (!seen.has(item.name)) seen.set(item.name, item);
    return [...seen.values()];
  };
  return {
    clusters: firstByName(files.map((f) => f.clusters)),
    users: firstByName(files.map((f) => f.users)),
    contexts: firstByName(files.map((f) => f.contexts)),
    'current-context': files.find((f) => f['current-context'])?.['current-context'],
  };
}

const fileOrData = (file: unknown, data: unknown): Buffer | undefined => {
  if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
  if (typeof file === 'string' && file) return readFileSync(file);
  return undefined;
};

async function fromKubeconfig(paths: string[], contextName?: string): Promise<ClusterAccess> {
  const config = merge(paths.map(readKubeconfig));
  const name = contextName ?? config['current-context'];
  if (!name) throw new Error(`no current-context in ${paths.join(', ')}`);
  const context = config.contexts?.find((c) => c.name === name)?.context;
  if (!context) throw new Error(`context "${name}" not found in ${paths.join(', ')}`);
  const cluster = config.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster || typeof cluster.server !== 'string') throw new Error(`cluster "${context.cluster}" has no server`);
  const user = config.users?.find((u) => u.name === context.user)?.user ?? {};
  // Everything beyond static credentials (plugins, basic auth, impersonation, a proxy) is client-node's job.
  const delegated = ['exec', 'auth-provider', 'username', 'as', 'as-groups', 'as-uid'].some((k) => user[k]);
  if (delegated || cluster['proxy-url']) return viaClientNode(paths, name, context.namespace);
  const server = cluster.server.replace(/\/+$/, '');
  const tls: ClusterAccess['tls'] = {
    ca: fileOrData(cluster['certificate-authority'], cluster['certificate-authority-data']),
    cert: fileOrData(user['client-certificate'], user['client-certificate-data']),
    key: fileOrData(user['client-key'], user['client-key-data']),
    ...(cluster['insecure-skip-tls-verify'] === true ? { rejectUnauthorized: false } : {}),
    ...(typeof cluster['tls-server-name'] === 'string' ? { servername: cluster['tls-server-name'] } : {}),
  };
  const token = typeof user.token === 'string' && user.token ? user.token : undefined;
  const tokenFile = typeof user.tokenFile === 'string' && user.tokenFile ? user.tokenFile : undefined;
  // client-go prefers the file when both are set: it may be rotated.
  return {
    server,
    namespace: context.namespace,
    tls,
    headers: tokenFile
      ? bearerFromFile(tokenFile)
      : token
        ? async () => ({ Authorization: `Bearer ${token}` })
        : async () => ({}),
  };
}

/** Exec plugins (EKS, GKE, AKS logins), auth providers and basic auth: client-node does them, loaded on demand. */
async function viaClientNode(paths: string[], context: string, namespace?: string): Promise<ClusterAccess> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(paths[0]!);
  for (const more of paths.slice(1)) {
    const other = new KubeConfig();
    other.loadFromFile(more);
    kc.mergeConfig(other);
  }
  kc.setCurrentContext(context);
  const options = async () => {
    const opts: RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    return opts;
  };
  const first = await options();
  return {
    server: (kc.getCurrentCluster()?.server ?? '').replace(/\/+$/, ''),
    namespace,
    tls: {
      ca: first.ca,
      cert: first.cert,
      key: first.key,
      rejectUnauthorized: first.rejectUnauthorized,
      servername: first.servername,
    },
    headers: async () => {
      const opts = await options();
      const headers = Object.fromEntries(
        Object.entries((opts.headers as Record<string, unknown> | undefined) ?? {}).map(([k, v]) => [k, String(v)]),
      );
      if (opts.auth && !headers.Authorization)
        headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
      return headers;
    },
  };
}
