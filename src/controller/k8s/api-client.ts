import http from 'node:http';
import https from 'node:https';
import { ApiAbortedError, type ApiStatus, ApiTimeoutError, KubeApiError, WatchAborted } from './api-errors.js';
import type { ClusterAccess } from './cluster-access.js';
import { ConnectionPool } from './connection-pool.js';
import { type RateLimit, TokenBucket } from './rate-limiter.js';
import { type ApiRetry, DEFAULT_MAX_RETRIES, retryDelayMs, sleep } from './retry.js';

export { ApiAbortedError, ApiTimeoutError, KubeApiError, WatchAborted } from './api-errors.js';
export type { ApiRetry } from './retry.js';

/** client-node set no timeout on API requests; this bounds every one, retries included (watches keep their own timer). */
export const API_REQUEST_TIMEOUT_MS = 30_000;

/** No event and no bookmark for this long: the watch connection is presumed dead. */
const WATCH_IDLE_MS = 150_000;

/** Client-side rate limit on every API request (client-go's QPS/Burst), reporting each delayed request. */
export interface ApiThrottle {
  limit: RateLimit;
  onThrottled?: (waitMs: number) => void;
}

export interface KubeApiOptions {
  /** Bounds each request from its first attempt to its answer, retries and their waits included. */
  requestTimeoutMs?: number;
  throttle?: ApiThrottle;
  /** Retries of a 429 or 5xx answer that carries Retry-After (client-go: 10). */
  maxRetries?: number;
  /** Each retry, before its wait: for a metric. */
  onRetry?: (retry: ApiRetry) => void;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Content-Type of the body: JSON unless a patch type is named. */
  contentType?: string;
  accept?: string;
  /** Cancels the request, a rate-limit or retry wait included; it then rejects with ApiAbortedError. */
  signal?: AbortSignal;
  /** This request's bound instead of the client's requestTimeoutMs; past it the request is aborted. */
  timeoutMs?: number;
  /** The caller already waited its turn (`KubeApi.turn`): no rate-limit wait before the first attempt. */
  admitted?: boolean;
  /**
   * Asked synchronously just before each attempt is written to the socket; false cancels it (ApiAbortedError). A
   * signal's timer fires only once the event loop runs timers, so a process resumed after a freeze would send
   * what it had prepared first; this is asked with the clock of the moment.
   */
  sendIf?: () => boolean;
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

/** One attempt's answer: a status and headers, with the body still to read. */
type Answer = http.IncomingMessage;

/**
 * The operator's whole use of the Kubernetes API: JSON requests and watch streams over one keep-alive
 * connection pool. Each request is bounded by a timeout that starts after the client-side rate-limit wait
 * and covers its retries; at the timeout or at the caller's AbortSignal the connection is closed, so nothing
 * is left running. A 429 or 5xx with Retry-After is retried after the wait the server asked for, as client-go's
 * rest client does, unless that wait would pass the request's deadline. Lease requests skip the rate limit:
 * queued behind a burst of status writes, a renewal would miss its deadline and lose leadership.
 */
export class KubeApi {
  private readonly bucket: TokenBucket | undefined;
  private readonly transport: typeof http | typeof https;
  private readonly pool: ConnectionPool;
  readonly requestTimeoutMs: number;
  private readonly maxRetries: number;

  constructor(
    readonly access: ClusterAccess,
    private readonly options: KubeApiOptions = {},
  ) {
    const server = new URL(access.server);
    this.transport = server.protocol === 'https:' ? https : http;
    this.pool = new ConnectionPool(server, access.proxy);
    this.bucket = options.throttle && new TokenBucket(options.throttle.limit);
    this.requestTimeoutMs = options.requestTimeoutMs ?? API_REQUEST_TIMEOUT_MS;
    this.maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  }

  /**
   * Waits for a turn under the client-side rate limit, for a request sent with `admitted`: a caller can give
   * its queue worker back while it waits (WorkQueue.park), and make the signals that fence the request after it.
   */
  async turn(signal?: AbortSignal): Promise<void> {
    await this.admit('', signal);
  }

  private async admit(path: string, signal: AbortSignal | undefined): Promise<void> {
    if (path.startsWith('/apis/coordination.k8s.io/')) return;
    const waitMs = this.bucket?.reserve() ?? 0;
    if (waitMs <= 0) return;
    this.options.throttle?.onThrottled?.(waitMs);
    await sleep(waitMs, signal);
  }

