/** client-go's rest client retries a request at most this many times. */
export const DEFAULT_MAX_RETRIES = 10;

/** A retry the client is about to make, for metrics: what answered and how long it waits. */
export interface ApiRetry {
  method: string;
  /** Without the query string. */
  path: string;
  /** The HTTP status ("429", "503") or the connection error ("ECONNRESET"). */
  code: string;
  /** The attempt that failed (1 = the first). */
  attempt: number;
  waitMs: number;
}

/**
 * How long to wait before retrying an answer, or undefined when it is final. As client-go's rest client
 * (checkWait): a 429 or any 5xx is retried only when the server sent Retry-After in whole seconds — API
 * Priority and Fairness always does on a 429; a 5xx without it (a failing webhook, an etcd error) is final.
 */
export function retryDelayMs(status: number, retryAfter: string | string[] | undefined): number | undefined {
  if (status !== 429 && status < 500) return undefined;
  const header = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
  if (header === undefined || !/^\s*\d+\s*$/.test(header)) return undefined;
  return Number(header) * 1000;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', abort);
      resolve();
    }, ms);
    const abort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', abort, { once: true });
  });
}
