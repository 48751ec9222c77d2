import http from 'node:http';
import https from 'node:https';
import { type RateLimit, TokenBucket } from '../rate-limiter.js';
import type { ClusterAccess } from './cluster-access.js';

/** client-node set no timeout on API requests; this bounds every one (watches keep their own timer). */
export const API_REQUEST_TIMEOUT_MS = 30_000;

/** Pooled connections idle this long are closed by us, before kube-apiserver's 90 s idle timeout races a reuse. */
const IDLE_SOCKET_MS = 60_000;
/** No event and no bookmark for this long: the watch connection is presumed dead. */
const WATCH_IDLE_MS = 150_000;

/** Client-side rate limit on every API request (client-go's QPS/Burst), reporting each delayed request. */
export interface ApiThrottle {
  limit: RateLimit;
  onThrottled?: (waitMs: number) => void;
}

/** A non-2xx answer: `code` is the HTTP status, `body` the API server's Status object when it sent one. */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly body: { message?: string; reason?: string; code?: number } | undefined,
    method: string,
    path: string,
  ) {
    // The path names the object; the server's message explains. Never the request body (it may hold a Secret).
    super(`${method} ${path.split('?')[0]}: HTTP ${code}${body?.message ? `: ${body.message}` : ''}`);
    this.name = 'KubeApiError';
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Content-Type of the body: JSON unless a patch type is named. */
  contentType?: string;
  accept?: string;
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface WatchHandle {
  /** Settles when the server ends the stream (resolves) or the connection fails (rejects). */
  done: Promise<void>;
  abort(): void;
}

/**
 * The operator's whole use of the Kubernetes API: JSON requests and watch streams over one keep-alive
 * connection pool, each request bounded by a timeout that starts after the client-side rate-limit wait.
 * Lease requests skip the rate limit: queued behind a burst of status writes, a renewal would miss its
 * deadline and lose leadership.
 */
export class KubeApi {
  private readonly agent: http.Agent;
  private readonly bucket: TokenBucket | undefined;
  private readonly transport: typeof http | typeof https;

  constructor(
    readonly access: ClusterAccess,
    readonly requestTimeoutMs = API_REQUEST_TIMEOUT_MS,
    private readonly throttle?: ApiThrottle,
  ) {
    const secure = new URL(access.server).protocol === 'https:';
    this.transport = secure ? https : http;
    this.agent = secure
      ? new https.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS, ...access.tls })
      : new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
    this.bucket = throttle && new TokenBucket(throttle.limit);
  }

  private async admit(path: string): Promise<void> {
    if (path.startsWith('/apis/coordination.k8s.io/')) return;
    const waitMs = this.bucket?.reserve() ?? 0;
    if (waitMs <= 0) return;
    this.throttle?.onThrottled?.(waitMs);
    await new Promise((ok) => setTimeout(ok, waitMs));
  }

  private url(path: string, query: RequestOptions['query']): URL {
    const url = new URL(this.access.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  private async open(method: string, path: string, options: RequestOptions, signal: AbortSignal) {
    const auth = await this.access.headers();
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers: Record<string, string> = {
      Accept: options.accept ?? 'application/json',
      'User-Agent': 'dbwatch',
      ...auth,
      ...(payload
        ? { 'Content-Type': options.contentType ?? 'application/json', 'Content-Length': String(payload.length) }
        : {}),
    };
    return new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = this.transport.request(this.url(path, options.query), { method, headers, agent: this.agent, signal });
      req.on('response', resolve);
      // A pooled connection the server closed as we reused it: say so, the caller may retry once.
      req.on('error', (error: Error & { reusedSocket?: boolean }) => {
        error.reusedSocket = req.reusedSocket;
        reject(error);
      });
      req.end(payload);
    });
  }

  /** One call; resolves to the parsed JSON answer, rejects with KubeApiError on a non-2xx status. */
  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    try {
      return await this.requestOnce<T>(method, path, options);
    } catch (error) {
      // kube-apiserver closes idle keep-alive connections; one reused just then fails before any answer.
      // Go's transport retries that case, and every call dbwatch makes is safe to repeat.
      const e = error as { reusedSocket?: boolean; code?: unknown };
      if (!e.reusedSocket || (e.code !== 'ECONNRESET' && e.code !== 'EPIPE')) throw error;
      return this.requestOnce<T>(method, path, options);
    }
  }

  private async requestOnce<T>(method: string, path: string, options: RequestOptions): Promise<T> {
    await this.admit(path);
    // The timeout starts after the rate-limit wait: it bounds the request, not the queue.
    const signal = AbortSignal.timeout(this.requestTimeoutMs);
    let status: number;
    let text: string;
    try {
      const res = await this.open(method, path, options, signal);
      text = await readBody(res);
      status = res.statusCode ?? 0;
    } catch (error) {
      if (signal.aborted) throw new ApiTimeoutError(method, path, this.requestTimeoutMs);
      throw error;
    }
    const parsed = text ? safeJson(text) : undefined;
    if (status < 200 || status > 299) throw new KubeApiError(status, parsed as never, method, path);
    return parsed as T;
  }

  /**
   * A watch stream: each line is one event. The server ends it after `timeoutSeconds` and sends a bookmark about
   * every minute; a stream silent for WATCH_IDLE_MS is presumed dead (a vanished server or load balancer, where
   * client-go's HTTP/2 pings would notice) and ends as if the server had closed it, to be resumed.
   */
  watch<T>(
    path: string,
    query: RequestOptions['query'] & { timeoutSeconds: number },
    onEvent: (event: WatchEvent<T>) => void,
    accept?: string,
  ): WatchHandle {
    const controller = new AbortController();
    const done = (async () => {
      await this.admit(path);
      // Only the wait for the response head is bounded by the request timeout; the stream has its idle timer.
      const headTimeout = new AbortController();
      const headTimer = setTimeout(() => headTimeout.abort(), this.requestTimeoutMs);
      let res: http.IncomingMessage;
      try {
        res = await this.open(
          'GET',
          path,
          { query: { ...query, watch: true }, accept },
          AbortSignal.any([controller.signal, headTimeout.signal]),
        );
      } catch (error) {
        if (controller.signal.aborted) throw new WatchAborted();
        if (headTimeout.signal.aborted) throw new ApiTimeoutError('WATCH', path, this.requestTimeoutMs);
        throw error;
      } finally {
        clearTimeout(headTimer);
      }
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        throw new KubeApiError(status, safeJson(await readBody(res)) as never, 'WATCH', path);
      }
      let silent = false;
      const idle = setTimeout(() => {
        silent = true;
        res.destroy();
      }, WATCH_IDLE_MS);
      try {
        // Read the response itself (not through readline): a connection reset mid-stream must reject here.
        let pending = '';
        res.setEncoding('utf8'); // decodes characters split across chunks
        for await (const chunk of res) {
          idle.refresh();
          const lines = (pending + (chunk as string)).split('\n');
          pending = lines.pop() ?? '';
          for (const line of lines) if (line.trim()) onEvent(JSON.parse(line) as WatchEvent<T>);
        }
      } catch (error) {
        if (controller.signal.aborted) throw new WatchAborted();
        if (silent) return;
        throw error;
      } finally {
        clearTimeout(idle);
      }
      if (controller.signal.aborted) throw new WatchAborted();
    })();
    return { done, abort: () => controller.abort() };
  }

  close(): void {
    this.agent.destroy();
  }
}

/** No answer within the request timeout (named like the DOM's TimeoutError, which callers already handle). */
export class ApiTimeoutError extends Error {
  constructor(method: string, path: string, timeoutMs: number) {
    super(`${method} ${path.split('?')[0]}: no answer from the API server within ${timeoutMs / 1000} s`);
    this.name = 'TimeoutError';
  }
}

/** The watch was stopped by its owner (not a failure). */
export class WatchAborted extends Error {
  constructor() {
    super('watch aborted');
    this.name = 'WatchAborted';
  }
}

async function readBody(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
