import * as k8s from '@kubernetes/client-node';
import { type RateLimit, TokenBucket } from '../rate-limiter.js';

/**
 * The only module besides the other files in this folder that imports @kubernetes/client-node at
 * runtime; everything above it sees plain objects and `import type`.
 */
/** client-node sets no timeout on API requests; this bounds every one (watches keep their own timer). */
export const API_REQUEST_TIMEOUT_MS = 30_000;

/** Client-side rate limit on every API request (client-go's QPS/Burst), reporting each delayed request. */
export interface ApiThrottle {
  limit: RateLimit;
  onThrottled?: (waitMs: number) => void;
}

class BoundedKubeConfig extends k8s.KubeConfig {
  private readonly bucket: TokenBucket | undefined;

  constructor(
    private readonly requestTimeoutMs: number,
    private readonly throttle?: ApiThrottle,
  ) {
    super();
    this.bucket = throttle && new TokenBucket(throttle.limit);
  }

  // Every request (calls, lists and watch starts) passes here before it is sent. Lease requests skip the
  // bucket: queued behind a burst of status writes, a renewal would miss its deadline and lose leadership.
  override async applySecurityAuthentication(context: k8s.RequestContext): Promise<void> {
    const exempt = context.getUrl().includes('/apis/coordination.k8s.io/');
    const waitMs = exempt ? 0 : (this.bucket?.reserve() ?? 0);
    if (waitMs > 0) {
      this.throttle?.onThrottled?.(waitMs);
      await new Promise((ok) => setTimeout(ok, waitMs));
    }
    await super.applySecurityAuthentication(context);
    // The timeout starts after the rate-limit wait: it bounds the request, not the queue.
    if (!context.getSignal()) context.setSignal(AbortSignal.timeout(this.requestTimeoutMs));
  }
}

export function loadKubeConfig(
  path?: string,
  requestTimeoutMs = API_REQUEST_TIMEOUT_MS,
  throttle?: ApiThrottle,
): k8s.KubeConfig {
  const kc = new BoundedKubeConfig(requestTimeoutMs, throttle);
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
