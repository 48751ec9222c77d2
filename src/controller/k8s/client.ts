import * as k8s from '@kubernetes/client-node';

/**
 * The only module besides the other files in this folder that imports @kubernetes/client-node at
 * runtime; everything above it sees plain objects and `import type`.
 */
/** client-node sets no timeout on API requests; this bounds every one (watches keep their own timer). */
export const API_REQUEST_TIMEOUT_MS = 30_000;

class BoundedKubeConfig extends k8s.KubeConfig {
  constructor(private readonly requestTimeoutMs: number) {
    super();
  }

  override async applySecurityAuthentication(context: k8s.RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    if (!context.getSignal()) context.setSignal(AbortSignal.timeout(this.requestTimeoutMs));
  }
}

export function loadKubeConfig(path?: string, requestTimeoutMs = API_REQUEST_TIMEOUT_MS): k8s.KubeConfig {
  const kc = new BoundedKubeConfig(requestTimeoutMs);
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

export interface KubeClients {
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  objects: k8s.CustomObjectsApi;
  coordination: k8s.CoordinationV1Api;
}

export function makeClients(kc: k8s.KubeConfig): KubeClients {
  return {
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    objects: kc.makeApiClient(k8s.CustomObjectsApi),
    coordination: kc.makeApiClient(k8s.CoordinationV1Api),
  };
}

/** HTTP status of a client error (ApiException.code, or a watch error's statusCode). */
export function statusCodeOf(error: unknown): number | undefined {
  const e = error as { code?: unknown; statusCode?: unknown };
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return undefined;
}

export { k8s };
