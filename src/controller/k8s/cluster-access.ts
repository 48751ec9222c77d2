import { existsSync, readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { isIPv6 } from 'node:net';
import { join } from 'node:path';
import { type ExecConfig, ExecCredentials } from './exec-credential.js';
import { type Kubeconfig, locateKubeconfig, mergeKubeconfigs, readKubeconfig } from './kubeconfig-files.js';
import { proxyFor } from './proxy.js';

/** TLS settings of the connections to the API server. */
export type TlsMaterial = Pick<RequestOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>;

/**
 * Where the API server is and how to authenticate to it: the part of a kubeconfig (or of a Pod's service
 * account) that dbwatch needs, read without @kubernetes/client-node, whose import costs the running operator
 * ~48 MiB of RSS (it loads every generated API and model). Only legacy `auth-provider` users (OIDC, the removed
 * GCP/Azure providers) are delegated to client-node, loaded for such a kubeconfig alone.
 */
export interface ClusterAccess {
  /** e.g. https://10.96.0.1:443, without a trailing slash. */
  server: string;
  /** The context's namespace (or the service account's), if any. */
  namespace?: string;
  /** The proxy to reach the server through: the cluster's proxy-url, else https_proxy/no_proxy as kubectl reads them. */
  proxy?: URL;
  /**
   * TLS material for new connections. The same object while nothing changed; a new one (a rotated in-cluster
   * CA, a client certificate refreshed by an exec plugin) makes the client open new connections with it.
   */
  tls(): Promise<TlsMaterial>;
  /** Headers of the next request: Authorization (a rotated token file is re-read), impersonation. */
  headers(): Promise<Record<string, string | string[]>>;
  /** The API server answered 401: credentials from a plugin are fetched again for the next request. */
  refused?(): void;
}

export interface LoadOptions {
  /** --kubeconfig: must exist. Without it: $KUBECONFIG (missing entries skipped), ~/.kube/config, in-cluster. */
  path?: string;
  context?: string;
  env?: NodeJS.ProcessEnv;
  /** The Pod's service-account files; tests point it elsewhere. */
  serviceAccountDir?: string;
  /** Injected so that tests of token and CA rotation need not sleep. */
  now?: () => number;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** client-go re-reads a token file about once a minute: kubelet rotates projected tokens long before expiry. */
const FILE_REFRESH_MS = 60_000;

/** kubectl's order: --kubeconfig, else $KUBECONFIG (merged, first wins; missing files skipped), ~/.kube/config, then in-cluster. */
export async function loadClusterAccess(options: LoadOptions = {}): Promise<ClusterAccess> {
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now;
  const location = locateKubeconfig(options.path, env);
  if (location.kind === 'files') return fromKubeconfig(location.paths, options.context, env, now);
  if (env.KUBERNETES_SERVICE_HOST) return inCluster(options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR, env, now);
  const skipped =
    location.skipped.length > 0 ? ` (none of $KUBECONFIG's files exist: ${location.skipped.join(', ')})` : '';
  throw new Error(`no kubeconfig found ($KUBECONFIG, ~/.kube/config) and not running in a cluster${skipped}`);
}

/** A file's contents, re-read at most once per FILE_REFRESH_MS; the last good contents while it is briefly missing. */
function refreshedFile<T>(file: string, parse: (raw: Buffer) => T, now: () => number): () => T {
  let value: T | undefined;
  let raw: Buffer | undefined;
  let readAt = Number.NEGATIVE_INFINITY;
  return () => {
    if (now() - readAt >= FILE_REFRESH_MS) {
      try {
        const fresh = readFileSync(file);
        readAt = now();
        // The same object while the file is unchanged: the connection pool compares by identity.
        if (!raw || !fresh.equals(raw)) {
          raw = fresh;
          value = parse(fresh);
        }
      } catch (error) {
        // Mid-rotation (kubelet swaps a symlink) the file can be missing for a moment.
        if (value === undefined) throw error;
      }
    }
    return value as T;
  };
}

function inCluster(dir: string, env: NodeJS.ProcessEnv, now: () => number): ClusterAccess {
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const namespaceFile = join(dir, 'namespace');
  const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  // The cluster CA is re-read like the token: a rotated ca.crt is used for new connections within a minute.
  const tls = refreshedFile(join(dir, 'ca.crt'), (ca): TlsMaterial => ({ ca }), now);
  const token = refreshedFile(join(dir, 'token'), (raw) => raw.toString('utf8').trim(), now);
  tls(); // a Pod without its CA fails now, not at the first request
  return {
    server,
    namespace: existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined,
    proxy: proxyFor(new URL(server), undefined, env),
    tls: async () => tls(),
    headers: async () => ({ Authorization: `Bearer ${token()}` }),
  };
}

const fileOrData = (file: unknown, data: unknown): Buffer | undefined => {
  if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
  if (typeof file === 'string' && file) return readFileSync(file);
  return undefined;
};
const text = (value: unknown) => (typeof value === 'string' && value ? value : undefined);

async function fromKubeconfig(
  paths: string[],
  contextName: string | undefined,
  env: NodeJS.ProcessEnv,
  now: () => number,
): Promise<ClusterAccess> {
  const config: Kubeconfig = mergeKubeconfigs(paths.map(readKubeconfig));
  const name = contextName ?? config['current-context'];
  if (!name) throw new Error(`no current-context in ${paths.join(', ')}`);
  const context = config.contexts?.find((c) => c.name === name)?.context;
  if (!context) throw new Error(`context "${name}" not found in ${paths.join(', ')}`);
  const cluster = config.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster || typeof cluster.server !== 'string') throw new Error(`cluster "${context.cluster}" has no server`);
  const user = config.users?.find((u) => u.name === context.user)?.user ?? {};
  const server = cluster.server.replace(/\/+$/, '');
  const base: TlsMaterial = {
    ca: fileOrData(cluster['certificate-authority'], cluster['certificate-authority-data']),
    cert: fileOrData(user['client-certificate'], user['client-certificate-data']),
    key: fileOrData(user['client-key'], user['client-key-data']),
    ...(cluster['insecure-skip-tls-verify'] === true ? { rejectUnauthorized: false } : {}),
    ...(text(cluster['tls-server-name']) ? { servername: text(cluster['tls-server-name']) } : {}),
  };
  const auth: Pick<ClusterAccess, 'tls' | 'headers' | 'refused'> = user.exec
    ? withExecPlugin(user.exec as ExecConfig, cluster, server, base, now)
    : user['auth-provider']
      ? await viaClientNode(paths, name, base)
      : { tls: async () => base, headers: staticHeaders(user, now) };
  const impersonation = impersonationHeaders(user);
  return {
    server,
    namespace: context.namespace,
    proxy: proxyFor(new URL(server), text(cluster['proxy-url']), env),
    ...auth,
    headers: async () => ({ ...(await auth.headers()), ...impersonation }),
  };
}

/** Impersonation headers (kubectl --as, --as-group, --as-uid), added to whatever authenticates. */
function impersonationHeaders(user: Record<string, unknown>): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  if (text(user.as)) headers['Impersonate-User'] = text(user.as)!;
  if (Array.isArray(user['as-groups'])) headers['Impersonate-Group'] = user['as-groups'].map(String);
  if (text(user['as-uid'])) headers['Impersonate-Uid'] = text(user['as-uid'])!;
  const extra = user['as-user-extra'];
  if (extra && typeof extra === 'object') {
    for (const [key, values] of Object.entries(extra)) {
      headers[`Impersonate-Extra-${encodeURIComponent(key)}`] = ([] as unknown[]).concat(values).map(String);
    }
  }
  return headers;
}

