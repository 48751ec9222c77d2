import type { Logger } from 'pino';
import { API_GROUP, API_VERSION } from '../api/index.js';
import { KubeApiError } from './k8s/api-client.js';
import { errorFields, isExpected } from './k8s/api-errors.js';
import type { KubeApi } from './k8s/client.js';

/**
 * What can keep the operator from starting that is not a bug — no kubeconfig, the metrics port taken, the API
 * server unreachable or refusing the credentials — as one line that says what to do. The CLI prints it and exits 3;
 * anything else is a bug and keeps its stack trace.
 */
export class StartupError extends Error {
  constructor(
    readonly problem: string,
    readonly hint: string,
  ) {
    super(`${problem}: ${hint}`);
    this.name = 'StartupError';
  }
}

/** How long the operator waits at start for an API server that is down or starting, before giving up. */
export const API_STARTUP_WAIT_MS = 60_000;

const TLS_CODE = /^(ERR_TLS|ERR_SSL|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|CERT_|HOSTNAME_MISMATCH)/;

// Expected errors are told from bugs in the adapter, which logs some of them itself (leader election).
export { errorFields, isExpected };

/**
 * Kubernetes answers "storage is (re)initializing" (429) while its watch cache starts; a list that meets it before
 * the caches first sync is retried as usual and is not a warning.
 */
export const isStartingUp = (error: unknown) => error instanceof KubeApiError && error.code === 429;

/** The port is taken or not ours to bind: the operator cannot serve /metrics and its probes. */
export function metricsPortProblem(error: unknown, port: number): StartupError | undefined {
  const code = (error as { code?: string })?.code;
  if (code === 'EADDRINUSE')
    return new StartupError(
      `metrics port ${port} is already in use (METRICS_PORT)`,
      'stop the process that holds it, or set METRICS_PORT to a free port (0 picks one)',
    );
  if (code === 'EACCES')
    return new StartupError(
      `metrics port ${port} may not be bound by this user (METRICS_PORT)`,
      'use a port above 1023, or 0 to pick a free one',
    );
  return undefined;
}

/** Why the API server cannot be used yet: unreachable or starting (text), or dbwatch's resources not served. */
type NotReady = { unreachable: string } | { missing: string[] };

/**
 * Asks the API server for its version and for dbwatch's resources until both answer: a server that is down or
 * still starting, or CRDs applied a moment ago, get API_STARTUP_WAIT_MS (one log line, then quiet retries);
 * credentials or TLS it refuses end the start at once.
 */
export async function waitForApiServer(
  api: KubeApi,
  log: Logger,
  waitMs = API_STARTUP_WAIT_MS,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((ok) => setTimeout(ok, ms)),
): Promise<void> {
  const server = api.access.server;
  const deadline = Date.now() + waitMs;
  for (let attempt = 0; ; attempt++) {
    const state = await probe();
    if (state === 'ready') return;
    if ('missing' in state && Date.now() >= deadline)
      throw new StartupError(
        `${state.missing.join(' and ')} not served by the API server at ${server} after ${waitMs / 1000} s`,
        "install dbwatch's CRDs: kubectl apply -f crds/ (the Helm chart installs them; npm run cluster:up applies them)",
      );
    if ('unreachable' in state && Date.now() >= deadline)
      throw new StartupError(
        `cannot reach the Kubernetes API server at ${server} (${state.unreachable}) after ${waitMs / 1000} s`,
        'is the cluster up (npm run cluster:up) and KUBECONFIG pointing at it? In a Pod: is the API server reachable from the node?',
      );
    const why = 'missing' in state ? `${state.missing.join(' and ')} not served yet` : state.unreachable;
    if (attempt === 0) log.info({ server, error: why }, `waiting for the API server (up to ${waitMs / 1000} s)`);
    else log.debug({ server, error: why }, 'API server not ready yet');
    await sleep(Math.min(500 * 2 ** attempt, 5000, Math.max(0, deadline - Date.now())));
  }

  async function probe(): Promise<'ready' | NotReady> {
    try {
      const version = await api.request<{ gitVersion?: string }>('GET', '/version');
      const missing = await missingResources(api);
      if (missing.length > 0) return { missing };
      log.info({ server, version: version?.gitVersion }, 'connected to the API server');
      return 'ready';
    } catch (error) {
      const text = typeof (error as Error)?.message === 'string' ? (error as Error).message : String(error);
      const code = (error as { code?: unknown }).code;
      if (error instanceof KubeApiError && (code === 401 || code === 403))
        throw new StartupError(
          `the API server at ${server} refused the credentials (${text})`,
          'check the user in the kubeconfig (or the ServiceAccount token in a Pod)',
        );
      if (typeof code === 'string' && TLS_CODE.test(code))
        throw new StartupError(
          `TLS to the API server at ${server} failed (${text})`,
          "check the kubeconfig's certificate-authority and server address",
        );
      if (!isExpected(error)) throw error;
      return { unreachable: text };
    }
  }
}

/** dbwatch's resources the API server does not serve (its CRDs missing or not Established yet). */
async function missingResources(api: KubeApi): Promise<string[]> {
  const wanted = ['databasemonitors', 'databaseprerequisites'];
  let served: string[] = [];
  try {
    const list = await api.request<{ resources?: { name: string }[] }>('GET', `/apis/${API_GROUP}/${API_VERSION}`);
    served = (list?.resources ?? []).map((r) => r.name);
  } catch (error) {
    if (!(error instanceof KubeApiError && error.code === 404)) throw error;
  }
  return wanted.filter((r) => !served.includes(r)).map((r) => `${r}.${API_GROUP}`);
}