  private url(path: string, query: RequestOptions['query']): URL {
    const url = new URL(this.access.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  private async open(method: string, path: string, options: RequestOptions, signal: AbortSignal): Promise<Answer> {
    const [auth, tls] = await Promise.all([this.access.headers(), this.access.tls()]);
    const agent = await this.pool.agent(tls);
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers: http.OutgoingHttpHeaders = {
      Accept: options.accept ?? 'application/json',
      'User-Agent': 'dbwatch',
      ...auth,
      ...(payload
        ? { 'Content-Type': options.contentType ?? 'application/json', 'Content-Length': String(payload.length) }
        : {}),
    };
    signal.throwIfAborted();
    if (options.sendIf && !options.sendIf()) throw new ApiAbortedError(method, path, new Error('not sent: sendIf'));
    const res = await new Promise<Answer>((resolve, reject) => {
      const req = this.transport.request(this.url(path, options.query), { method, headers, agent, signal });
      req.on('response', resolve);
      // A pooled connection the server closed as we reused it: say so, the caller may retry at once.
      req.on('error', (error: Error & { reusedSocket?: boolean }) => {
        error.reusedSocket = req.reusedSocket;
        reject(error);
      });
      req.end(payload);
    });
    if (res.statusCode === 401) this.access.refused?.();
    return res;
  }

  /**
   * Sends until an answer that is final: a 2xx, an error that is not retried, or the last retry. Returns the
   * final answer with its body unread. `signal` covers the attempts and the waits between them.
   */
  private async send(
    method: string,
    path: string,
    options: RequestOptions,
    signal: AbortSignal,
    deadline: number,
  ): Promise<Answer> {
    for (let attempt = 1; ; attempt++) {
      let res: Answer;
      try {
        res = await this.open(method, path, options, signal);
      } catch (error) {
        const e = error as { reusedSocket?: boolean; code?: unknown };
        const reset = e.code === 'ECONNRESET' || e.code === 'EPIPE';
        // kube-apiserver closes idle keep-alive connections; one reused just then fails before any answer.
        // Go's transport retries that case at once, and every call dbwatch makes is safe to repeat.
        if (reset && e.reusedSocket && attempt === 1 && !signal.aborted) continue;
        // client-go retries a GET whose connection was reset, as if told Retry-After: 1.
        const delay = reset && method === 'GET' && !signal.aborted ? 1000 : undefined;
        if (delay === undefined || !this.mayRetry(attempt, delay, deadline)) throw error;
        this.options.onRetry?.({ method, path: path.split('?')[0]!, code: String(e.code), attempt, waitMs: delay });
        await sleep(delay, signal);
        await this.admit(path, signal);
        continue;
      }
      const status = res.statusCode ?? 0;
      const delay = retryDelayMs(status, res.headers['retry-after']);
      if ((status >= 200 && status < 300) || delay === undefined || !this.mayRetry(attempt, delay, deadline)) {
        return res;
      }
      res.resume(); // drained, so the connection goes back to the pool
      this.options.onRetry?.({ method, path: path.split('?')[0]!, code: String(status), attempt, waitMs: delay });
      await sleep(delay, signal);
      await this.admit(path, signal);
    }
  }

  private mayRetry(attempt: number, delayMs: number, deadline: number): boolean {
    return attempt <= this.maxRetries && Date.now() + delayMs < deadline;
  }

  /** One call; resolves to the parsed JSON answer, rejects with KubeApiError on a non-2xx status. */
  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const { signal: caller } = options;
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    try {
      caller?.throwIfAborted();
      if (!options.admitted) await this.admit(path, caller);
    } catch (error) {
      if (caller?.aborted) throw new ApiAbortedError(method, path, caller.reason);
      throw error;
    }
    // The timeout starts after the rate-limit wait: it bounds the request, not the queue.
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = caller ? AbortSignal.any([caller, timeout]) : timeout;
    let status: number;
    let text: string;
    try {
      const res = await this.send(method, path, options, signal, Date.now() + timeoutMs);
      text = await readBody(res);
      status = res.statusCode ?? 0;
    } catch (error) {
      if (caller?.aborted) throw new ApiAbortedError(method, path, caller.reason);
      if (timeout.aborted) throw new ApiTimeoutError(method, path, timeoutMs);
      throw error;
    }
    const parsed = text ? safeJson(text) : undefined;
    if (status < 200 || status > 299) throw new KubeApiError(status, parsed as ApiStatus, method, path);
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
      await this.admit(path, controller.signal).catch(() => undefined);
      if (controller.signal.aborted) throw new WatchAborted();
      // Only the wait for the response head is bounded by the request timeout; the stream has its idle timer.
      const headTimeout = new AbortController();
      const headTimer = setTimeout(() => headTimeout.abort(), this.requestTimeoutMs);
      let res: Answer;
      try {
        res = await this.send(
          'GET',
          path,
          { query: { ...query, watch: true }, accept },
          AbortSignal.any([controller.signal, headTimeout.signal]),
          Date.now() + this.requestTimeoutMs,
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
        throw new KubeApiError(status, safeJson(await readBody(res)) as ApiStatus, 'WATCH', path);
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
    this.pool.close();
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
