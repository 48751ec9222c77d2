/** The Status object kube-apiserver sends with an error. */
export interface ApiStatus {
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: { reason?: string; message?: string }[] };
}

const withoutQuery = (path: string) => path.split('?')[0];

/** A non-2xx answer: `code` is the HTTP status, `body` the API server's Status object when it sent one. */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly body: ApiStatus | undefined,
    method: string,
    path: string,
  ) {
    // The path names the object; the server's message explains. Never the request body (it may hold a Secret).
    super(`${method} ${withoutQuery(path)}: HTTP ${code}${body?.message ? `: ${body.message}` : ''}`);
    this.name = 'KubeApiError';
  }
}

/** No answer within the request's timeout (named like the DOM's TimeoutError, which callers already handle). */
export class ApiTimeoutError extends Error {
  constructor(method: string, path: string, timeoutMs: number) {
    super(`${method} ${withoutQuery(path)}: no answer from the API server within ${timeoutMs / 1000} s`);
    this.name = 'TimeoutError';
  }
}

/** The caller's AbortSignal fired: the request was cancelled, its connection closed. */
export class ApiAbortedError extends Error {
  constructor(method: string, path: string, reason: unknown) {
    super(`${method} ${withoutQuery(path)}: cancelled`, { cause: reason });
    this.name = 'AbortError';
  }
}

/** The watch was stopped by its owner (not a failure). */
export class WatchAborted extends Error {
  constructor() {
    super('watch aborted');
    this.name = 'WatchAborted';
  }
}

/** An error the operator expects from the network or the API server (as opposed to a bug). */
export function isExpected(error: unknown): boolean {
  if (error instanceof KubeApiError || error instanceof ApiTimeoutError || error instanceof ApiAbortedError)
    return true;
  // Node's system errors (ECONNREFUSED, ENOTFOUND, TLS codes…); not `instanceof Error`, which fails across realms.
  const e = error as { code?: unknown; message?: unknown } | undefined;
  return typeof e?.code === 'string' && typeof e.message === 'string';
}

/**
 * Log fields for an error: expected ones as one line of text (`error`, with what cancelled a request), bugs as
 * `err` with their stack. A refused connection or a 429 from a starting API server is not worth 20 lines of
 * stack trace per retry.
 */
export function errorFields(error: unknown): { error: string } | { err: unknown } {
  if (!isExpected(error)) return { err: error };
  const { message, cause } = error as Error & { cause?: { message?: unknown } };
  return { error: typeof cause?.message === 'string' ? `${message}: ${cause.message}` : message };
}

/** HTTP status of a client error (KubeApiError.code, or a Status's code). */
export function statusCodeOf(error: unknown): number | undefined {
  const e = error as { code?: unknown; statusCode?: unknown };
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return undefined;
}

/**
 * The resourceVersion asked for is newer than the API server's cache knows (after an etcd restore, or a server
 * behind its peers): list again from the latest, as client-go's reflector does on this error.
 */
export function isTooLargeResourceVersion(error: unknown): boolean {
  const body = (error as { body?: ApiStatus })?.body;
  return statusCodeOf(error) === 504 && !!body?.details?.causes?.some((c) => c.reason === 'ResourceVersionTooLarge');
}