/** A token, a token file (preferred when both are set: it may be rotated), or basic auth. */
function staticHeaders(user: Record<string, unknown>, now: () => number) {
  const tokenFile = text(user.tokenFile);
  const token = text(user.token);
  const username = text(user.username);
  const fromFile = tokenFile && refreshedFile(tokenFile, (raw) => raw.toString('utf8').trim(), now);
  return async (): Promise<Record<string, string>> => {
    if (fromFile) return { Authorization: `Bearer ${fromFile()}` };
    if (token) return { Authorization: `Bearer ${token}` };
    if (username)
      return { Authorization: `Basic ${Buffer.from(`${username}:${text(user.password) ?? ''}`).toString('base64')}` };
    return {};
  };
}

function withExecPlugin(
  exec: ExecConfig,
  cluster: Record<string, unknown>,
  server: string,
  base: TlsMaterial,
  now: () => number,
): Pick<ClusterAccess, 'tls' | 'headers' | 'refused'> {
  // What client-go passes with provideClusterInfo (clientauthentication Cluster).
  const info = {
    server,
    'tls-server-name': cluster['tls-server-name'],
    'insecure-skip-tls-verify': cluster['insecure-skip-tls-verify'],
    'certificate-authority-data': base.ca ? Buffer.from(base.ca as Buffer).toString('base64') : undefined,
    'proxy-url': cluster['proxy-url'],
    config: (cluster.extensions as { name?: string; extension?: unknown }[] | undefined)?.find(
      (e) => e.name === 'client.authentication.k8s.io/exec',
    )?.extension,
  };
  const plugin = new ExecCredentials(exec, info, now);
  let material: { cert?: string; key?: string; tls: TlsMaterial } = { tls: base };
  return {
    tls: async () => {
      const { clientCertificateData: cert, clientKeyData: key } = await plugin.get();
      // A new certificate from the plugin means new connections; an unchanged one keeps the pool.
      if (cert !== material.cert || key !== material.key) {
        material = { cert, key, tls: cert && key ? { ...base, cert, key } : base };
      }
      return material.tls;
    },
    headers: async (): Promise<Record<string, string>> => {
      const { token } = await plugin.get();
      return token ? { Authorization: `Bearer ${token}` } : {};
    },
    refused: () => plugin.discard(),
  };
}

/** Legacy auth providers (OIDC; GCP and Azure were removed from kubectl): client-node, loaded on demand. */
async function viaClientNode(
  paths: string[],
  context: string,
  tls: TlsMaterial,
): Promise<Pick<ClusterAccess, 'tls' | 'headers'>> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(paths[0]!);
  for (const more of paths.slice(1)) {
    const other = new KubeConfig();
    other.loadFromFile(more);
    kc.mergeConfig(other);
  }
  kc.setCurrentContext(context);
  return {
    tls: async () => tls,
    headers: async () => {
      const opts: RequestOptions = {};
      await kc.applyToHTTPSOptions(opts);
      return Object.fromEntries(
        Object.entries((opts.headers as Record<string, unknown> | undefined) ?? {}).map(([k, v]) => [k, String(v)]),
      );
    },
  };
}
